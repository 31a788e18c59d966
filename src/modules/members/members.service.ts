/**
 * Members: the people in a loyalty program. Addressable by Patron id and by the
 * shop's external_id; marketing consent per channel with its full history;
 * GDPR export and erasure (personal fields anonymised, ids and amounts kept so
 * that the books and analytics still add up).
 */
import type { Clock } from '../../platform/clock.js';
import type { Queryable } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { Locale } from '../../platform/http/schema.js';
import { emit } from '../../platform/outbox/outbox.js';
import { isTimeZone, type TenantsService } from '../tenants/tenants.service.js';
import { CHANNELS, LIMITS, type Channel, type CreateMemberInput, type UpdateMemberInput } from './members.schema.js';
import * as store from './members.store.js';
import type { MemberRow } from './members.store.js';

export type { MemberRow } from './members.store.js';

export interface ConsentState {
  granted: boolean;
  source: string | null;
  updated_at: Date | null;
}

export type MemberView = MemberRow & { consent: Record<Channel, ConsentState> };

/** A module's contribution to a member's GDPR export. */
export type ExportSection = (db: Queryable, tenantId: string, memberId: string) => Promise<unknown>;

/** Checks what JSON Schema cannot: real dates, time zones, attribute size. */
export function validateMemberFields(input: Partial<CreateMemberInput>, now: Date): FieldError[] {
  const errs: FieldError[] = [];
  if (input.birth_date) {
    const d = new Date(`${input.birth_date}T00:00:00Z`);
    if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== input.birth_date) errs.push({ field: 'birth_date', detail: 'is not a real date' });
    else if (d > now) errs.push({ field: 'birth_date', detail: 'must not be in the future' });
    else if (d.getUTCFullYear() < 1900) errs.push({ field: 'birth_date', detail: 'must be after 1900-01-01' });
  }
  if (input.time_zone && !isTimeZone(input.time_zone)) errs.push({ field: 'time_zone', detail: 'must be an IANA time zone such as Europe/Warsaw' });
  if (input.attributes) {
    if (Object.keys(input.attributes).length > LIMITS.attributesKeys) errs.push({ field: 'attributes', detail: `must have at most ${LIMITS.attributesKeys} keys` });
    if (Buffer.byteLength(JSON.stringify(input.attributes)) > LIMITS.attributesBytes) errs.push({ field: 'attributes', detail: `must be at most ${LIMITS.attributesBytes} bytes as JSON` });
  }
  if (input.enrolled_at && new Date(input.enrolled_at) > new Date(now.getTime() + 5 * 60_000)) errs.push({ field: 'enrolled_at', detail: 'must not be in the future' });
  return errs;
}

const CLIENT_FIELDS = ['external_id', 'email', 'phone', 'first_name', 'last_name', 'birth_date', 'locale', 'time_zone', 'attributes'] as const;

export class MembersService {
  private readonly exportSections = new Map<string, ExportSection>();

  constructor(
    private readonly clock: Clock,
    private readonly tenants: TenantsService,
  ) {}

  /** Lets another module add what it holds about a member to the GDPR export. */
  registerExportSection(name: string, section: ExportSection): void {
    this.exportSections.set(name, section);
  }

  async create(tx: Queryable, tenantId: string, input: CreateMemberInput): Promise<MemberView> {
    const now = this.clock.now();
    const errs = validateMemberFields(input, now);
    if (errs.length) throw errors.validation(errs);
    if (input.external_id && (await store.getMemberByExternalId(tx, tenantId, input.external_id))) {
      throw errors.conflict(`A member with external_id "${input.external_id}" already exists.`, [{ field: 'external_id', detail: 'is already taken' }]);
    }
    const row = await store.insertMember(tx, tenantId, {
      id: newId(),
      external_id: input.external_id ?? null,
      email: input.email ?? null,
      phone: input.phone ?? null,
      first_name: input.first_name ?? null,
      last_name: input.last_name ?? null,
      birth_date: input.birth_date ?? null,
      locale: input.locale ?? ((await this.tenants.getTenant(tx, tenantId))?.default_locale as Locale | undefined) ?? 'en',
      time_zone: input.time_zone ?? null,
      attributes: input.attributes ?? {},
      enrolled_at: input.enrolled_at ? new Date(input.enrolled_at) : now,
      now,
    });
    await emit(tx, { tenantId, type: 'member.created', aggregateType: 'member', aggregateId: row.id, memberId: row.id, payload: { member_id: row.id, external_id: row.external_id }, occurredAt: now });
    if (input.consent) await this.applyConsent(tx, tenantId, row.id, input.consent, input.consent_source ?? 'api');
    return this.view(tx, tenantId, row);
  }

  async get(db: Queryable, tenantId: string, id: string): Promise<MemberView> {
    const row = await store.getMember(db, tenantId, id);
    if (!row) throw errors.notFound('member', id);
    return this.view(db, tenantId, row);
  }

  async getByExternalId(db: Queryable, tenantId: string, externalId: string): Promise<MemberView> {
    const row = await store.getMemberByExternalId(db, tenantId, externalId);
    if (!row) throw errors.notFound('member with external_id', externalId);
    return this.view(db, tenantId, row);
  }

  /** The member's id for an external id, or null. */
  async idByExternalId(db: Queryable, tenantId: string, externalId: string): Promise<string | null> {
    return (await store.getMemberByExternalId(db, tenantId, externalId))?.id ?? null;
  }

  async list(db: Queryable, tenantId: string, filter: store.MemberFilter): Promise<MemberView[]> {
    const rows = await store.listMembers(db, tenantId, filter);
    const consents = await store.consentsOf(db, tenantId, rows.map((r) => r.id));
    return rows.map((r) => withConsent(r, consents.get(r.id) ?? []));
  }

  async update(tx: Queryable, tenantId: string, id: string, input: UpdateMemberInput): Promise<MemberView> {
    const now = this.clock.now();
    const errs = validateMemberFields(input, now);
    if (errs.length) throw errors.validation(errs);
    const current = await this.lockLive(tx, tenantId, id);
    if (input.external_id && input.external_id !== current.external_id) {
      const other = await store.getMemberByExternalId(tx, tenantId, input.external_id);
      if (other) throw errors.conflict(`A member with external_id "${input.external_id}" already exists.`, [{ field: 'external_id', detail: 'is already taken' }]);
    }
    const changes: Record<string, unknown> = {};
    for (const k of CLIENT_FIELDS) {
      const v = input[k];
      if (v === undefined) continue;
      if (JSON.stringify(v) !== JSON.stringify(current[k])) changes[k] = v;
    }
    let row = current;
    if (Object.keys(changes).length > 0) {
      row = await store.updateMember(tx, tenantId, id, changes, now);
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

  async consentHistory(db: Queryable, tenantId: string, id: string) {
    await this.get(db, tenantId, id);
    return store.consentHistory(db, tenantId, id);
  }

  /** Everything Patron holds about a member (GDPR access and portability). */
  async exportAll(db: Queryable, tenantId: string, id: string) {
    const member = await this.get(db, tenantId, id);
    const sections: Record<string, unknown> = {};
    for (const [name, section] of this.exportSections) sections[name] = await section(db, tenantId, id);
    return { exported_at: this.clock.now(), member, consent_history: await store.consentHistory(db, tenantId, id), sections };
  }

  /**
   * GDPR erasure: personal fields are cleared and every consent withdrawn; the
   * member row, its id and everything keyed by it (orders, points) remain, so
   * totals and analytics still add up. Irreversible; repeating it is a no-op.
   */
  async erase(tx: Queryable, tenantId: string, id: string): Promise<MemberView> {
    const current = await store.getMember(tx, tenantId, id, true);
    if (!current) throw errors.notFound('member', id);
    if (current.status === 'erased') return this.view(tx, tenantId, current);
    const now = this.clock.now();
    await this.applyConsent(tx, tenantId, id, { email: false, sms: false, push: false }, 'erasure');
    const row = await store.anonymise(tx, tenantId, id, now);
    await emit(tx, { tenantId, type: 'member.erased', aggregateType: 'member', aggregateId: id, memberId: id, payload: { member_id: id }, occurredAt: now });
    return this.view(tx, tenantId, row);
  }

  /** Locks a member that can still be changed (not erased). */
  private async lockLive(tx: Queryable, tenantId: string, id: string): Promise<MemberRow> {
    const row = await store.getMember(tx, tenantId, id, true);
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
