/**
 * The sender (docs/messaging.md#the-sender): sends what is due in the send log. Run by the `messages.send` pump
 * every DELIVERY_POLL_MS, in as many processes as there are.
 *
 * Per tenant with due messages: claim them (FOR UPDATE SKIP LOCKED, with a lease, oldest send_after first, within
 * the tenant's rate limit), then, SEND_CONCURRENCY at a time (a member's one after the other: inLanes), take the
 * message's lease again (skipping a message another sender took over meanwhile) and decide it AT SEND TIME, so a
 * consent withdrawn, an address changed or a bounce after the message was queued is respected:
 *
 *   member erased or blocked       -> suppressed member_erased / member_blocked
 *   no address for the channel     -> suppressed no_address  (a member's CURRENT email or phone; `to` of a non-member)
 *   marketing without consent      -> suppressed no_consent   (per channel; transactional ignores marketing consent)
 *   address on the suppression list-> suppressed address_suppressed (transactional too)
 *   marketing inside quiet hours   -> queued again until the quiet period ends (member's time zone, else the tenant's)
 *   SMS/push and no active webhook endpoint subscribed to its event -> failed no_provider
 *
 * then render it (the templates, in the message's language; marketing gets its signed unsubscribe link, every
 * message the tenant's portal link) and send it: email through the mailer, SMS and push as an outbox event that the
 * tenant's webhook endpoints receive. What became of it is recorded with an outbox event (message.sent / failed /
 * bounced / suppressed).
 *
 * Crash safety: a claimed message is `sending` with `locked_until`; a sender that dies leaves it so, and when the
 * lease has run out the next run claims it again. So a message is sent at least once — twice only if the process
 * died between the SMTP server accepting it and the row being written. Two live senders never send the same message:
 * each takes the message's lease again right before it handles it, and skips it when that fails.
 */
import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/db.js';
import { SMTP_CONNECTIONS, type Mailer } from '../../platform/mail/mailer.js';
import { emit, redactMemberEvents } from '../../platform/outbox/outbox.js';
import type { MemberRow, MembersService } from '../members/members.service.js';
import type { TenantRow } from '../tenants/tenants.store.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { displayName, memberAddress, messageEventPayload } from './messaging.service.js';
import type { MessagingSettingsService, QuietHours, SenderSettings } from './messaging.settings.js';
import * as store from './messaging.store.js';
import { emailSha256, withoutAddress, type SuppressionsService } from './messaging.suppressions.js';
import type { Locale, MessageCategory, RenderedMessage, TriggerName } from './messaging.types.js';
import { signUnsubscribeToken, unsubscribeUrl } from './unsubscribe/unsubscribe.token.js';

/** SMS and push are not sent by Patron: they are handed to the tenant's provider as these events (`handOver`). */
const HANDOVER_EVENT = { sms: 'message.sms_requested', push: 'message.push_requested' } as const;
/** The personal fields of a handover event's payload, blanked when the member is erased. */
const HANDOVER_PERSONAL_FIELDS = ['to', 'subject', 'text'];

/** The templates (messaging/templates/): a trigger's subject, HTML and text in one language. */
export interface MessageRenderer {
  render(q: Queryable, tenantId: string, trigger: TriggerName, locale: Locale, variables: Record<string, unknown>, opts: { category: MessageCategory }): Promise<RenderedMessage>;
}

export interface SenderDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  members: Pick<MembersService, 'find' | 'get' | 'lockShared'>;
  tenants: Pick<TenantsService, 'getTenant'>;
  settings: MessagingSettingsService;
  suppressions: SuppressionsService;
  templates: MessageRenderer;
  mailer: Mailer;
  /** The sender address of tenants that have not set their own (SMTP_FROM). */
  smtpFrom: string;
  /** PATRON_PUBLIC_URL: where the unsubscribe page is. */
  publicUrl: string | undefined;
  /** Without PATRON_PUBLIC_URL, the address Patron listens on (only right for a local trial). */
  listeningUrl: () => string;
  /**
   * Whether the tenant has an active webhook endpoint subscribed to this event type (the webhooks module): SMS and
   * push reach a provider only through one.
   */
  hasSubscriber: (q: Queryable, tenantId: string, eventType: string) => Promise<boolean>;
  /** Messages of a batch in flight at once (default SEND_CONCURRENCY); one member's messages always go in order. */
  concurrency?: number;
}

/** How long a claimed message is held before another sender may take it (longer than any SMTP timeout). */
export const LEASE_MS = 5 * 60_000;
/** Messages claimed at a time. */
const BATCH = 50;
/**
 * Messages of a batch sent at once: the mailer's pooled SMTP connections (platform/mail/mailer.ts). One at a time,
 * a message costs the sum of its database round trips and the relay's answer (about 40 a second against a relay
 * answering in 20 ms); in flight together, those waits overlap.
 */
export const SEND_CONCURRENCY = SMTP_CONNECTIONS;
/** A temporary failure (4xx, connection) is tried this many times in all, then the message is failed. */
export const MAX_ATTEMPTS = 5;
/** Wait before the 2nd, 3rd … attempt. */
export const RETRY_BACKOFF_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000];

export interface SendRunResult {
  tenants: number;
  sent: number;
  suppressed: number;
  deferred: number;
  retried: number;
  failed: number;
  bounced: number;
  /** Claimed, but taken over by another sender before this one got to it (its lease had run out). */
  skipped: number;
}

type Outcome = keyof Omit<SendRunResult, 'tenants'>;

/**
 * Runs `work` over the claimed messages, `concurrency` at a time, in lanes: messages of one member, or to one address
 * (members may share a mailbox; a non-member message has only its address), share a lane and go one after the other
 * in claim order — so a member's emails leave in the order they were queued, and a mailbox that hard-bounces is
 * suppressed before the next message to it is decided. Different lanes go side by side. The address is the one the
 * message was queued with: a member whose email changed since to one another member uses is not joined (the sender
 * sends to the current address), so that last guarantee is best effort.
 */
export async function inLanes(messages: store.MessageRow[], concurrency: number, work: (m: store.MessageRow) => Promise<void>): Promise<void> {
  // Union-find over the messages' keys (member, lower-cased address): one lane per connected group.
  const parent = messages.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i]!)));
  const firstWith = new Map<string, number>();
  messages.forEach((m, i) => {
    for (const key of [m.member_id && `member:${m.member_id}`, m.to_address && `address:${m.to_address.trim().toLowerCase()}`]) {
      if (!key) continue;
      const j = firstWith.get(key);
      if (j === undefined) firstWith.set(key, i);
      else parent[root(i)] = root(j);
    }
  });
  const lanes = new Map<number, store.MessageRow[]>();
  messages.forEach((m, i) => {
    const r = root(i);
    const lane = lanes.get(r);
    if (lane) lane.push(m);
    else lanes.set(r, [m]);
  });
  const queue = [...lanes.values()];
  // A failure (the database gone) stops the taking of new messages; what is in flight ends before it is thrown, so
  // nothing of this run is still working when the job sees the error.
  let failure: { err: unknown } | null = null;
  const worker = async () => {
    for (let lane = queue.shift(); lane && !failure; lane = queue.shift()) {
      for (const m of lane) {
        if (failure) return;
        try {
          await work(m);
        } catch (err) {
          failure ??= { err };
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
  if (failure) throw (failure as { err: unknown }).err;
}

/** The end of the quiet period `now` is in (local `end` time in `timeZone`), or null when `now` is outside it. */
export function quietUntil(now: Date, timeZone: string, quiet: QuietHours): Date | null {
  const local = DateTime.fromJSDate(now, { zone: timeZone });
  if (!local.isValid) return null;
  const [sh, sm] = quiet.start.split(':').map(Number) as [number, number];
  const [eh, em] = quiet.end.split(':').map(Number) as [number, number];
  const m = local.hour * 60 + local.minute;
  const s = sh * 60 + sm;
  const e = eh * 60 + em;
  const inside = s < e ? m >= s && m < e : m >= s || m < e;
  if (!inside) return null;
  let end = local.set({ hour: eh, minute: em, second: 0, millisecond: 0 });
  if (end <= local) end = end.plus({ days: 1 });
  return end.toJSDate();
}

/** Thrown inside a transaction to roll it back when the lease was lost (nothing of it may stay). */
class LeaseLost extends Error {}
class MemberErased extends Error {}

export class MessageSender {
  constructor(private readonly deps: SenderDeps) {
    if (deps.mailer.configured && !deps.publicUrl) {
      deps.log.warn(
        { listening_url: deps.listeningUrl() },
        'SMTP_URL is set but PATRON_PUBLIC_URL is not: the unsubscribe links of marketing emails point at the address Patron listens on, which members cannot reach. Set PATRON_PUBLIC_URL to Patron\'s public https:// address.',
      );
    }
  }

  private baseUrl(): string {
    return this.deps.publicUrl ?? this.deps.listeningUrl();
  }

  /** Sends what is due for every tenant (or only `tenantId`). A tenant that fails does not stop the others. */
  async sendDue(tenantId?: string): Promise<SendRunResult> {
    const ids = tenantId ? [tenantId] : await store.tenantsWithDueMessages(this.deps.db, this.deps.clock.now());
    const total: SendRunResult = { tenants: ids.length, sent: 0, suppressed: 0, deferred: 0, retried: 0, failed: 0, bounced: 0, skipped: 0 };
    const failures: unknown[] = [];
    for (const id of ids) {
      try {
        const r = await this.sendTenant(id);
        for (const k of Object.keys(r) as Outcome[]) total[k] += r[k];
      } catch (err) {
        failures.push(err);
        this.deps.log.error({ err, tenant_id: id }, 'sending messages failed for a tenant');
      }
    }
    if (failures.length > 0) throw new Error(`messages.send failed for ${failures.length} of ${ids.length} tenants`, { cause: failures[0] });
    return total;
  }

  async sendTenant(tenantId: string): Promise<Omit<SendRunResult, 'tenants'>> {
    const counts: Omit<SendRunResult, 'tenants'> = { sent: 0, suppressed: 0, deferred: 0, retried: 0, failed: 0, bounced: 0, skipped: 0 };
    const tenant = await this.deps.tenants.getTenant(this.deps.db, tenantId);
    if (!tenant) return counts;
    for (;;) {
      const now = this.deps.clock.now();
      const lease = new Date(now.getTime() + LEASE_MS);
      const { settings, claimed, budget } = await this.deps.db.tx(async (tx) => {
        // One claimer per tenant at a time, so that two processes cannot both spend the same minute's budget.
        await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`messages-send:${tenantId}`]);
        const settings = await this.deps.settings.forSending(tx, tenantId);
        const used = await store.sentOrSendingSince(tx, tenantId, new Date(now.getTime() - 60_000), now);
        const budget = Math.min(BATCH, settings.rate_limit_per_minute - used);
        const claimed = budget > 0 ? await store.claimDue(tx, tenantId, now, lease, budget) : [];
        return { settings, claimed, budget };
      });
      await inLanes(claimed, this.deps.concurrency ?? SEND_CONCURRENCY, async (m) => {
        counts[await this.process(tenant, settings, m, lease)]++;
      });
      if (claimed.length === 0 || claimed.length < budget) return counts;
    }
  }

  /**
   * Takes the message's lease again (`claimed`: the lease of the batch), then decides, renders, sends and records
   * it. A message whose lease was taken over by another sender (the batch took longer than the lease) is skipped.
   */
  private async process(tenant: TenantRow, settings: SenderSettings, claimed: store.MessageRow, claimedUntil: Date): Promise<Outcome> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const tenantId = tenant.id;
    const lease = await store.renewLease(db, tenantId, claimed.id, claimedUntil, new Date(now.getTime() + LEASE_MS), now);
    if (!lease) {
      this.deps.log.info({ tenant_id: tenantId, message_id: claimed.id }, 'a claimed message was taken over by another sender before it was sent; skipped');
      return 'skipped';
    }

    // A member's message goes to the member's address as it is now (it may have changed since the message was
    // queued); `to_address` then records where it went. A message without a member goes to the `to` it was given.
    let m = claimed;
    let member: MemberRow | null = null;
    if (m.member_id) {
      member = await this.deps.members.find(db, tenantId, { id: m.member_id });
      if (!member || member.status === 'erased') return this.suppress(tenantId, m, lease, 'member_erased');
      m = { ...m, to_address: memberAddress(member, m.channel) };
      if (member.status === 'blocked') return this.suppress(tenantId, m, lease, 'member_blocked');
    }
    const address = m.to_address;
    if (!address && (m.channel !== 'push' || !member)) return this.suppress(tenantId, m, lease, 'no_address');
    if (m.category === 'marketing') {
      const consent = member ? (await this.deps.members.get(db, tenantId, member.id)).consent[m.channel] : null;
      if (!consent?.granted) return this.suppress(tenantId, m, lease, 'no_consent');
    }
    if (m.channel === 'email' && address && (await this.deps.suppressions.isSuppressed(db, tenantId, address))) {
      return this.suppress(tenantId, m, lease, 'address_suppressed');
    }
    if (m.category === 'marketing' && settings.quiet_hours) {
      const until = quietUntil(now, member?.time_zone ?? tenant.time_zone, settings.quiet_hours);
      if (until) {
        return (await this.finish(tenantId, m, lease, { status: 'queued', send_after: until })) ? 'deferred' : 'skipped';
      }
    }
    const requested = m.channel === 'email' ? null : HANDOVER_EVENT[m.channel];
    if (requested && !(await this.deps.hasSubscriber(db, tenantId, requested))) {
      // Written as an event nobody receives, it would be `sent` and never arrive.
      return this.fail(tenantId, m, lease, 'no_provider', `no active webhook endpoint is subscribed to ${requested}: nothing would deliver the message`);
    }

    const links: Record<string, unknown> = { ...((m.variables.links as Record<string, unknown> | undefined) ?? {}) };
    if (settings.portal_url) links.portal = settings.portal_url;
    let unsubscribe: string | null = null;
    if (m.category === 'marketing' && member) {
      unsubscribe = unsubscribeUrl(this.baseUrl(), signUnsubscribeToken(settings.unsubscribeSecret, { tenantId, memberId: member.id, channel: m.channel }));
      links.unsubscribe = unsubscribe;
    }
    const variables: Record<string, unknown> = { ...m.variables, links };
    // The member as they are now (a name or address changed since the message was queued).
    if (member) variables.member = { first_name: member.first_name, last_name: member.last_name, name: displayName(member), email: member.email };
    let rendered: RenderedMessage;
    try {
      rendered = await this.deps.templates.render(db, tenantId, m.trigger, m.locale, variables, { category: m.category });
    } catch (err) {
      this.deps.log.error({ err, tenant_id: tenantId, message_id: m.id }, 'rendering a message failed');
      return this.fail(tenantId, m, lease, 'render_failed', `rendering failed: ${(err as Error).message ?? String(err)}`.slice(0, 1000));
    }

    if (requested) return this.handOver(tenantId, m, requested, lease, rendered);

    const headers: Record<string, string> = {};
    if (unsubscribe) {
      // RFC 8058: a mail client may unsubscribe with one POST to this URL, without opening a page.
      headers['List-Unsubscribe'] = `<${unsubscribe}>`;
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
    const sent = await this.deps.mailer.send({
      from: { name: settings.from_name ?? tenant.name, address: settings.from_email ?? this.deps.smtpFrom },
      to: address!,
      replyTo: settings.reply_to,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      headers,
    });
    const attempts = m.attempts + 1;
    if (sent.ok) {
      const row = await this.finish(tenantId, m, lease, { status: 'sent', status_reason: null, error: null, attempts, subject: rendered.subject, provider_id: sent.messageId, sent_at: clock.now() }, 'message.sent');
      return row ? 'sent' : 'skipped';
    }
    if (sent.notConfigured) return this.fail(tenantId, m, lease, 'smtp_not_configured', 'SMTP_URL is not set: Patron sends no email', attempts);
    if (sent.failure === 'hard_bounce') {
      // The mailbox or domain does not exist: nothing is sent to it again.
      const row = await db.tx(async (tx) => {
        const done = await this.finishIn(tx, tenantId, m, lease, { status: 'bounced', status_reason: 'hard_bounce', error: sent.error, attempts, subject: rendered.subject }, 'message.bounced');
        if (done) await this.deps.suppressions.add(tx, tenantId, { email: address!, reason: 'hard_bounce', detail: sent.error });
        return done;
      });
      return row ? 'bounced' : 'skipped';
    }
    // Refused for good for the sender's or the content's sake (a blocklist, a policy): this message fails, the
    // address stays usable.
    if (sent.failure === 'rejected') return this.fail(tenantId, m, lease, 'smtp_rejected', sent.error, attempts);
    if (attempts < MAX_ATTEMPTS) {
      const wait = RETRY_BACKOFF_MS[Math.min(attempts - 1, RETRY_BACKOFF_MS.length - 1)]!;
      return (await this.finish(tenantId, m, lease, { status: 'queued', attempts, error: sent.error, send_after: new Date(clock.now().getTime() + wait) })) ? 'retried' : 'skipped';
    }
    return this.fail(tenantId, m, lease, 'smtp_error', sent.error, attempts);
  }

  /**
   * Erasure: the SMS and push requests handed to the tenant's provider lose the phone number, subject and text (set
   * to null), so a replay of their webhook deliveries sends no personal data. The send log is scrubbed by the
   * messaging service's own eraser.
   */
  async eraseMember(tx: Queryable, tenantId: string, memberId: string): Promise<void> {
    await redactMemberEvents(tx, tenantId, memberId, Object.values(HANDOVER_EVENT), HANDOVER_PERSONAL_FIELDS);
  }

  /**
   * SMS and push: Patron does not send them. It hands the rendered message to the tenant's webhook endpoints
   * (`message.sms_requested` / `message.push_requested`, delivered signed and retried by the webhooks module) and
   * the message is sent, its provider_id the id of that event. The event carries what the provider needs and no
   * template variables: the outbox is kept for good, and variables hold names, codes and links.
   */
  private async handOver(tenantId: string, m: store.MessageRow, type: string, lease: Date, r: RenderedMessage): Promise<Outcome> {
    const now = this.deps.clock.now();
    try {
      await this.deps.db.tx(async (tx) => {
        // The event carries the phone number and text: it must not be written after the member's erasure (which
        // blanks the member's request events) has looked for it.
        if (m.member_id && (await this.deps.members.lockShared(tx, tenantId, m.member_id))?.status === 'erased') throw new MemberErased();
        const eventId = await emit(tx, {
          tenantId, type, aggregateType: 'message', aggregateId: m.id, memberId: m.member_id,
          payload: { message_id: m.id, trigger: m.trigger, member_id: m.member_id, to: m.to_address, locale: m.locale, subject: r.subject, text: r.text },
          occurredAt: now,
        });
        const row = await this.finishIn(tx, tenantId, m, lease, { status: 'sent', status_reason: null, error: null, attempts: m.attempts + 1, subject: r.subject, provider_id: eventId, sent_at: now }, 'message.sent');
        // Another sender has the message now: its request event must not be written by this one too.
        if (!row) throw new LeaseLost();
      });
    } catch (err) {
      if (err instanceof LeaseLost) return 'skipped';
      if (err instanceof MemberErased) return this.suppress(tenantId, m, lease, 'member_erased');
      throw err;
    }
    return 'sent';
  }

  private async suppress(tenantId: string, m: store.MessageRow, lease: Date, reason: string): Promise<Outcome> {
    return (await this.finish(tenantId, m, lease, { status: 'suppressed', status_reason: reason }, 'message.suppressed', { reason })) ? 'suppressed' : 'skipped';
  }

  private async fail(tenantId: string, m: store.MessageRow, lease: Date, reason: string, error: string, attempts = m.attempts): Promise<Outcome> {
    return (await this.finish(tenantId, m, lease, { status: 'failed', status_reason: reason, error, attempts }, 'message.failed')) ? 'failed' : 'skipped';
  }

  private finish(tenantId: string, m: store.MessageRow, lease: Date, outcome: store.MessageOutcome, event?: string, extra?: Record<string, unknown>) {
    return this.deps.db.tx((tx) => this.finishIn(tx, tenantId, m, lease, outcome, event, extra));
  }

  /**
   * Records the outcome (if this sender still holds the message) and its event, in `tx`. A member's message records
   * the address it was decided for (`m.to_address`, read from the member at send time), unless the member was erased
   * meanwhile (while the SMTP server answered): the erasure has scrubbed the send log, and nothing personal is written
   * back to it (a hard bounce still adds the address to the suppression list, which is kept for good). The member is
   * locked FOR SHARE so that an erasure either comes after this record (and scrubs it) or before.
   */
  private async finishIn(tx: Queryable, tenantId: string, m: store.MessageRow, lease: Date, outcome: store.MessageOutcome, event?: string, extra: Record<string, unknown> = {}): Promise<store.MessageRow | null> {
    const now = this.deps.clock.now();
    let recorded: store.MessageOutcome = outcome;
    if (m.member_id) {
      const erased = (await this.deps.members.lockShared(tx, tenantId, m.member_id))?.status === 'erased';
      recorded = erased ? { ...outcome, to_address: null, subject: null, error: null } : { to_address: m.to_address, ...outcome };
    }
    const row = await store.finishClaimed(tx, tenantId, m.id, lease, now, recorded);
    if (!row) {
      this.deps.log.warn({ tenant_id: tenantId, message_id: m.id }, 'a message was taken over by another sender after its lease ran out; outcome not recorded');
      return null;
    }
    if (event) {
      // The address itself stays out of the outbox (kept for good, not erased with the member): its hash, if anything.
      const error = withoutAddress(row.error, row.to_address);
      const detail = event === 'message.bounced' ? { email_sha256: row.to_address ? emailSha256(row.to_address) : null, error } : event === 'message.failed' ? { error } : {};
      await emit(tx, { tenantId, type: event, aggregateType: 'message', aggregateId: m.id, memberId: m.member_id, payload: messageEventPayload(row, { ...detail, ...extra }), occurredAt: now });
    }
    return row;
  }
}
