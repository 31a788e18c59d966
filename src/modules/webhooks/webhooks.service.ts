/**
 * Webhooks (docs/webhooks.md): endpoints per tenant subscribed to event types, signed per Standard Webhooks with
 * secrets that rotate with an overlap, a delivery per event and endpoint made by the outbox fan-out (`consumer()`),
 * sent by the `webhooks.deliver` job with retries over more than 24 hours, in order per member, logged attempt by
 * attempt, replayable, and an endpoint failing for 5 days is disabled and its tenant told.
 *
 * Nothing the delivery machinery does emits an event except disabling an endpoint (once per disabling, and never
 * delivered to the endpoint it disabled, which is no longer active): so delivering webhook_endpoint.* events to the
 * tenant's endpoints, the endpoint itself included, cannot loop.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import { withSavepoint, type Db, type Queryable, type Tx } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { checkHttpUrl } from '../../platform/http/urls.js';
import { newId } from '../../platform/ids.js';
import type { OutboxConsumer } from '../../platform/outbox/dispatch.js';
import { isEventType } from '../../platform/outbox/catalog.js';
import { emit } from '../../platform/outbox/outbox.js';
import { isPrivateAddress } from './webhooks.addresses.js';
import { postWebhook, type AttemptResult } from './webhooks.delivery.js';
import { nextAttemptAt } from './webhooks.retry.js';
import { eventBody, newSecret, webhookHeaders } from './webhooks.signing.js';
import * as store from './webhooks.store.js';
import type { AttemptRow, ClaimedDelivery, DeliveryFilter, DeliveryRow, DeliveryStatus, EndpointRow, EndpointStatus } from './webhooks.store.js';

export type { AttemptRow, DeliveryRow, EndpointRow } from './webhooks.store.js';

const DAY = 24 * 3600_000;
/** An endpoint whose attempts have all failed for this long is disabled. */
export const DISABLE_AFTER_MS = 5 * DAY;
/** The most events one range replay may queue (a larger range is a 422: split it). */
export const REPLAY_LIMIT = 10_000;
/** WEBHOOK_LOG_RETENTION_DAYS's default, and the rows one purge statement deletes. */
const DEFAULT_LOG_RETENTION_DAYS = 30;
const PURGE_BATCH = 5000;
/** A fan-out of this many deliveries is a bulk load (see the fan-out). */
const ANALYZE_AFTER_ROWS = 1000;
export const MAX_EVENT_TYPES = 100;
/** Deliveries sent at once per tenant, and claimed per round. */
const CONCURRENCY = 32;
/** Attempts in flight at once to one endpoint (one only while it is failing: a probe). */
export const PER_ENDPOINT = 8;
/** Tenants served at once in a run: a tenant whose round waits on a slow receiver holds one lane, not the run. */
const TENANT_LANES = 4;
/**
 * The time one tenant may use in one run (between its rounds: a round started is finished); then it waits for the
 * next run, and the others go on. With round-robin between tenants, a tenant with a large backlog or slow receivers
 * cannot keep the others waiting.
 */
const TENANT_BUDGET_MS = 10_000;
/**
 * A delivery is leased for twice the send's timeout plus 5 s (time to record the attempt, a slow database): long
 * enough that no other worker takes it while it is being sent, short enough that a crashed worker's deliveries are
 * retried soon (35 s with the default 15 s timeout).
 */
const leaseMs = (timeoutMs: number) => 2 * timeoutMs + 5000;
const isSuccess = (r: AttemptResult) => r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** A claimed delivery as sent: when, and what the receiver answered (or why it could not be sent). */
interface Sent {
  d: ClaimedDelivery;
  at: Date;
  result: AttemptResult;
}

/** Tells the tenant (its notification email) that an endpoint was disabled; wired to the messaging module. */
export type NotifyDisabled = (tx: Tx, tenantId: string, info: { endpointId: string; url: string; failingSince: Date | null; reason: string }) => Promise<void>;

export interface WebhooksDeps {
  clock: Clock;
  log: Logger;
  notifyDisabled: NotifyDisabled;
  /** Per attempt (default 15 s). */
  timeoutMs?: number;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: URLs may reach loopback and private addresses (development and tests only). */
  allowPrivateNetworks: boolean;
  /** The time one tenant may use in one run (default TENANT_BUDGET_MS). */
  tenantBudgetMs?: number;
  /** WEBHOOK_LOG_RETENTION_DAYS: how long finished deliveries stay in the log (default 30). */
  logRetentionDays?: number;
}

export interface EndpointInput {
  url: string;
  description?: string;
  event_types: string[];
  status?: EndpointStatus;
}
export type EndpointPatch = Partial<EndpointInput>;

export interface ReplayRangeInput {
  from: string;
  to: string;
  event_types?: string[];
  status?: 'failed' | 'all' | 'missed';
}

export type EndpointView = EndpointRow;
export interface CreatedEndpoint extends EndpointView {
  /** Shown once, at creation (GET …/secret for admin keys afterwards). */
  secret: string | null;
}
export interface DeliverResult {
  tenants: number;
  attempts: number;
  succeeded: number;
  failed_attempts: number;
}

export class WebhooksService {
  private readonly timeoutMs: number;

  constructor(private readonly deps: WebhooksDeps) {
    this.timeoutMs = deps.timeoutMs ?? 15_000;
  }

  // ── Endpoints ──────────────────────────────────────────────────────────────

  async create(tx: Tx, tenantId: string, input: EndpointInput): Promise<CreatedEndpoint> {
    const errs = [...urlErrors('url', input.url, this.deps.allowPrivateNetworks), ...eventTypeErrors(input.event_types)];
    if (errs.length > 0) throw errors.validation(errs);
    const now = this.deps.clock.now();
    const status = input.status ?? 'active';
    const row = await store.insertEndpoint(tx, tenantId, {
      id: newId(), url: input.url, description: input.description ?? '', event_types: input.event_types, status,
      disabled_reason: status === 'disabled' ? 'manual' : null, disabled_at: status === 'disabled' ? now : null,
      failing_since: null, last_success_at: null, created_at: now, updated_at: now,
    });
    const secret = newSecret();
    await store.insertSecret(tx, tenantId, row.id, secret, now);
    // No URL in the events either: receivers often carry a token in it, and events go to every '*' endpoint.
    await this.emit(tx, tenantId, 'webhook_endpoint.created', row.id, { event_types: row.event_types, status: row.status });
    return { ...row, secret };
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<EndpointView> {
    const row = await store.getEndpoint(q, tenantId, id);
    if (!row) throw errors.notFound('webhook endpoint', id);
    return row;
  }

  list(q: Queryable, tenantId: string, opts: { status?: EndpointStatus; beforeId?: string; limit: number }): Promise<EndpointView[]> {
    return store.listEndpoints(q, tenantId, opts);
  }

  /**
   * Changes an endpoint. status 'disabled' by hand records disabled_reason 'manual'; status 'active' re-enables it:
   * the failing clock restarts and its pending deliveries (kept, parked, while it was disabled) go out again: each
   * member's first one at once, the next ones in order after it.
   */
  async update(tx: Tx, tenantId: string, id: string, patch: EndpointPatch): Promise<EndpointView> {
    const errs = [...(patch.url !== undefined ? urlErrors('url', patch.url, this.deps.allowPrivateNetworks) : []), ...(patch.event_types !== undefined ? eventTypeErrors(patch.event_types) : [])];
    if (errs.length > 0) throw errors.validation(errs);
    // FOR NO KEY UPDATE, not FOR UPDATE: the fan-out's inserts (foreign-key checks on this row) go on meanwhile, so
    // parking below cannot deadlock with a fan-out holding the member's pending deliveries.
    const before = await store.lockEndpoint(tx, tenantId, id);
    if (!before) throw errors.notFound('webhook endpoint', id);
    const now = this.deps.clock.now();
    const next: EndpointRow = {
      ...before,
      url: patch.url ?? before.url,
      description: patch.description ?? before.description,
      event_types: patch.event_types ?? before.event_types,
      updated_at: now,
    };
    const changed: string[] = (['url', 'description', 'event_types'] as const).filter((k) => JSON.stringify(next[k]) !== JSON.stringify(before[k]));
    let disabled = false;
    let enabled = false;
    if (patch.status !== undefined && patch.status !== before.status) {
      changed.push('status');
      if (patch.status === 'active') {
        Object.assign(next, { status: 'active', disabled_reason: null, disabled_at: null, failing_since: null });
        enabled = true;
      } else {
        Object.assign(next, { status: 'disabled', disabled_reason: 'manual', disabled_at: now });
        disabled = true;
      }
    }
    if (changed.length === 0) return before;
    const row = await store.updateEndpoint(tx, tenantId, next);
    if (enabled) await store.wakeEndpoint(tx, tenantId, id, now);
    if (disabled) await store.parkEndpoint(tx, tenantId, id);
    await this.emit(tx, tenantId, 'webhook_endpoint.updated', id, { changed_fields: changed, status: row.status });
    if (disabled) await this.emit(tx, tenantId, 'webhook_endpoint.disabled', id, { reason: 'manual', failing_since: null });
    return row;
  }

  /** Deletes the endpoint with its secrets, deliveries and their log. */
  async remove(tx: Tx, tenantId: string, id: string): Promise<{ id: string; deleted: true }> {
    const row = await store.getEndpoint(tx, tenantId, id, { lock: true });
    if (!row) throw errors.notFound('webhook endpoint', id);
    await store.deleteEndpoint(tx, tenantId, id);
    await this.emit(tx, tenantId, 'webhook_endpoint.deleted', id, {});
    return { id, deleted: true };
  }

  /** The current signing secret, and until when a rotated-out one still signs beside it. */
  async secret(q: Queryable, tenantId: string, id: string): Promise<{ endpoint_id: string; secret: string; created_at: Date; previous_expires_at: Date | null }> {
    await this.get(q, tenantId, id);
    const secrets = await store.signingSecrets(q, tenantId, id, this.deps.clock.now());
    const current = secrets.find((s) => s.expires_at === null) ?? secrets[0];
    if (!current) throw errors.unprocessable('The endpoint has no signing secret: rotate it to make one.');
    const previous = secrets.filter((s) => s !== current).map((s) => s.expires_at!.getTime());
    return { endpoint_id: id, secret: current.secret, created_at: current.created_at, previous_expires_at: previous.length ? new Date(Math.max(...previous)) : null };
  }

  /**
   * A new secret that signs from now on; the previous one keeps signing beside it for `overlap_hours` (both
   * signatures in webhook-signature), then stops. 0: the previous one stops at once.
   */
  async rotateSecret(tx: Tx, tenantId: string, id: string, input: { overlap_hours?: number }): Promise<{ endpoint_id: string; secret: string; created_at: Date; previous_expires_at: Date }> {
    const row = await store.getEndpoint(tx, tenantId, id, { lock: true });
    if (!row) throw errors.notFound('webhook endpoint', id);
    const overlap = input.overlap_hours ?? 24;
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + overlap * 3600_000);
    await store.expireSecrets(tx, tenantId, id, now, expiresAt);
    const secret = newSecret();
    await store.insertSecret(tx, tenantId, id, secret, now);
    await this.emit(tx, tenantId, 'webhook_endpoint.secret_rotated', id, { overlap_hours: overlap, previous_expires_at: expiresAt.toISOString() });
    return { endpoint_id: id, secret, created_at: now, previous_expires_at: expiresAt };
  }

  // ── Fan-out (an outbox consumer) ───────────────────────────────────────────

  /**
   * The outbox consumer `webhooks`: one delivery per event and active endpoint subscribed to its type, due now, or
   * parked behind the member's earlier pending delivery to the endpoint (store.insertDeliveries).
   */
  consumer(): OutboxConsumer {
    return {
      name: 'webhooks',
      handle: async (tx, tenantId, events) => {
        const endpoints = await store.activeEndpoints(tx, tenantId);
        if (endpoints.length === 0) return;
        const now = this.deps.clock.now();
        const rows: store.NewDelivery[] = [];
        for (const event of events) {
          // Never due before the event occurred: a dispatching process whose clock is behind the one that wrote the
          // event (clock skew; in tests, a process on the real clock beside one set in the future) does not send it
          // early.
          const dueAt = event.occurred_at > now ? event.occurred_at : now;
          for (const e of endpoints) {
            if (e.event_types.includes('*') || e.event_types.includes(event.type)) rows.push({ endpointId: e.id, event, kind: 'event', dueAt });
          }
        }
        if (rows.length > 0) await store.insertDeliveries(tx, tenantId, rows, now);
        // A first backlog into a table that has never been analyzed (a fresh database; autovacuum off or not yet
        // round): without statistics the planner takes any index that matches the tenant for the pump's look-ups
        // and reads the whole queue for each delivery (bench:webhooks: 2.5 times slower). PostgreSQL's advice after
        // a bulk load: ANALYZE. Once analyzed, estimates follow the table's growth by its size.
        if (rows.length >= ANALYZE_AFTER_ROWS) await store.analyzeIfNeverAnalyzed(tx);
      },
    };
  }

  // ── Sending ────────────────────────────────────────────────────────────────

  /**
   * Sends the due deliveries of every tenant (or of `tenantId`): the `webhooks.deliver` job. Tenants are served
   * round-robin, one round each in turn, by TENANT_LANES lanes at once; a tenant leaves the run when it has nothing
   * due or has used its time budget (the next run, DELIVERY_POLL_MS later, takes it up again).
   */
  async deliverDue(db: Db, opts: { tenantId?: string } = {}): Promise<DeliverResult> {
    const ids = opts.tenantId ? [opts.tenantId] : await store.tenantsWithDueDeliveries(db, this.deps.clock.now());
    const total: DeliverResult = { tenants: ids.length, attempts: 0, succeeded: 0, failed_attempts: 0 };
    const budget = this.deps.tenantBudgetMs ?? TENANT_BUDGET_MS;
    const queue = [...ids];
    const spent = new Map<string, number>();
    const lane = async () => {
      for (let tenantId = queue.shift(); tenantId !== undefined; tenantId = queue.shift()) {
        const started = performance.now();
        let more = false;
        try {
          const r = await this.deliverRound(db, tenantId);
          total.attempts += r.attempts;
          total.succeeded += r.succeeded;
          total.failed_attempts += r.failed_attempts;
          more = r.attempts > 0;
        } catch (err) {
          this.deps.log.error({ err, tenant_id: tenantId }, 'webhook delivery failed for a tenant');
        }
        const used = (spent.get(tenantId) ?? 0) + performance.now() - started;
        spent.set(tenantId, used);
        // To the back of the queue: every other tenant gets its round first.
        if (more && used < budget) queue.push(tenantId);
      }
    };
    await Promise.all(Array.from({ length: Math.min(TENANT_LANES, Math.max(ids.length, 1)) }, lane));
    return total;
  }

  /**
   * One round of one tenant: claims due deliveries (leased, committed; at most PER_ENDPOINT in flight per endpoint,
   * one to a failing endpoint), sends them in parallel, then records every attempt in one transaction. A member's
   * next event is due as soon as the previous one finished, so the next round of the same run sends it.
   */
  async deliverRound(db: Db, tenantId: string): Promise<Omit<DeliverResult, 'tenants'>> {
    const out = { attempts: 0, succeeded: 0, failed_attempts: 0 };
    const now = this.deps.clock.now();
    const lease = new Date(now.getTime() + leaseMs(this.timeoutMs));
    const claimed = await db.tx((tx) => store.claimDue(tx, tenantId, now, lease, CONCURRENCY, PER_ENDPOINT));
    if (claimed.length === 0) return out;
    // The signing secrets of each endpoint, read once per round.
    const secrets = new Map<string, Promise<string[]>>();
    const secretsOf = (endpointId: string, at: Date) => {
      let p = secrets.get(endpointId);
      if (!p) secrets.set(endpointId, (p = store.signingSecrets(db, tenantId, endpointId, at).then((rows) => rows.map((r) => r.secret))));
      return p;
    };
    // Every attempt runs to its end (send never throws) before any is recorded: none is left running behind the job.
    const sent = await Promise.all(claimed.map((d) => this.send(d, secretsOf)));
    await db.tx((tx) => this.record(tx, tenantId, sent, lease));
    for (const x of sent) {
      out.attempts++;
      if (isSuccess(x.result)) out.succeeded++;
      else out.failed_attempts++;
    }
    return out;
  }

  /** Sends one claimed delivery; a failure to send (no secret, a refused address) is a failed attempt, never thrown. */
  private async send(d: ClaimedDelivery, secretsOf: (endpointId: string, at: Date) => Promise<string[]>): Promise<Sent> {
    const at = this.deps.clock.now();
    try {
      const secrets = await secretsOf(d.endpoint_id, at);
      const body = eventBody(d.event);
      return { d, at, result: await postWebhook(d.url, webhookHeaders(secrets, d.event_id, at, body), body, this.timeoutMs, { allowPrivateNetworks: this.deps.allowPrivateNetworks }) };
    } catch (err) {
      return { d, at, result: { statusCode: null, durationMs: 0, error: `not sent: ${(err as Error).message}`.slice(0, 500), responseBody: null } };
    }
  }

  /**
   * Records a round's attempts and what follows from them in one transaction rather than one each: a round costs one
   * commit, and each endpoint row is locked once.
   *
   * Locks are taken in one order: the round's endpoints first, by id (deleting, disabling and re-enabling an
   * endpoint lock it first too, and so wait for these outcomes or come before them), then per endpoint its
   * deliveries by (member, event), the order in which the fan-out locks a member's pending deliveries
   * (insertDeliveries), and the endpoint's own health last (a disable parks its deliveries before the next endpoint's
   * are touched). Each endpoint's part is a savepoint: should it fail (a deadlock all the same, a notification that
   * cannot be queued), only that endpoint's attempts go unrecorded, and they are attempted again when their leases
   * run out (at least once); the other endpoints' outcomes stand.
   */
  private async record(tx: Tx, tenantId: string, sent: Sent[], lease: Date): Promise<void> {
    const endpoints = await store.lockEndpoints(tx, tenantId, [...new Set(sent.map((x) => x.d.endpoint_id))]);
    // In id order (lockEndpoints's); an endpoint deleted meanwhile took its deliveries with it: nothing to record.
    for (const [endpointId, endpoint] of endpoints) {
      const group = sent.filter((x) => x.d.endpoint_id === endpointId);
      try {
        await withSavepoint(tx, () => this.recordEndpoint(tx, tenantId, endpoint, group, lease));
      } catch (err) {
        this.deps.log.error({ err, tenant_id: tenantId, endpoint_id: endpointId }, 'recording webhook attempts failed; they are retried when their leases run out');
      }
    }
  }

  /** One endpoint's part of a round: its attempts, their deliveries' outcomes, and the endpoint's health. */
  private async recordEndpoint(tx: Tx, tenantId: string, endpoint: EndpointRow, group: Sent[], lease: Date): Promise<void> {
    await store.insertAttempts(tx, tenantId, group.map(({ d, at, result }) => ({
      id: newId(), delivery_id: d.id, endpoint_id: d.endpoint_id, attempted_at: at, duration_ms: result.durationMs,
      status_code: result.statusCode, error: result.error, response_body: result.responseBody,
    })));
    const active = endpoint.status === 'active';
    const recorded: Sent[] = [];
    for (const x of [...group].sort((a, b) => cmp(a.d.member_id ?? '', b.d.member_id ?? '') || Number(a.d.event_seq) - Number(b.d.event_seq))) {
      const { d, at, result } = x;
      const ok = isSuccess(result);
      // 410 Gone: the receiver says this endpoint is no more (Standard Webhooks): no retry, and the endpoint is
      // disabled at once rather than failing for 5 days.
      const retryAt = ok || result.statusCode === 410 ? null : nextAttemptAt(d.attempts + 1, d.first_attempt_at ?? at, at);
      const status: DeliveryStatus = ok ? 'succeeded' : retryAt ? 'pending' : 'failed';
      const done = await store.finishAttempt(tx, tenantId, d.id, lease, {
        status, statusCode: result.statusCode, error: ok ? null : result.error ?? `HTTP ${result.statusCode}`,
        // A retry of a delivery to an endpoint disabled meanwhile waits, parked, for it to be re-enabled.
        nextAttemptAt: retryAt && !active ? 'infinity' : retryAt, at,
      });
      // Our lease ran out and another worker has the delivery: the attempt stays in the log, its outcome is theirs.
      if (!done) continue;
      recorded.push(x);
      if (status !== 'pending' && active && d.kind === 'event' && d.member_id) await store.promoteNext(tx, tenantId, d.endpoint_id, d.member_id, at);
    }
    // The endpoint's health, as if its outcomes had come one by one in the order they ended: a success stops the
    // failing clock; a failure after the last success starts it (or it runs on) and, after 5 days of nothing but
    // failures, disables the endpoint; a 410 disables it at once.
    const ended = (x: Sent) => x.at.getTime() + x.result.durationMs;
    let lastSuccess: Date | null = null;
    let failingFrom: Date | null = null;
    let lastFailure: Date | null = null;
    for (const x of recorded.sort((a, b) => ended(a) - ended(b))) {
      if (isSuccess(x.result)) {
        lastSuccess = x.at;
        failingFrom = null;
      } else {
        failingFrom ??= x.at;
        lastFailure = x.at;
      }
    }
    if (lastSuccess) await store.endpointSucceeded(tx, tenantId, endpoint.id, lastSuccess);
    const gone = recorded.find((x) => x.result.statusCode === 410);
    if (!failingFrom && !gone) return;
    const failing = await store.endpointFailed(tx, tenantId, endpoint.id, failingFrom ?? gone!.at);
    const last = lastFailure ?? gone!.at;
    if (failing && failing.status === 'active' && (gone || (failing.failing_since && last.getTime() - failing.failing_since.getTime() >= DISABLE_AFTER_MS))) {
      await this.disable(tx, tenantId, failing, gone ? 'gone' : 'failing', last);
    }
  }

  private async disable(tx: Tx, tenantId: string, endpoint: EndpointRow, reason: 'failing' | 'gone', at: Date): Promise<void> {
    await store.updateEndpoint(tx, tenantId, { ...endpoint, status: 'disabled', disabled_reason: reason, disabled_at: at, updated_at: at });
    await store.parkEndpoint(tx, tenantId, endpoint.id);
    await this.emit(tx, tenantId, 'webhook_endpoint.disabled', endpoint.id, { reason, failing_since: endpoint.failing_since?.toISOString() ?? null });
    await this.deps.notifyDisabled(tx, tenantId, { endpointId: endpoint.id, url: endpoint.url, failingSince: endpoint.failing_since, reason });
    this.deps.log.warn({ tenant_id: tenantId, endpoint_id: endpoint.id, reason }, 'webhook endpoint disabled');
  }

  // ── Delivery log and replay ────────────────────────────────────────────────

  listDeliveries(q: Queryable, tenantId: string, f: DeliveryFilter): Promise<DeliveryRow[]> {
    return store.listDeliveries(q, tenantId, f);
  }

  async getDelivery(q: Queryable, tenantId: string, id: string): Promise<DeliveryRow & { attempt_log: AttemptRow[] }> {
    const row = await store.getDelivery(q, tenantId, id);
    if (!row) throw errors.notFound('webhook delivery', id);
    return { ...row, attempt_log: await store.attemptsOf(q, tenantId, id) };
  }

  async listAttempts(q: Queryable, tenantId: string, endpointId: string, opts: { beforeId?: string; limit: number }): Promise<AttemptRow[]> {
    await this.get(q, tenantId, endpointId);
    return store.listAttempts(q, tenantId, endpointId, opts);
  }

  /**
   * A new delivery (kind 'replay') of the same event to the same endpoint, due at once, with the same webhook-id and
   * body. A replay never waits for nor holds up the member's other deliveries. To a disabled endpoint it waits until
   * the endpoint is enabled again.
   */
  async replayDelivery(tx: Tx, tenantId: string, id: string): Promise<DeliveryRow> {
    const original = await store.getDelivery(tx, tenantId, id);
    if (!original) throw errors.notFound('webhook delivery', id);
    const event = await store.eventOf(tx, tenantId, original.event_id);
    if (!event) throw errors.notFound('event', original.event_id);
    // Locked: a replay to a disabled endpoint is parked, and one being re-enabled at this moment must see it.
    await store.lockEndpoint(tx, tenantId, original.endpoint_id);
    const [newIdOf] = await store.insertDeliveries(tx, tenantId, [{ endpointId: original.endpoint_id, event, kind: 'replay' }], this.deps.clock.now());
    return (await store.getDelivery(tx, tenantId, newIdOf!))!;
  }

  /**
   * Replays to one endpoint the events of [from, to) it is subscribed to: only the failed ones (status 'failed', the
   * default), all of them, or those it has no delivery of since it was created ('missed': made while it was disabled,
   * when the fan-out makes none). Returns how many.
   */
  async replayRange(tx: Tx, tenantId: string, endpointId: string, input: ReplayRangeInput): Promise<{ endpoint_id: string; replayed: number }> {
    const from = new Date(input.from);
    const to = new Date(input.to);
    const errs: FieldError[] = [];
    if (Number.isNaN(from.getTime())) errs.push({ field: 'from', detail: 'must be a date-time' });
    if (Number.isNaN(to.getTime())) errs.push({ field: 'to', detail: 'must be a date-time' });
    else if (!Number.isNaN(from.getTime()) && to <= from) errs.push({ field: 'to', detail: 'must be after from' });
    if (input.event_types) errs.push(...eventTypeErrors(input.event_types).filter((e) => e.detail !== STAR_ALONE));
    if (errs.length > 0) throw errors.validation(errs);
    const endpoint = await store.lockEndpoint(tx, tenantId, endpointId);
    if (!endpoint) throw errors.notFound('webhook endpoint', endpointId);
    const only = input.event_types && !input.event_types.includes('*') ? input.event_types : null;
    // Whether an event failed or was missed is known only while its deliveries are in the log: not before the
    // retention's horizon, nor before what was purged (the retention may have been raised since).
    const purged = await store.purgedBefore(tx, tenantId);
    const since = new Date(Math.max(endpoint.created_at.getTime(), this.logHorizon().getTime(), purged?.getTime() ?? -Infinity));
    const events = await store.eventsForReplay(tx, tenantId, {
      endpointId, from, to, types: endpoint.event_types, only, mode: input.status ?? 'failed', since, limit: REPLAY_LIMIT + 1,
    });
    if (events.length > REPLAY_LIMIT) {
      throw errors.unprocessable(`The range holds more than ${REPLAY_LIMIT} events to replay: split it into smaller ranges.`, [{ field: 'to', detail: `more than ${REPLAY_LIMIT} events in the range` }]);
    }
    await store.insertDeliveries(tx, tenantId, events.map((event) => ({ endpointId, event, kind: 'replay' as const })), this.deps.clock.now());
    return { endpoint_id: endpointId, replayed: events.length };
  }

  /** Finished deliveries that finished before this are purged from the log. */
  private logHorizon(): Date {
    return new Date(this.deps.clock.now().getTime() - (this.deps.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS) * DAY);
  }

  /**
   * Retention (the `webhooks.purge` job): deletes the tenant's deliveries that finished before the horizon, with
   * their attempts, in batches of PURGE_BATCH (short transactions). Pending deliveries stay, however old.
   */
  async purgeLog(db: Db, tenantId: string): Promise<number> {
    const before = this.logHorizon();
    let deleted = 0;
    for (;;) {
      const n = await store.purgeFinishedDeliveries(db, tenantId, before, PURGE_BATCH);
      deleted += n;
      if (n < PURGE_BATCH) break;
    }
    if (deleted > 0) await store.notePurgedBefore(db, tenantId, before);
    return deleted;
  }

  /**
   * Erasure: what receivers answered to the deliveries of the member's events is blanked (the first 2 KB of an answer
   * may echo what was sent). The payloads themselves are the outbox's: events carry ids, and the few that must carry
   * personal data are redacted by their owners (the SMS/push requests, messaging.sender).
   */
  async eraseMember(tx: Queryable, tenantId: string, memberId: string): Promise<void> {
    await store.blankMemberResponses(tx, tenantId, memberId);
  }

  private async emit(tx: Tx, tenantId: string, type: string, endpointId: string, payload: Record<string, unknown>): Promise<void> {
    await emit(tx, { tenantId, type, aggregateType: 'webhook_endpoint', aggregateId: endpointId, payload: { endpoint_id: endpointId, ...payload }, occurredAt: this.deps.clock.now() });
  }

  /** Whether an event of this type would reach anyone: an active endpoint subscribed to it (or to '*'). */
  hasActiveSubscriber(q: Queryable, tenantId: string, eventType: string): Promise<boolean> {
    return store.hasActiveSubscriber(q, tenantId, eventType);
  }
}

// ── Validation ───────────────────────────────────────────────────────────────

const STAR_ALONE = "'*' (every type) must be the only item";

/** '*' alone, or event types of the catalog (docs/events.md), each once. */
export function eventTypeErrors(types: string[], field = 'event_types'): FieldError[] {
  const errs: FieldError[] = [];
  types.forEach((t, i) => {
    if (t === '*') {
      if (types.length > 1) errs.push({ field: `${field}[${i}]`, detail: STAR_ALONE });
    } else if (!isEventType(t)) errs.push({ field: `${field}[${i}]`, detail: `is not a known event type (see docs/events.md): ${JSON.stringify(t).slice(0, 100)}` });
  });
  return errs;
}

const LOCAL_SUFFIXES = ['.localhost', '.local', '.internal', '.test'];

/**
 * An absolute http(s) URL without credentials or fragment. Plain http only for loopback and local development hosts
 * (localhost, 127.0.0.0/8, ::1, a name without a dot such as a Docker service, *.localhost, *.local, *.internal,
 * *.test): everything else must be https, since the payloads describe the tenant's members. Unless private networks
 * are allowed (WEBHOOK_ALLOW_PRIVATE_NETWORKS), a literal private, loopback or link-local address (and localhost) is
 * refused here already; names are checked when sending (webhooks.addresses.ts), where DNS can be trusted no further.
 */
export function urlErrors(field: string, raw: string, allowPrivateNetworks: boolean): FieldError[] {
  const { url: u, problem } = checkHttpUrl(raw);
  if (!u) return [{ field, detail: problem }];
  if (u.hash) return [{ field, detail: 'must not have a #fragment' }];
  const host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (!allowPrivateNetworks && ((net.isIP(host) && isPrivateAddress(host)) || host === 'localhost' || host.endsWith('.localhost'))) {
    return [{ field, detail: 'must not point at a private, loopback or link-local address (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)' }];
  }
  if (u.protocol === 'http:' && !isLocalHost(host)) return [{ field, detail: 'must be https (plain http only for loopback and local development hosts)' }];
  return [];
}

function isLocalHost(h: string): boolean {
  if (h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h)) return true;
  if (/^[\d.]+$/.test(h) || h.includes(':')) return false;
  return !h.includes('.') || LOCAL_SUFFIXES.some((s) => h.endsWith(s));
}

export type { DeliveryStatus };
