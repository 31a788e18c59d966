/**
 * Referrals (docs/program/referrals.md): every member has a code and a share link; a new member who signs up with
 * it is attributed to the referrer (POST /v1/referrals); their first qualifying purchase makes the referral
 * `qualifying`, and once its return window is over the `referrals.convert` job gives both sides their gifts.
 *
 * Locks, always in this order: a referrer's code row (attributions to one referrer, one at a time), then members'
 * books (`ledger.open`; two at once only in a conversion, by member id), then the referral row. An order hook runs
 * with the referee's book already open and only takes the referral row after it.
 */
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable, Tx } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { jsonBodyDigest } from '../../platform/idempotency/idempotency.js';
import { isUuid, newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import type { Ledger, MemberBook } from '../ledger/ledger.service.js';
import type { MemberRow, MembersService } from '../members/members.service.js';
import { fromLocal, toLocal } from '../programs/programs.policy.js';
import type { ProgramsService } from '../programs/programs.service.js';
import { giftErrors, type Gift, type GiftResult, type GiveGift } from '../rewards/rewards.gift.js';
import type { OrderHook, TransactionsService } from '../transactions/transactions.service.js';
import {
  disposableDomain, ipError, newCode, normaliseCode, normaliseEmail, normalisePhone, shareLink, signalsOf, templateError,
  type SignalKind,
} from './referrals.guards.js';
import { LIMIT_PERIODS, LIMITS, REFERRAL_STATUSES, type AttributeInput, type ReferralProgramPatch, type SignalsInput } from './referrals.schema.js';
import * as store from './referrals.store.js';
import type { Flag, ReferralRow, ReferralSettings } from './referrals.store.js';

export type { ReferralRow, ReferralSettings } from './referrals.store.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Referrals shown on a member's referral page; the rest are in GET /v1/referrals?referrer_id=… */
const MEMBER_PAGE_REFERRALS = 100;

export interface AttributeResult {
  referral: ReferralRow;
  /** False for a re-sent attribution: the answer is the first one. */
  created: boolean;
}

/** The API shape of a referral: the row without its bookkeeping (the body digest). */
export function referralView(r: ReferralRow) {
  const { body_digest: _d, ...rest } = r;
  return rest;
}

export function settingsView(s: ReferralSettings, currency: string) {
  return { ...s, currency };
}

const SIGNAL_FLAGS: Record<SignalKind, { flag: Flag['kind']; toggle: 'shared_device' | 'shared_ip' | 'shared_payment_fingerprint'; what: string }> = {
  device: { flag: 'shared_device', toggle: 'shared_device', what: 'device' },
  ip: { flag: 'shared_ip', toggle: 'shared_ip', what: 'IP address' },
  payment: { flag: 'shared_payment_fingerprint', toggle: 'shared_payment_fingerprint', what: 'payment fingerprint' },
};

/** Every problem of a settings patch the schema cannot see. Tolerates wrong types (the schema reports those). */
export function settingsErrors(input: unknown): FieldError[] {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return [];
  const p = input as Record<string, any>;
  const errs: FieldError[] = [];
  // A nullable object's schema error names the field itself beside its inner field ("must be null"): the inner
  // fields are checked here too, so the client reads one precise sentence per field.
  const isGift = (g: unknown) => g && typeof g === 'object' && !Array.isArray(g);
  for (const k of ['referrer_gift', 'referee_gift'] as const) if (isGift(p[k])) errs.push(...giftShapeErrors(k, p[k]), ...giftErrors(k, p[k]));
  if (isGift(p.limit)) {
    for (const k of Object.keys(p.limit)) if (k !== 'count' && k !== 'period') errs.push({ field: `limit.${k}`, detail: 'is not a known field' });
    if (!isInt(p.limit.count, 1, LIMITS.limitCount)) errs.push({ field: 'limit.count', detail: `must be a whole number from 1 to ${LIMITS.limitCount}` });
    if (!(LIMIT_PERIODS as readonly unknown[]).includes(p.limit.period)) errs.push({ field: 'limit.period', detail: `must be one of: ${LIMIT_PERIODS.join(', ')}` });
  }
  if (Array.isArray(p.milestones)) {
    const seen = new Set<number>();
    p.milestones.forEach((m: any, i: number) => {
      if (!m || typeof m !== 'object') return;
      if (isGift(m.gift)) errs.push(...giftErrors(`milestones[${i}].gift`, m.gift));
      if (Number.isInteger(m.count)) {
        if (seen.has(m.count)) errs.push({ field: `milestones[${i}].count`, detail: `repeats the milestone ${m.count}` });
        seen.add(m.count);
      }
    });
  }
  if (typeof p.share_link_template === 'string') {
    const bad = templateError(p.share_link_template);
    if (bad) errs.push({ field: 'share_link_template', detail: bad });
  }
  return errs;
}

const isInt = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** The shape of a gift, as its schema checks it (see settingsErrors). */
function giftShapeErrors(field: string, g: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of Object.keys(g)) if (!['points', 'reward_id', 'credit'].includes(k)) errs.push({ field: `${field}.${k}`, detail: 'is not a known field' });
  if (g.points !== undefined && !isInt(g.points, 1, 1_000_000_000)) errs.push({ field: `${field}.points`, detail: 'must be a whole number from 1 to 1000000000' });
  if (g.credit !== undefined && !isInt(g.credit, 1, 1_000_000_000_000)) errs.push({ field: `${field}.credit`, detail: 'must be a whole number from 1 to 1000000000000' });
  if (g.reward_id !== undefined && (typeof g.reward_id !== 'string' || !isUuid(g.reward_id))) errs.push({ field: `${field}.reward_id`, detail: 'must be a UUID' });
  return errs;
}

/** The checks of an attribution the schema cannot make (which member, a real IP). */
export function attributionErrors(input: unknown): FieldError[] {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return [];
  const i = input as Record<string, unknown>;
  const errs: FieldError[] = [];
  if (i.member_id === undefined && i.member_external_id === undefined) errs.push({ field: 'member_id', detail: 'send member_id or member_external_id' });
  if (i.member_id !== undefined && i.member_external_id !== undefined) errs.push({ field: 'member_external_id', detail: 'send member_id or member_external_id, not both' });
  if (typeof i.code === 'string' && !/^[A-Z0-9]{1,32}$/.test(normaliseCode(i.code))) errs.push({ field: 'code', detail: 'must be letters and digits (dashes and spaces are ignored)' });
  errs.push(...signalErrors(i));
  return errs;
}

export function signalErrors(input: unknown): FieldError[] {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return [];
  const ip = (input as Record<string, unknown>).ip;
  const bad = typeof ip === 'string' ? ipError(ip) : null;
  return bad ? [{ field: 'ip', detail: bad }] : [];
}

export interface ReferralsDeps {
  clock: Clock;
  ledger: Ledger;
  members: MembersService;
  programs: Pick<ProgramsService, 'get'>;
  transactions: Pick<TransactionsService, 'get' | 'list'>;
  giveGift: GiveGift;
}

export class ReferralsService {
  constructor(private readonly deps: ReferralsDeps) {}

  // ── Settings ───────────────────────────────────────────────────────────

  async settings(q: Queryable, tenantId: string): Promise<ReferralSettings> {
    return (await store.getSettings(q, tenantId)) ?? { ...structuredClone(store.DEFAULT_SETTINGS), updated_at: null };
  }

  /** The settings with the program currency (GET and PATCH /v1/referral-program). */
  async settingsOf(q: Queryable, tenantId: string) {
    const program = await this.deps.programs.get(q, tenantId);
    return settingsView(await this.settings(q, tenantId), program.currency);
  }

  checkSettings(input: unknown): FieldError[] {
    return settingsErrors(input);
  }

  /** Changes the settings sent; emits referral_program.updated with the names of those that changed. */
  async updateSettings(tx: Tx, tenantId: string, patch: ReferralProgramPatch) {
    const errs = settingsErrors(patch);
    if (errs.length) throw errors.validation(errs);
    const program = await this.deps.programs.get(tx, tenantId);
    const current = await store.lockSettings(tx, tenantId);
    const next: ReferralSettings = structuredClone(current);
    const changed: string[] = [];
    const set = <K extends keyof ReferralSettings>(k: K, v: ReferralSettings[K]) => {
      if (JSON.stringify(v) === JSON.stringify(current[k])) return;
      next[k] = v;
      changed.push(k);
    };
    if (patch.enabled !== undefined) set('enabled', patch.enabled);
    if (patch.referrer_gift !== undefined) set('referrer_gift', patch.referrer_gift);
    if (patch.referee_gift !== undefined) set('referee_gift', patch.referee_gift);
    if (patch.min_purchase_amount !== undefined) set('min_purchase_amount', patch.min_purchase_amount);
    if (patch.purchase_within_days !== undefined) set('purchase_within_days', patch.purchase_within_days);
    if (patch.return_window_days !== undefined) set('return_window_days', patch.return_window_days);
    if (patch.limit !== undefined) set('limit', patch.limit);
    if (patch.milestones !== undefined) set('milestones', [...patch.milestones].sort((a, b) => a.count - b.count));
    if (patch.share_link_template !== undefined) set('share_link_template', patch.share_link_template);
    if (patch.review !== undefined) set('review', { ...current.review, ...patch.review } as store.ReviewSettings);
    if (patch.extra_disposable_domains !== undefined) set('extra_disposable_domains', [...new Set(patch.extra_disposable_domains.map((d) => d.toLowerCase()))]);
    if (changed.length === 0) return settingsView(current, program.currency);
    const now = this.deps.clock.now();
    const saved = await store.saveSettings(tx, tenantId, next, now);
    await emit(tx, { tenantId, type: 'referral_program.updated', aggregateType: 'referral_program', aggregateId: tenantId, occurredAt: now, payload: { changed_fields: changed } });
    return settingsView(saved, program.currency);
  }

  // ── Codes and the member's page ────────────────────────────────────────

  /** The member's code, made on first use (unique per tenant: a clash with another member's code draws again). */
  async ensureCode(tx: Tx, tenantId: string, memberId: string): Promise<string> {
    const existing = await store.codeOfMember(tx, tenantId, memberId);
    if (existing) return existing.code;
    const now = this.deps.clock.now();
    for (let attempt = 0; attempt < 10; attempt++) {
      const made = await store.insertCode(tx, tenantId, memberId, newCode(), now);
      if (made) {
        await emit(tx, { tenantId, type: 'referral_code.created', aggregateType: 'member', aggregateId: memberId, memberId, occurredAt: now, payload: { member_id: memberId, code: made.code } });
        return made.code;
      }
      // Made meanwhile by a concurrent first read (the insert waited for it), or the code is another member's.
      const mine = await store.codeOfMember(tx, tenantId, memberId);
      if (mine) return mine.code;
    }
    throw new Error('referrals: no free referral code after 10 draws');
  }

  /** The member's code and share link, or null when they have none yet: a read that never makes a code (messages). */
  async codeOf(q: Queryable, tenantId: string, memberId: string): Promise<{ code: string; link: string | null } | null> {
    const row = await store.codeOfMember(q, tenantId, memberId);
    if (!row) return null;
    return { code: row.code, link: shareLink((await this.settings(q, tenantId)).share_link_template, row.code) };
  }

  /** GET /v1/members/{id}/referral: the code (made now if the member has none), link, stats and referrals. */
  async memberReferral(tx: Tx, tenantId: string, memberId: string) {
    const member = await this.deps.members.findOr404(tx, tenantId, memberId);
    const settings = await this.settings(tx, tenantId);
    // An erased member gets no new code (nothing of theirs is made after erasure); one made before is kept.
    const code = member.status === 'erased' ? (await store.codeOfMember(tx, tenantId, memberId))?.code ?? null : await this.ensureCode(tx, tenantId, memberId);
    const counts = await store.statusCounts(tx, tenantId, memberId);
    const stats: Record<string, number> = { total: Object.values(counts).reduce((a, b) => a + b, 0) };
    for (const s of REFERRAL_STATUSES) stats[s] = counts[s] ?? 0;
    const referrals = await store.listReferrals(tx, tenantId, { referrerId: memberId, limit: MEMBER_PAGE_REFERRALS });
    const by = await store.getByReferee(tx, tenantId, memberId);
    return {
      member_id: memberId,
      code,
      link: code ? shareLink(settings.share_link_template, code) : null,
      stats,
      milestones: (await store.milestonesOf(tx, tenantId, memberId)).map((m) => ({ count: m.count, reached_at: m.reached_at, reward: m.reward })),
      referrals: referrals.map((r) => ({
        id: r.id, referee_id: r.referee_id, status: r.status, reason: r.reason, attributed_at: r.attributed_at,
        purchased_at: r.purchased_at, convert_after: r.convert_after, converted_at: r.converted_at,
      })),
      referred_by: by ? { referral_id: by.id, referrer_id: by.referrer_id, status: by.status } : null,
    };
  }

  /** Records what the shop saw of a member (compared with later sign-ups on their code). */
  async recordSignals(tx: Tx, tenantId: string, memberId: string, input: SignalsInput) {
    const errs = signalErrors(input);
    if (errs.length) throw errors.validation(errs);
    const member = await this.deps.members.findOr404(tx, tenantId, memberId);
    if (member.status === 'erased') throw errors.unprocessable(`Member ${memberId} was erased.`);
    const now = this.deps.clock.now();
    const signals = signalsOf(input);
    const recorded = await store.recordSignals(tx, tenantId, memberId, signals, now);
    if (recorded > 0) {
      await emit(tx, {
        tenantId, type: 'referral.signals_recorded', aggregateType: 'member', aggregateId: memberId, memberId, occurredAt: now,
        payload: { member_id: memberId, kinds: [...new Set(signals.map((s) => s.kind))], recorded },
      });
    }
    return { member_id: memberId, recorded };
  }

  // ── Attribution ────────────────────────────────────────────────────────

  private async resolveMember(q: Queryable, tenantId: string, input: AttributeInput): Promise<MemberRow> {
    if (input.member_id !== undefined) {
      const m = await this.deps.members.find(q, tenantId, { id: input.member_id });
      if (!m) throw errors.unprocessable(`No member with id ${input.member_id}.`, [{ field: 'member_id', detail: 'is not a member of this program' }]);
      return m;
    }
    const m = await this.deps.members.find(q, tenantId, { externalId: input.member_external_id! });
    if (!m) throw errors.unprocessable(`No member with external_id ${input.member_external_id}.`, [{ field: 'member_external_id', detail: 'is not a member of this program (create the member first)' }]);
    return m;
  }

  private same(existing: ReferralRow, digest: string): AttributeResult {
    if (existing.body_digest !== digest) {
      throw errors.conflict('The member was already attributed to a referral.', [{ field: 'member_id', detail: 'is already attributed to a referral (one attribution per member)' }]);
    }
    return { referral: existing, created: false };
  }

  /** The first instant of the current calendar month or year in the tenant's time zone. */
  private periodStart(now: Date, period: 'month' | 'year', timeZone: string): Date {
    const l = toLocal(now, timeZone);
    return fromLocal({ year: l.year, month: period === 'year' ? 1 : l.month, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
  }

  /** Why the sign-up looks suspicious (the review guards the settings switch on); empty when it does not. */
  private async reviewFlags(tx: Tx, tenantId: string, s: ReferralSettings, input: AttributeInput, email: string | null, referrerId: string, refereeId: string, now: Date): Promise<Flag[]> {
    const flags: Flag[] = [];
    for (const sig of signalsOf(input)) {
      const how = SIGNAL_FLAGS[sig.kind];
      if (!s.review[how.toggle]) continue;
      const m = await store.signalMatches(tx, tenantId, sig.kind, sig.hash, referrerId, refereeId);
      if (m.referrer) flags.push({ kind: how.flag, detail: `the referrer was seen with the same ${how.what}` });
      if (m.referees > 0) flags.push({ kind: how.flag, detail: `${m.referees} other referee(s) of this code were seen with the same ${how.what}` });
    }
    if (s.review.disposable_email) {
      const domain = disposableDomain(email, s.extra_disposable_domains);
      if (domain) flags.push({ kind: 'disposable_email', detail: `the email address is at a disposable-email domain (${domain})` });
    }
    if (s.review.burst_per_hour !== null) {
      const recent = await store.countAttributedSince(tx, tenantId, referrerId, new Date(now.getTime() - HOUR_MS), true);
      if (recent >= s.review.burst_per_hour) flags.push({ kind: 'burst', detail: `${recent + 1} sign-ups on this code within an hour (more than ${s.review.burst_per_hour})` });
    }
    return flags;
  }

  /**
   * A new member signed up with a code. One attribution per member: a re-send with the same body answers with the
   * first (200), another body is a 409. Refused (422, nothing stored): an unknown code, a self-referral (the
   * member's own code, or the referrer's email after normalisation or phone), a member who has purchased before,
   * a blocked or erased member on either side, the program switched off. Stored as `rejected` (limit_reached) when
   * the referrer is over their limit for the period, as `in_review` when a guard flags it.
   */
  async attribute(tx: Tx, tenantId: string, input: AttributeInput): Promise<AttributeResult> {
    const errs = attributionErrors(input);
    if (errs.length) throw errors.validation(errs);
    const now = this.deps.clock.now();
    const code = normaliseCode(input.code);
    const digest = jsonBodyDigest({
      code, member_id: input.member_id ?? null, member_external_id: input.member_external_id ?? null, email: input.email ?? null,
      phone: input.phone ?? null, device_id: input.device_id ?? null, ip: input.ip ?? null, payment_fingerprint: input.payment_fingerprint ?? null,
    });
    const member = await this.resolveMember(tx, tenantId, input);
    const existing = await store.getByReferee(tx, tenantId, member.id);
    if (existing) return this.same(existing, digest);

    const settings = await this.settings(tx, tenantId);
    if (!settings.enabled) throw errors.unprocessable('The referral program is not enabled (PATCH /v1/referral-program).');
    const codeRow = await store.lockCode(tx, tenantId, code);
    if (!codeRow) throw errors.unprocessable(`No referral code ${code}.`, [{ field: 'code', detail: 'is not a referral code of this program' }]);
    const memberField = input.member_id !== undefined ? 'member_id' : 'member_external_id';
    if (codeRow.member_id === member.id) throw errors.unprocessable('A member cannot refer themselves.', [{ field: 'code', detail: "is the member's own code" }]);
    if (member.status !== 'active') throw errors.unprocessable(`Member ${member.id} is ${member.status}.`, [{ field: memberField, detail: `is ${member.status}` }]);
    const referrer = (await this.deps.members.find(tx, tenantId, { id: codeRow.member_id }))!;
    if (referrer.status !== 'active') throw errors.unprocessable(`The code's member is ${referrer.status}.`, [{ field: 'code', detail: `belongs to a member who is ${referrer.status}` }]);
    const email = input.email ?? member.email;
    const selfErrs: FieldError[] = [];
    const nEmail = normaliseEmail(email);
    if (nEmail && nEmail === normaliseEmail(referrer.email)) selfErrs.push({ field: input.email !== undefined ? 'email' : 'code', detail: "is the referrer's email address (a self-referral)" });
    const nPhone = normalisePhone(input.phone ?? member.phone);
    if (nPhone && nPhone === normalisePhone(referrer.phone)) selfErrs.push({ field: input.phone !== undefined ? 'phone' : 'code', detail: "is the referrer's phone number (a self-referral)" });
    if (selfErrs.length) throw errors.unprocessable('A member cannot refer themselves.', selfErrs);

    // The referee's book: a purchase of theirs running now is either seen here or sees this referral.
    const program = await this.deps.programs.get(tx, tenantId);
    await this.deps.ledger.open(tx, tenantId, member.id, program.negative_balance);
    if (await this.hasPurchased(tx, tenantId, member.id)) {
      throw errors.unprocessable('Only a new member can be referred: this one has purchased before.', [{ field: memberField, detail: 'has purchased before' }]);
    }

    let status: ReferralRow['status'] = 'pending_purchase';
    let reason: string | null = null;
    let flags: Flag[] = [];
    if (settings.limit && (await store.countAttributedSince(tx, tenantId, referrer.id, this.periodStart(now, settings.limit.period, program.time_zone), false)) >= settings.limit.count) {
      status = 'rejected';
      reason = 'limit_reached';
    } else {
      flags = await this.reviewFlags(tx, tenantId, settings, input, email, referrer.id, member.id, now);
      if (flags.length > 0) status = 'in_review';
    }
    const row = await store.insertReferral(tx, tenantId, {
      id: newId(), code, referrer_id: referrer.id, referee_id: member.id, status, reason, review_flags: flags,
      terms: {
        referrer_gift: settings.referrer_gift, referee_gift: settings.referee_gift, min_purchase_amount: settings.min_purchase_amount,
        currency: program.currency, purchase_within_days: settings.purchase_within_days, return_window_days: settings.return_window_days,
      },
      body_digest: digest, attributed_at: now, qualify_by: new Date(now.getTime() + settings.purchase_within_days * DAY_MS),
      closed_at: status === 'rejected' ? now : null,
    });
    if (!row) return this.same((await store.getByReferee(tx, tenantId, member.id))!, digest);
    await store.recordSignals(tx, tenantId, member.id, signalsOf(input), now);
    await this.event(tx, tenantId, 'referral.attributed', row, now);
    if (status === 'rejected') await this.event(tx, tenantId, 'referral.rejected', row, now);
    if (status === 'in_review') await this.event(tx, tenantId, 'referral.flagged', row, now, { flags: flags.map((f) => f.kind) });
    return { referral: row, created: true };
  }

  private async hasPurchased(q: Queryable, tenantId: string, memberId: string): Promise<boolean> {
    const orders = await this.deps.transactions.list(q, tenantId, { memberId, type: 'purchase', limit: 100 });
    return orders.some((o) => o.status === 'recorded');
  }

  /** Events carry ids, status and reason: no personal data. */
  private async event(tx: Queryable, tenantId: string, type: string, r: ReferralRow, at: Date, extra: Record<string, unknown> = {}): Promise<void> {
    await emit(tx, {
      tenantId, type, aggregateType: 'referral', aggregateId: r.id, memberId: r.referrer_id, occurredAt: at,
      payload: { referral_id: r.id, referrer_id: r.referrer_id, referee_id: r.referee_id, status: r.status, reason: r.reason, ...extra },
    });
  }

  // ── Review ─────────────────────────────────────────────────────────────

  async get(q: Queryable, tenantId: string, id: string): Promise<ReferralRow> {
    const r = isUuid(id) ? await store.getReferral(q, tenantId, id) : null;
    if (!r) throw errors.notFound('referral', id);
    return r;
  }

  list(q: Queryable, tenantId: string, f: Parameters<typeof store.listReferrals>[2]): Promise<ReferralRow[]> {
    return store.listReferrals(q, tenantId, f);
  }

  /**
   * Approves a referral in review: on to `qualifying` when the referee's qualifying purchase came meanwhile, else
   * `pending_purchase` (or `expired` when its purchase deadline passed without one).
   */
  async approve(tx: Tx, tenantId: string, id: string): Promise<ReferralRow> {
    const r = await this.get(tx, tenantId, id);
    const locked = (await store.getReferral(tx, tenantId, r.id, true))!;
    if (locked.status !== 'in_review') throw errors.unprocessable(`The referral is ${locked.status}: only a referral in review can be approved.`);
    const now = this.deps.clock.now();
    const status = locked.purchase_id ? 'qualifying' : now > locked.qualify_by ? 'expired' : 'pending_purchase';
    const updated = await store.updateReferral(tx, tenantId, r.id, {
      status, reviewed_at: now, ...(status === 'expired' ? { reason: 'no_qualifying_purchase', closed_at: now } : {}),
    }, now);
    await this.event(tx, tenantId, 'referral.approved', updated, now);
    if (status === 'expired') await this.event(tx, tenantId, 'referral.expired', updated, now);
    return updated;
  }

  /** Rejects a referral that has not converted yet (in review, waiting for or past its purchase). */
  async reject(tx: Tx, tenantId: string, id: string, reason: string): Promise<ReferralRow> {
    const r = await this.get(tx, tenantId, id);
    const locked = (await store.getReferral(tx, tenantId, r.id, true))!;
    if (!['in_review', 'pending_purchase', 'qualifying'].includes(locked.status)) {
      throw errors.unprocessable(`The referral is ${locked.status}: only one in review, pending a purchase or qualifying can be rejected.`);
    }
    const now = this.deps.clock.now();
    const updated = await store.updateReferral(tx, tenantId, r.id, { status: 'rejected', reason, reviewed_at: now, closed_at: now }, now);
    await this.event(tx, tenantId, 'referral.rejected', updated, now);
    return updated;
  }

  // ── Orders ─────────────────────────────────────────────────────────────

  /**
   * The referee's first qualifying purchase (at least the minimum, by the deadline) makes the referral `qualifying`
   * (a referral in review keeps its status and the purchase); a return or void that takes it below the minimum
   * undoes that: back to `pending_purchase` while the deadline has not passed, else `expired`.
   */
  orderHook(): OrderHook {
    return {
      name: 'referrals',
      purchased: async (tx, e) => {
        const r = await store.getByReferee(tx, e.tenantId, e.member.id, true);
        if (!r || (r.status !== 'pending_purchase' && r.status !== 'in_review') || r.purchase_id !== null) return;
        const t = e.transaction;
        if (t.total < r.terms.min_purchase_amount || t.currency.trim() !== r.terms.currency || t.occurred_at > r.qualify_by) return;
        const now = this.deps.clock.now();
        const updated = await store.updateReferral(tx, e.tenantId, r.id, {
          status: r.status === 'pending_purchase' ? 'qualifying' : 'in_review',
          purchase_id: t.id, purchase_total: t.total, purchased_at: t.occurred_at,
          convert_after: new Date(t.occurred_at.getTime() + r.terms.return_window_days * DAY_MS),
        }, now);
        await this.event(tx, e.tenantId, 'referral.qualified', updated, now, { transaction_id: t.id, convert_after: updated.convert_after!.toISOString() });
      },
      returned: async (tx, e) => {
        await this.recheck(tx, e.tenantId, e.memberId, e.purchase.id, e.purchase.total - e.purchase.returned_total, e.purchase.status === 'voided', 'purchase_returned');
      },
      voided: async (tx, e) => {
        await this.recheck(tx, e.tenantId, e.memberId, e.purchase.id, e.purchase.total - e.purchase.returned_total, e.purchase.status === 'voided', 'purchase_voided');
      },
    };
  }

  /** After a return or void of the referee's qualifying purchase: still enough kept, or the referral loses it. */
  private async recheck(tx: Tx, tenantId: string, memberId: string, purchaseId: string, kept: number, voided: boolean, why: string): Promise<void> {
    const r = await store.getByReferee(tx, tenantId, memberId, true);
    if (!r || r.purchase_id !== purchaseId || (r.status !== 'qualifying' && r.status !== 'in_review')) return;
    if (!voided && kept >= r.terms.min_purchase_amount) return;
    await this.losePurchase(tx, tenantId, r, why);
  }

  private async losePurchase(tx: Queryable, tenantId: string, r: ReferralRow, why: string): Promise<ReferralRow> {
    const now = this.deps.clock.now();
    const open = now <= r.qualify_by;
    const status = r.status === 'in_review' && open ? 'in_review' : open ? 'pending_purchase' : 'expired';
    const updated = await store.updateReferral(tx, tenantId, r.id, {
      status, purchase_id: null, purchase_total: null, purchased_at: null, convert_after: null,
      ...(status === 'expired' ? { reason: why, closed_at: now } : {}),
    }, now);
    await this.event(tx, tenantId, 'referral.disqualified', updated, now, { reason: why, transaction_id: r.purchase_id });
    return updated;
  }

  // ── Conversion ─────────────────────────────────────────────────────────

  /**
   * Converts one referral whose return window is over: both members' books are opened (by member id, so two
   * conversions sharing a member never wait on each other in a circle), then the referral row is locked and its
   * status read again: a second run of the job, or a reject meanwhile, finds it no longer `qualifying` and does
   * nothing. Both gifts, the milestone bonus and the events commit together or not at all.
   */
  async convert(db: Db, tenantId: string, id: string): Promise<ReferralRow | null> {
    return db.tx(async (tx) => {
      const peek = await store.getReferral(tx, tenantId, id);
      if (!peek || peek.status !== 'qualifying') return null;
      const program = await this.deps.programs.get(tx, tenantId);
      const books = new Map<string, MemberBook>();
      for (const m of [peek.referrer_id, peek.referee_id].sort()) books.set(m, await this.deps.ledger.open(tx, tenantId, m, program.negative_balance));
      const r = (await store.getReferral(tx, tenantId, id, true))!;
      const now = this.deps.clock.now();
      if (r.status !== 'qualifying' || !r.convert_after || r.convert_after > now) return null;
      const purchase = await this.deps.transactions.get(tx, tenantId, r.purchase_id!);
      if (purchase.status === 'voided' || purchase.total - purchase.returned_total < r.terms.min_purchase_amount) {
        return this.losePurchase(tx, tenantId, r, purchase.status === 'voided' ? 'purchase_voided' : 'purchase_returned');
      }
      const referrer = await this.deps.members.find(tx, tenantId, { id: r.referrer_id });
      const referee = await this.deps.members.find(tx, tenantId, { id: r.referee_id });
      // A blocked or erased member gets nothing, as they earn nothing; the referral converts for the other side.
      const give = async (m: MemberRow | null, gift: Gift | null, reason: string): Promise<GiftResult | null> =>
        m && m.status === 'active' && gift ? this.deps.giveGift(tx, books.get(m.id)!, gift, { source_type: 'referral', source_id: r.id, reason }) : null;
      const referrerReward = await give(referrer, r.terms.referrer_gift, 'referral: a friend you referred made their first purchase');
      const refereeReward = await give(referee, r.terms.referee_gift, 'referral: welcome gift for joining through a friend');
      const updated = await store.updateReferral(tx, tenantId, r.id, { status: 'converted', converted_at: now, referrer_reward: referrerReward, referee_reward: refereeReward }, now);
      await this.event(tx, tenantId, 'referral.converted', updated, now, { referrer_reward: referrerReward, referee_reward: refereeReward });

      // The referrer's book is locked: conversions of one referrer are counted one at a time.
      const converted = await store.countConverted(tx, tenantId, r.referrer_id);
      const milestone = (await this.settings(tx, tenantId)).milestones.find((m) => m.count === converted);
      if (milestone && referrer?.status === 'active' && !(await store.milestonesOf(tx, tenantId, r.referrer_id)).some((m) => m.count === converted)) {
        const reward = (await give(referrer, milestone.gift, `referral milestone: ${converted} friends referred`))!;
        await store.insertMilestone(tx, tenantId, r.referrer_id, { count: converted, referral_id: r.id, reward, reached_at: now });
        await emit(tx, {
          tenantId, type: 'referral.milestone_reached', aggregateType: 'member', aggregateId: r.referrer_id, memberId: r.referrer_id, occurredAt: now,
          payload: { member_id: r.referrer_id, count: converted, referral_id: r.id, reward },
        });
      }
      return updated;
    });
  }

  /**
   * The job's work for one tenant: referrals waiting for a purchase past their deadline expire, and those whose
   * return window is over convert, each in its own transaction. One that cannot convert (a gift that cannot be
   * given) is counted as failed and left for the next run; the others go on.
   */
  async convertDue(db: Db, tenantId: string, onError: (id: string, err: unknown) => void = () => undefined, batch = 200): Promise<{ converted: number; disqualified: number; expired: number; failed: number }> {
    const out = { converted: 0, disqualified: 0, expired: 0, failed: 0 };
    for (;;) {
      const expired = await db.tx(async (tx) => {
        const now = this.deps.clock.now();
        const rows = await store.expirePending(tx, tenantId, now, batch);
        for (const r of rows) await this.event(tx, tenantId, 'referral.expired', r, now);
        return rows.length;
      });
      out.expired += expired;
      if (expired < batch) break;
    }
    let after: string | null = null;
    for (;;) {
      const ids = await store.dueIds(db, tenantId, this.deps.clock.now(), after, batch);
      for (const id of ids) {
        try {
          const r = await this.convert(db, tenantId, id);
          if (r?.status === 'converted') out.converted++;
          else if (r) out.disqualified++;
        } catch (err) {
          out.failed++;
          onError(id, err);
        }
      }
      if (ids.length < batch) break;
      after = ids[ids.length - 1]!;
    }
    return out;
  }

  // ── GDPR ───────────────────────────────────────────────────────────────

  async exportMember(q: Queryable, tenantId: string, memberId: string) {
    return {
      code: (await store.codeOfMember(q, tenantId, memberId))?.code ?? null,
      referrals: (await store.listReferrals(q, tenantId, { referrerId: memberId, limit: 100_000 })).map(referralView),
      referred_by: await store.getByReferee(q, tenantId, memberId).then((r) => (r ? referralView(r) : null)),
      milestones: await store.milestonesOf(q, tenantId, memberId),
    };
  }

  /** Erasure: the signals seen of the member (device, IP, payment hashes) go. */
  eraseMember(tx: Queryable, tenantId: string, memberId: string): Promise<void> {
    return store.deleteSignals(tx, tenantId, memberId);
  }
}
