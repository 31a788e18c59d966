/**
 * Action bonuses: a member did something (signed up, wrote a review, answered a survey, …) and the event rules for
 * that name (earn rules of kind `event`, rules.events.ts) in force when it happened decide the points.
 *
 * Like an order, an event with an `external_id` is recorded once per tenant: a re-send with the same body gets the
 * first answer (never a second earning), another body is a 409, with or without an Idempotency-Key. Limits ("once
 * per member", "3 a day") and total caps are read only after the member's lock is taken (`ledger.open`), so
 * concurrent events of one member are judged one after the other and a limit holds.
 */
import type { Clock } from '../../platform/clock.js';
import type { Queryable, Tx } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { jsonBodyDigest } from '../../platform/idempotency/idempotency.js';
import { isUuid, newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import type { Ledger, MemberBook } from '../ledger/ledger.service.js';
import type { MemberRow, MembersService } from '../members/members.service.js';
import { activatesAt, lotExpiresAt } from '../programs/programs.policy.js';
import type { ProgramsService } from '../programs/programs.service.js';
import type { Program } from '../programs/programs.types.js';
import type { MemberStanding } from '../transactions/transactions.service.js';
import { evaluateEvent } from '../rules/rules.events.js';
import type { RulesService } from '../rules/rules.service.js';
import type { EventRule } from '../rules/rules.types.js';
import { LIMITS, type CreateEventInput } from './events.schema.js';
import * as store from './events.store.js';
import type { EventExplanation, MemberEventRow } from './events.store.js';
import { storableJsonError } from '../../platform/json.js';

export type { EventExplanation, MemberEventRow } from './events.store.js';

/** Clock skew between the caller's systems and Patron that is still "now". */
const FUTURE_TOLERANCE_MS = 5 * 60_000;
const EARLIEST = Date.parse('2000-01-01T00:00:00Z');

export interface RecordEventResult {
  event: MemberEventRow;
  /** False when the event was already recorded (a re-send): the answer is the first one. */
  created: boolean;
}

/**
 * What JSON Schema cannot check in `properties`: what jsonb can store (platform/json.ts), then the size as JSON.
 */
export function propertiesError(properties: Record<string, unknown>): string | null {
  const bad = storableJsonError(properties, LIMITS.propertiesDepth);
  if (bad) return bad;
  const bytes = Buffer.byteLength(JSON.stringify(properties));
  if (bytes > LIMITS.propertiesBytes) return `must be at most ${LIMITS.propertiesBytes} bytes as JSON (is ${bytes})`;
  return null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An event of an active member, as modules that react to events (campaign action bonuses) see it. */
export interface EventRecorded {
  tenantId: string;
  member: MemberRow;
  event: MemberEventRow;
  /** The member's points, locked for this transaction. */
  book: MemberBook;
  program: Program;
}

/** Runs inside the event's transaction after the event and its points are written (see OrderHook). */
export interface EventHook {
  name: string;
  recorded(tx: Tx, e: EventRecorded): Promise<void>;
}

export class EventsService {
  constructor(private readonly deps: { clock: Clock; ledger: Ledger; members: MembersService; programs: ProgramsService; rules: RulesService }) {}

  private readonly hooks: EventHook[] = [];
  private standing: MemberStanding = async () => ({ tier: null });

  registerHook(hook: EventHook): void {
    this.hooks.push(hook);
  }

  /** Where the member's tier comes from (the tiers module). */
  setStanding(standing: MemberStanding): void {
    this.standing = standing;
  }

  /** The checks the schema cannot make; every bad field at once. Tolerates wrong types (the schema reports those). */
  checkEvent(input: Partial<CreateEventInput>, now: Date = this.deps.clock.now()): FieldError[] {
    const errs: FieldError[] = [];
    const hasId = input.member_id !== undefined;
    const hasExternal = input.member_external_id !== undefined;
    if (!hasId && !hasExternal) errs.push({ field: 'member_id', detail: 'send member_id or member_external_id' });
    if (hasId && hasExternal) errs.push({ field: 'member_external_id', detail: 'send member_id or member_external_id, not both' });
    if (typeof input.occurred_at === 'string') {
      const at = Date.parse(input.occurred_at);
      if (at > now.getTime() + FUTURE_TOLERANCE_MS) errs.push({ field: 'occurred_at', detail: 'must not be in the future' });
      else if (at < EARLIEST) errs.push({ field: 'occurred_at', detail: 'must not be before 2000-01-01' });
    }
    if (isObject(input.properties)) {
      const bad = propertiesError(input.properties);
      if (bad) errs.push({ field: 'properties', detail: bad });
    }
    return errs;
  }

  /** A re-sent event: the same body gets the first answer, another body is a 409. */
  private same(existing: MemberEventRow, digest: string): RecordEventResult {
    if (existing.body_digest !== digest) {
      throw errors.conflict(`Event ${existing.external_id} was already recorded with other details.`, [{ field: 'external_id', detail: 'is already recorded with a different body' }]);
    }
    return { event: existing, created: false };
  }

  private async resolveMember(q: Queryable, tenantId: string, input: CreateEventInput): Promise<MemberRow> {
    if (input.member_id !== undefined) {
      const member = await this.deps.members.find(q, tenantId, { id: input.member_id });
      if (!member) throw errors.unprocessable(`No member with id ${input.member_id}.`, [{ field: 'member_id', detail: 'is not a member of this program' }]);
      return member;
    }
    const member = await this.deps.members.find(q, tenantId, { externalId: input.member_external_id! });
    if (!member) {
      throw errors.unprocessable(`No member with external_id ${input.member_external_id}.`, [{ field: 'member_external_id', detail: 'is not a member of this program (an event never enrols anyone)' }]);
    }
    return member;
  }

  async record(tx: Tx, tenantId: string, input: CreateEventInput): Promise<RecordEventResult> {
    const now = this.deps.clock.now();
    const errs = this.checkEvent(input, now);
    if (errs.length) throw errors.validation(errs);
    const program = await this.deps.programs.get(tx, tenantId);
    const occurredAt = input.occurred_at !== undefined ? new Date(input.occurred_at) : now;
    const properties = input.properties ?? {};
    // Without the creation-time default: a re-send a minute later with no occurred_at is the same event.
    const digest = jsonBodyDigest({
      name: input.name, member_id: input.member_id ?? null, member_external_id: input.member_external_id ?? null,
      occurred_at: input.occurred_at !== undefined ? occurredAt.toISOString() : null, properties, external_id: input.external_id ?? null,
    });
    const externalId = input.external_id ?? null;
    if (externalId !== null) {
      const existing = await store.getByExternalId(tx, tenantId, externalId);
      if (existing) return this.same(existing, digest);
    }
    const member = await this.resolveMember(tx, tenantId, input);
    const id = newId();
    let points = 0;
    let explanation: EventExplanation[];
    let credit: (() => Promise<void>) | null = null;
    let book: MemberBook | null = null;

    if (member.status !== 'active') {
      // Stored, so the member's history is complete, but a blocked or erased member earns nothing.
      const rules = await this.deps.rules.eventRulesAt(tx, tenantId, input.name, occurredAt);
      const outcome = member.status === 'blocked' ? 'member_blocked' : 'member_erased';
      const detail = member.status === 'blocked' ? 'the member is blocked: a blocked member earns nothing' : 'the member is erased: an erased member earns nothing';
      explanation = rules.map((r) => ({ rule_id: r.id, rule_name: r.name, kind: r.kind, outcome, points: 0, detail }));
    } else {
      // The member's lock first: the limit and cap counters are then read and written by one event at a time.
      const locked = await this.deps.ledger.open(tx, tenantId, member.id, program.negative_balance);
      book = locked;
      const rules: EventRule[] = await this.deps.rules.eventRulesAt(tx, tenantId, input.name, occurredAt);
      const usage = await this.deps.rules.eventUsage(tx, tenantId, member.id, rules, occurredAt, program.time_zone);
      const result = evaluateEvent(rules, { name: input.name, occurred_at: occurredAt.toISOString(), properties }, {
        time_zone: program.time_zone,
        tier: (await this.standing(tx, tenantId, member.id, occurredAt)).tier,
        attributes: member.attributes ?? {},
        usage,
      });
      points = result.points;
      explanation = result.explanation;
      if (result.points > 0) {
        credit = async () => {
          await locked.credit({
            type: 'earn', points: result.points, earned: true, activity: true,
            // The longest pending period among the rules that awarded points (a rule without one: the program's).
            activates_at: activatesAt(Math.max(0, ...rules.filter((r) => result.awards.some((a) => a.rule_id === r.id)).map((r) => r.pending_days ?? program.pending_days)), occurredAt),
            expires_at: lotExpiresAt(program.expiry, occurredAt, program.time_zone),
            reason: externalId ? `${input.name} ${externalId}` : input.name, source_type: 'event', source_id: id,
            occurred_at: occurredAt, details: { event: input.name, rules: result.awards.map((a) => a.rule_id) },
          });
          await this.deps.rules.recordEventAwards(tx, tenantId, member.id, result.awards);
        };
      }
    }

    const row = await store.insertEvent(tx, tenantId, {
      id, external_id: externalId, member_id: member.id, name: input.name, properties, occurred_at: occurredAt,
      points, explanation, body_digest: digest, created_at: now,
    });
    if (!row) {
      // Recorded meanwhile by a concurrent re-send (the insert waited for it): answer as that one did.
      return this.same((await store.getByExternalId(tx, tenantId, externalId!))!, digest);
    }
    if (credit) await credit();
    if (book) for (const h of this.hooks) await h.recorded(tx, { tenantId, member, event: row, book, program });
    await emit(tx, {
      tenantId, type: 'event.recorded', aggregateType: 'member_event', aggregateId: id, memberId: member.id, occurredAt: now,
      payload: { event_id: id, external_id: externalId, member_id: member.id, name: input.name, points, occurred_at: occurredAt.toISOString() },
    });
    return { event: row, created: true };
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<MemberEventRow> {
    const row = isUuid(id) ? await store.getEvent(q, tenantId, id) : null;
    if (!row) throw errors.notFound('event', id);
    return row;
  }

  /** GDPR erasure: the properties of the member's events are cleared. */
  eraseMember(tx: Queryable, tenantId: string, memberId: string): Promise<void> {
    return store.clearPropertiesOf(tx, tenantId, memberId);
  }

  list(q: Queryable, tenantId: string, f: Parameters<typeof store.listEvents>[2]): Promise<MemberEventRow[]> {
    return store.listEvents(q, tenantId, f);
  }
}
