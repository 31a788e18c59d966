/**
 * Members: the people in a loyalty program. Addressable by Patron id and by the
 * shop's external_id; marketing consent per channel with its full history;
 * GDPR export and erasure (personal fields anonymised, ids and amounts kept so
 * that the books and analytics still add up).
 *
 * Events carry ids and field names only, never personal values: the outbox is
 * kept after an erasure, so it must hold nothing an erasure would have to remove.
 */
import type { Clock } from '../../platform/clock.js';
import type { Queryable } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { isUuid, newId } from '../../platform/ids.js';
import { storableJsonError } from '../../platform/json.js';
import type { Locale } from '../../platform/http/schema.js';
import { redactAnswersAbout } from '../../platform/idempotency/idempotency.js';
import { emit, emitMany, listEvents, type DomainEvent } from '../../platform/outbox/outbox.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { CHANNELS, LIMITS, type Channel, type CreateMemberInput, type UpdateMemberInput } from './members.schema.js';
import * as store from './members.store.js';
import type { MemberRow } from './members.store.js';
import { canonicalJson } from '../../platform/idempotency/idempotency.js';
import { canonicalTimeZone, isoDay } from '../../platform/dates.js';

export type { MemberRow } from './members.store.js';

export interface ConsentState {
  granted: boolean;
  source: string | null;
  updated_at: Date | null;
}

export type MemberView = MemberRow & { consent: Record<Channel, ConsentState> };

/** A module's contribution to a member's GDPR export. */
export type ExportSection = (db: Queryable, tenantId: string, memberId: string) => Promise<unknown>;

/** A module's part of a GDPR erasure: clears personal data it holds about the member (amounts and ids stay). */
export type Eraser = (tx: Queryable, tenantId: string, memberId: string) => Promise<void>;


const EARLIEST = '1900-01-01';

/** How deep attribute values may nest: enough for any real profile, and it keeps every recursive step safe. */
const MAX_ATTRIBUTE_DEPTH = 8;


/** The size and key rules of custom attributes, for a body's attributes or the merged result of an update. */
export function attributeErrors(attributes: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  const keys = Object.keys(attributes);
  if (keys.length > LIMITS.attributesKeys) errs.push({ field: 'attributes', detail: `must have at most ${LIMITS.attributesKeys} keys (has ${keys.length})` });
  const badKey = keys.find((k) => k.length === 0 || k.length > LIMITS.attributeKeyLength);
  if (badKey !== undefined) errs.push({ field: 'attributes', detail: `keys must be 1 to ${LIMITS.attributeKeyLength} characters long` });
  const valueError = storableJsonError(attributes, MAX_ATTRIBUTE_DEPTH);
  // Too deep or not storable: say so and stop, before anything walks it recursively.
  if (valueError) return [...errs, { field: 'attributes', detail: valueError }];
  const bytes = Buffer.byteLength(JSON.stringify(attributes));
  if (bytes > LIMITS.attributesBytes) errs.push({ field: 'attributes', detail: `must be at most ${LIMITS.attributesBytes} bytes as JSON (is ${bytes})` });
  return errs;
}

/**
 * Checks what JSON Schema cannot: real dates in a sensible range, IANA time
 * zones, attribute limits, fields that only make sense together. Tolerates
 * values of the wrong type (the schema reports those), so the HTTP layer can run
 * it beside the schema and report every bad field at once.
 */
export function validateMemberFields(input: Partial<CreateMemberInput> | Partial<UpdateMemberInput>, now: Date): FieldError[] {
  const i = input as Record<string, unknown>;
  const errs: FieldError[] = [];
  const birth = typeof i.birth_date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(i.birth_date) ? i.birth_date : null;
  if (birth) {
    const d = new Date(`${birth}T00:00:00Z`);
    // A birth date has no time zone: "today" somewhere on Earth may be tomorrow in UTC (up to UTC+14).
    if (Number.isNaN(d.getTime()) || isoDay(d) !== birth) errs.push({ field: 'birth_date', detail: 'is not a real date' });
    else if (birth > isoDay(new Date(now.getTime() + 14 * 3600_000))) errs.push({ field: 'birth_date', detail: 'must not be in the future' });
    else if (birth < EARLIEST) errs.push({ field: 'birth_date', detail: `must not be before ${EARLIEST}` });
  }
  if (typeof i.time_zone === 'string' && canonicalTimeZone(i.time_zone) === null) {
    errs.push({ field: 'time_zone', detail: 'must be an IANA time zone such as Europe/Warsaw' });
  }
  if (i.attributes && typeof i.attributes === 'object' && !Array.isArray(i.attributes)) {
    // In an update, null values remove keys: the merged result is checked again by the service.
    errs.push(...attributeErrors(i.attributes as Record<string, unknown>));
  }
  if (typeof i.enrolled_at === 'string') {
    const at = new Date(i.enrolled_at);
    if (!Number.isNaN(at.getTime())) {
      // A few minutes of clock skew between the shop's systems and Patron are normal.
      if (at.getTime() > now.getTime() + 5 * 60_000) errs.push({ field: 'enrolled_at', detail: 'must not be in the future' });
      else if (isoDay(at) < EARLIEST) errs.push({ field: 'enrolled_at', detail: `must not be before ${EARLIEST}` });
      else if (birth && isoDay(at) < birth) errs.push({ field: 'enrolled_at', detail: 'must not be before birth_date' });
    }
  }
  if (i.consent_source !== undefined && i.consent === undefined) {
    errs.push({ field: 'consent_source', detail: 'is only used together with consent' });
  }
  return errs;
}


const conflictOnExternalId = (externalId: string) =>
  errors.conflict(`A member with external_id "${externalId}" already exists.`, [{ field: 'external_id', detail: 'is already taken by another member' }]);

const PLAIN_FIELDS = ['external_id', 'email', 'phone', 'first_name', 'last_name', 'birth_date', 'locale', 'time_zone'] as const;

/** A member with its history, for bulk loads (the demo) that write the past as it happened. */
export interface MemberHistory {
  id: string;
  external_id?: string | null;
  email?: string | null;
  phone?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  birth_date?: string | null;
  locale: Locale;
  time_zone?: string | null;
  attributes?: Record<string, unknown>;
  enrolled_at: Date;
  /** Consent changes in time order; a change to the state a channel already has is ignored. */
  consents?: Array<{ channel: Channel; granted: boolean; source: string; at: Date }>;
  blocked?: { at: Date; reason: string | null };
  erased_at?: Date;
}

export class MembersService {
  private readonly exportSections = new Map<string, ExportSection>();
  private readonly erasers = new Map<string, Eraser>();

  constructor(
    private readonly clock: Clock,
    private readonly tenants: TenantsService,
  ) {}

  /** Lets another module add what it holds about a member to the GDPR export. */
  registerExportSection(name: string, section: ExportSection): void {
    this.exportSections.set(name, section);
  }

  /** Lets another module clear what it holds about a member when the member is erased (same transaction). */
  registerEraser(name: string, eraser: Eraser): void {
    this.erasers.set(name, eraser);
  }

  /** The semantic checks of `validateMemberFields`, at the clock's now (for the HTTP layer). */
  checkFields(input: unknown): FieldError[] {
    if (!input || typeof input !== 'object' || Array.isArray(input)) return [];
    return validateMemberFields(input as Partial<UpdateMemberInput>, this.clock.now());
  }

  async create(tx: Queryable, tenantId: string, input: CreateMemberInput): Promise<MemberView> {
    const now = this.clock.now();
    const errs = validateMemberFields(input, now);
    if (errs.length) throw errors.validation(errs);
    if (input.external_id && (await store.getMemberByExternalId(tx, tenantId, input.external_id))) throw conflictOnExternalId(input.external_id);
    let row: MemberRow;
    try {
      row = await store.insertMember(tx, tenantId, {
        id: newId(),
        external_id: input.external_id ?? null,
        email: input.email ?? null,
        phone: input.phone ?? null,
        first_name: input.first_name ?? null,
        last_name: input.last_name ?? null,
        birth_date: input.birth_date ?? null,
        locale: input.locale ?? ((await this.tenants.getTenant(tx, tenantId))?.default_locale as Locale | undefined) ?? 'en',
        time_zone: input.time_zone ? canonicalTimeZone(input.time_zone) : null,
        // null means "no value": not stored
        attributes: Object.fromEntries(Object.entries(input.attributes ?? {}).filter(([, v]) => v !== null)),
        enrolled_at: input.enrolled_at ? new Date(input.enrolled_at) : now,
        now,
      });
    } catch (err) {
      // Two creates with one external_id at the same time: the unique key decides.
      if (input.external_id && store.isExternalIdTaken(err)) throw conflictOnExternalId(input.external_id);
      throw err;
    }
    await emit(tx, { tenantId, type: 'member.created', aggregateType: 'member', aggregateId: row.id, memberId: row.id, payload: { member_id: row.id }, occurredAt: now });
    if (input.consent) await this.applyConsent(tx, tenantId, row.id, input.consent, input.consent_source ?? 'api');
    return this.view(tx, tenantId, row);
  }

  async get(db: Queryable, tenantId: string, id: string): Promise<MemberView> {
    const found = await store.getMemberWithConsents(db, tenantId, { id });
    if (!found) throw errors.notFound('member', id);
    const { consents, ...row } = found;
    return withConsent(row, consents);
  }

  async getByExternalId(db: Queryable, tenantId: string, externalId: string): Promise<MemberView> {
    const found = await store.getMemberWithConsents(db, tenantId, { externalId });
    if (!found) throw errors.notFound('member with external_id', externalId);
    const { consents, ...row } = found;
    return withConsent(row, consents);
  }


  /** The member row without consents, or null: the lean lookup of the order and points paths. */
  async find(db: Queryable, tenantId: string, by: { id: string } | { externalId: string }): Promise<MemberRow | null> {
    return 'id' in by ? store.getMember(db, tenantId, by.id) : store.getMemberByExternalId(db, tenantId, by.externalId);
  }

  /**
   * The member row locked FOR SHARE until the transaction ends: an erasure (which locks it for update) either has
   * committed and shows, or waits for this transaction (and then erases what it wrote).
   */
  lockShared(tx: Queryable, tenantId: string, id: string): Promise<MemberRow | null> {
    return store.getMember(tx, tenantId, id, 'share');
  }

  /** The member row without consents (the row-returning twin of `get`): 404 for an unknown id, or one that is no UUID. */
  async findOr404(db: Queryable, tenantId: string, id: string): Promise<MemberRow> {
    const member = isUuid(id) ? await store.getMember(db, tenantId, id) : null;
    if (!member) throw errors.notFound('member', id);
    return member;
  }

  /** Members by id or external id in one query (bulk paths). */
  findMany(db: Queryable, tenantId: string, ids: string[], externalIds: string[]) {
    return store.findMany(db, tenantId, ids, externalIds);
  }

  /** Active members whose birthday or enrolment anniversary is today in their time zone, once their local hour has reached `hour` (the messaging triggers). */
  celebrating(db: Queryable, tenantId: string, f: Parameters<typeof store.celebrating>[2]) {
    return store.celebrating(db, tenantId, f);
  }

  /** Which of these external ids belonged to an erased member: an order or import must not bring them back. */
  erasedExternalIds(db: Queryable, tenantId: string, externalIds: string[]): Promise<Set<string>> {
    return store.erasedExternalIds(db, tenantId, externalIds);
  }

  async list(db: Queryable, tenantId: string, filter: store.MemberFilter): Promise<MemberView[]> {
    const rows = await store.listMembers(db, tenantId, filter);
    const consents = await store.consentsOf(db, tenantId, rows.map((r) => r.id));
    return rows.map((r) => withConsent(r, consents.get(r.id) ?? []));
  }

  /**
   * Changes only the fields given. `attributes` are merged (a key set to null
   * is removed; `attributes: null` removes all). Emits member.updated with the
   * names of the fields whose value actually changed.
   */
  async update(tx: Queryable, tenantId: string, id: string, input: UpdateMemberInput): Promise<MemberView> {
    const now = this.clock.now();
    const errs = validateMemberFields(input, now);
    if (errs.length) throw errors.validation(errs);
    const current = await this.lockLive(tx, tenantId, id);
    if (input.external_id && input.external_id !== current.external_id) {
      if (await store.getMemberByExternalId(tx, tenantId, input.external_id)) throw conflictOnExternalId(input.external_id);
    }

    const next: Record<string, unknown> = {};
    for (const k of PLAIN_FIELDS) {
      if (input[k] !== undefined) next[k] = k === 'time_zone' && input.time_zone ? canonicalTimeZone(input.time_zone) : input[k];
    }
    if (input.attributes !== undefined) {
      const merged: Record<string, unknown> = input.attributes === null ? {} : { ...current.attributes };
      for (const [k, v] of Object.entries(input.attributes ?? {})) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      const attrErrs = attributeErrors(merged);
      if (attrErrs.length) throw errors.validation(attrErrs.map((e) => ({ ...e, detail: `${e.detail} after merging with the member's attributes` })));
      next.attributes = merged;
    }
    if (input.enrolled_at !== undefined) next.enrolled_at = new Date(input.enrolled_at);
    // The resulting member must make sense too, not only the fields sent.
    const birth = (next.birth_date !== undefined ? next.birth_date : current.birth_date) as string | null;
    const enrolled = (next.enrolled_at ?? current.enrolled_at) as Date;
    if (birth && isoDay(enrolled) < birth && (input.birth_date !== undefined || input.enrolled_at !== undefined)) {
      throw errors.validation([{ field: input.enrolled_at !== undefined ? 'enrolled_at' : 'birth_date', detail: input.enrolled_at !== undefined ? 'must not be before birth_date' : 'must not be after enrolled_at' }]);
    }

    const changes: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(next)) {
      const was = (current as unknown as Record<string, unknown>)[k];
      const same = v instanceof Date ? was instanceof Date && was.getTime() === v.getTime() : canonicalJson(v) === canonicalJson(was);
      if (!same) changes[k] = v;
    }
    let row = current;
    if (Object.keys(changes).length > 0) {
      try {
        row = await store.updateMember(tx, tenantId, id, changes, now);
      } catch (err) {
        if (typeof changes.external_id === 'string' && store.isExternalIdTaken(err)) throw conflictOnExternalId(changes.external_id);
        throw err;
      }
      await emit(tx, { tenantId, type: 'member.updated', aggregateType: 'member', aggregateId: id, memberId: id, payload: { member_id: id, changed_fields: Object.keys(changes) }, occurredAt: now });
    }
    if (input.consent) await this.applyConsent(tx, tenantId, id, input.consent, input.consent_source ?? 'api');
    return this.view(tx, tenantId, row);
  }

  async block(tx: Queryable, tenantId: string, id: string, reason: string | undefined): Promise<MemberView> {
    const current = await this.lockLive(tx, tenantId, id);
    if (current.status === 'blocked') return this.view(tx, tenantId, current);
    const now = this.clock.now();
    const row = await store.updateMember(tx, tenantId, id, { status: 'blocked', blocked_at: now, blocked_reason: reason ?? null }, now);
    await emit(tx, { tenantId, type: 'member.blocked', aggregateType: 'member', aggregateId: id, memberId: id, payload: { member_id: id }, occurredAt: now });
    return this.view(tx, tenantId, row);
  }

  async unblock(tx: Queryable, tenantId: string, id: string): Promise<MemberView> {
    const current = await this.lockLive(tx, tenantId, id);
    if (current.status === 'active') return this.view(tx, tenantId, current);
    const now = this.clock.now();
    const row = await store.updateMember(tx, tenantId, id, { status: 'active', blocked_at: null, blocked_reason: null }, now);
    await emit(tx, { tenantId, type: 'member.unblocked', aggregateType: 'member', aggregateId: id, memberId: id, payload: { member_id: id }, occurredAt: now });
    return this.view(tx, tenantId, row);
  }

  async changeConsent(tx: Queryable, tenantId: string, id: string, change: { channel: Channel; granted: boolean; source: string }): Promise<MemberView> {
    const current = await this.lockLive(tx, tenantId, id);
    await this.applyConsent(tx, tenantId, id, { [change.channel]: change.granted }, change.source);
    return this.view(tx, tenantId, current);
  }

  async consentHistory(db: Queryable, tenantId: string, id: string, page: { after?: { at: string; id: string }; limit: number }) {
    await this.get(db, tenantId, id);
    return store.consentHistory(db, tenantId, id, page);
  }

  /** Everything Patron holds about a member (GDPR access and portability). */
  async exportAll(db: Queryable, tenantId: string, id: string) {
    const member = await this.get(db, tenantId, id);
    const sections: Record<string, unknown> = {};
    for (const [name, section] of this.exportSections) sections[name] = await section(db, tenantId, id);
    const events = await listEvents(db, tenantId, { aggregateId: id, limit: 100_000 });
    return {
      exported_at: this.clock.now(),
      member,
      consent_history: await store.consentHistory(db, tenantId, id),
      events: events.filter((e) => e.member_id === id).map((e) => ({ type: e.type, occurred_at: e.occurred_at, payload: e.payload })),
      sections,
    };
  }

  /**
   * GDPR erasure: personal fields are cleared and every granted consent
   * withdrawn; the member row, its id and everything keyed by it (orders,
   * points) remain, so totals and analytics still add up. Stored
   * Idempotency-Key answers about the member are replaced by the erased member.
   * Irreversible; repeating it is a no-op.
   */
  async erase(tx: Queryable, tenantId: string, id: string): Promise<MemberView> {
    const current = await store.getMember(tx, tenantId, id, 'update');
    if (!current) throw errors.notFound('member', id);
    if (current.status === 'erased') return this.view(tx, tenantId, current);
    const now = this.clock.now();
    const granted = await store.grantedChannels(tx, tenantId, id);
    await this.applyConsent(tx, tenantId, id, Object.fromEntries(granted.map((c) => [c, false])), 'erasure');
    // Erasure clears the external_id: remember its hash, so an import never brings the member back.
    if (current.external_id) await store.rememberErasedExternalId(tx, tenantId, current.external_id, now);
    const row = await store.anonymise(tx, tenantId, id, now);
    for (const eraser of this.erasers.values()) await eraser(tx, tenantId, id);
    await emit(tx, { tenantId, type: 'member.erased', aggregateType: 'member', aggregateId: id, memberId: id, payload: { member_id: id }, occurredAt: now });
    const erased = await this.view(tx, tenantId, row);
    await redactAnswersAbout(tx, tenantId, id, erased);
    return erased;
  }

  /**
   * Writes members together with their past (consents, blocks, erasures), with
   * the events the service would have emitted at those times. For bulk loads
   * of trusted data such as the demo; members whose id or external_id exists
   * are skipped, so a load can be repeated. Returns the number inserted.
   */
  async loadHistory(tx: Queryable, tenantId: string, members: MemberHistory[]): Promise<number> {
    const now = this.clock.now();
    const errs: FieldError[] = [];
    members.forEach((m, i) => {
      for (const e of validateMemberFields({ ...m, enrolled_at: m.enrolled_at.toISOString() } as Partial<CreateMemberInput>, now)) errs.push({ field: `[${i}].${e.field}`, detail: e.detail });
      if (m.time_zone && canonicalTimeZone(m.time_zone) === null) errs.push({ field: `[${i}].time_zone`, detail: 'must be an IANA time zone' });
    });
    if (errs.length) throw errors.validation(errs);

    const rows: store.FullMemberRow[] = [];
    const consents: store.ConsentChange[] = [];
    const events: DomainEvent[] = [];
    const byId = new Map<string, { consents: store.ConsentChange[]; events: DomainEvent[] }>();
    for (const m of members) {
      const ev = (type: string, at: Date, payload: Record<string, unknown> = {}): DomainEvent => ({
        tenantId, type, aggregateType: 'member', aggregateId: m.id, memberId: m.id, payload: { member_id: m.id, ...payload }, occurredAt: at,
      });
      const mine = { consents: [] as store.ConsentChange[], events: [ev('member.created', m.enrolled_at)] };
      const state = new Map<Channel, boolean>();
      const change = (channel: Channel, granted: boolean, source: string, at: Date) => {
        if ((state.get(channel) ?? null) === granted) return;
        state.set(channel, granted);
        mine.consents.push({ id: newId(), memberId: m.id, channel, granted, source, at });
        mine.events.push(ev('member.consent_changed', at, { channel, granted, source }));
      };
      for (const c of m.consents ?? []) change(c.channel, c.granted, c.source, c.at);
      if (m.blocked) mine.events.push(ev('member.blocked', m.blocked.at));
      if (m.erased_at) {
        for (const [channel, granted] of state) if (granted) change(channel, false, 'erasure', m.erased_at);
        mine.events.push(ev('member.erased', m.erased_at));
      }
      const lastChange = mine.events.reduce((t, e) => (e.occurredAt > t ? e.occurredAt : t), m.enrolled_at);
      const erased = m.erased_at !== undefined;
      rows.push({
        id: m.id,
        external_id: erased ? null : m.external_id ?? null,
        email: erased ? null : m.email ?? null,
        phone: erased ? null : m.phone ?? null,
        first_name: erased ? null : m.first_name ?? null,
        last_name: erased ? null : m.last_name ?? null,
        birth_date: erased ? null : m.birth_date ?? null,
        locale: m.locale,
        time_zone: erased || !m.time_zone ? null : canonicalTimeZone(m.time_zone),
        attributes: erased ? {} : m.attributes ?? {},
        status: erased ? 'erased' : m.blocked ? 'blocked' : 'active',
        enrolled_at: m.enrolled_at,
        created_at: m.enrolled_at,
        updated_at: lastChange,
        blocked_at: m.blocked?.at ?? null,
        blocked_reason: erased ? null : m.blocked?.reason ?? null,
        erased_at: m.erased_at ?? null,
      });
      byId.set(m.id, mine);
    }
    const inserted = await store.insertMemberRows(tx, tenantId, rows);
    for (const [id, mine] of byId) {
      if (!inserted.has(id)) continue;
      consents.push(...mine.consents);
      events.push(...mine.events);
    }
    await store.insertConsentHistory(tx, tenantId, consents);
    await emitMany(tx, events);
    // As in `erase`: an erased member's external id must not come back through an import.
    for (const m of members) {
      if (m.erased_at && m.external_id && inserted.has(m.id)) await store.rememberErasedExternalId(tx, tenantId, m.external_id, m.erased_at);
    }
    return inserted.size;
  }

  /** Locks a member that can still be changed (not erased). */
  private async lockLive(tx: Queryable, tenantId: string, id: string): Promise<MemberRow> {
    const row = await store.getMember(tx, tenantId, id, 'update');
    if (!row) throw errors.notFound('member', id);
    if (row.status === 'erased') throw errors.unprocessable(`Member ${id} was erased and can no longer be changed.`);
    return row;
  }

  private async applyConsent(tx: Queryable, tenantId: string, memberId: string, consent: Partial<Record<Channel, boolean>>, source: string): Promise<void> {
    const now = this.clock.now();
    for (const channel of CHANNELS) {
      const granted = consent[channel];
      if (granted === undefined) continue;
      const changed = await store.setConsent(tx, tenantId, { eventId: newId(), memberId, channel, granted, source, at: now });
      if (changed) {
        await emit(tx, { tenantId, type: 'member.consent_changed', aggregateType: 'member', aggregateId: memberId, memberId, payload: { member_id: memberId, channel, granted, source }, occurredAt: now });
      }
    }
  }

  private async view(db: Queryable, tenantId: string, row: MemberRow): Promise<MemberView> {
    const consents = await store.consentsOf(db, tenantId, [row.id]);
    return withConsent(row, consents.get(row.id) ?? []);
  }
}

function withConsent(row: MemberRow, consents: store.ConsentRow[]): MemberView {
  const consent = Object.fromEntries(
    CHANNELS.map((ch) => {
      const c = consents.find((x) => x.channel === ch);
      return [ch, c ? { granted: c.granted, source: c.source, updated_at: c.updated_at } : { granted: false, source: null, updated_at: null }];
    }),
  ) as Record<Channel, ConsentState>;
  return { ...row, consent };
}
