/**
 * Stamp cards (docs/program/stamp-cards.md): card types of a tenant, each member's cards, and the stamps that purchases,
 * visits and admins put on them. A full card gives its reward (a Gift, through the one GiveGift) and the next card
 * starts at once, with the stamps that did not fit.
 *
 * Every stamp is a `stamp_events` row on the card it went to, and the card's count changes in the same transaction, so
 * a card's count is always the sum of its rows. Every write for a member runs with the member's points locked
 * (ledger.open, or the book an order or event hook is handed), so one member's stamps change one write at a time and
 * a reward's points go through that same book.
 *
 * Returns and voids take back what the purchase still holds on each card type (`stamp_purchases`), recomputed for
 * the part of the purchase the member keeps. They come off the member's current card; when the card that got them
 * was already filled and rewarded, the current card goes below zero and the next stamps fill that hole first (the
 * reward is not taken back, and no stamp is earned twice).
 */
import type { Clock } from '../../platform/clock.js';
import type { TenantCache, TenantConfig } from '../../platform/db/tenant-cache.js';
import type { Queryable, Tx } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import type { EventHook } from '../events/events.service.js';
import type { Ledger, MemberBook } from '../ledger/ledger.service.js';
import type { MembersService } from '../members/members.service.js';
import { toLocal } from '../programs/programs.policy.js';
import type { ProgramsService } from '../programs/programs.service.js';
import { giftErrors, giveOrReport, type GiftResult, type GiveGift } from '../rewards/rewards.gift.js';
import type { OrderHook, TransactionRow } from '../transactions/transactions.service.js';
import type { CreateStampCardTypeInput, LocalizedTextValue, ManualStampInput, UpdateStampCardTypeInput } from './stamp-cards.schema.js';
import * as store from './stamp-cards.store.js';
import type { CardRow, CardSummary, PurchaseRow, StampKind, TypeRow } from './stamp-cards.store.js';

export type { TypeRow as StampCardTypeRow } from './stamp-cards.store.js';

type Line = NonNullable<TransactionRow['lines']>[number];

export interface MemberCardView {
  type_id: string;
  name: LocalizedTextValue;
  type_status: 'active' | 'archived';
  stamp_on: 'purchase' | 'visit';
  card_id: string | null;
  number: number;
  stamps: number;
  stamps_needed: number;
  stamps_left: number;
  completed_count: number;
  last_completed_at: Date | null;
  reward: TypeRow['reward'];
}

export interface CompletedCard {
  card_id: string;
  number: number;
  reward: GiftResult;
}

export interface StampResult {
  type_id: string;
  member_id: string;
  stamps: number;
  completed: CompletedCard[];
  card: MemberCardView;
}

/** Why stamps move, as recorded on their rows. */
interface StampMeta {
  kind: StampKind;
  transaction_id?: string | null;
  event_id?: string | null;
  visit_day?: string | null;
  reason?: string | null;
  actor?: string | null;
  occurred_at: Date;
}

const VISIT_EVENT = 'visit';
const PURCHASE_ONLY = ['min_amount', 'skus', 'categories'] as const;

const inWindow = (t: TypeRow, at: Date) => (!t.valid_from || at >= t.valid_from) && (!t.valid_until || at < t.valid_until);

const localDay = (at: Date, timeZone: string) => {
  const l = toLocal(at, timeZone);
  return `${String(l.year).padStart(4, '0')}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
};

const matches = (t: TypeRow, sku: string, category: string | null | undefined) =>
  (!t.skus || t.skus.includes(sku)) && (!t.categories || (category != null && t.categories.includes(category)));

/**
 * Qualifying units of a basket: the quantity of the lines that match the type's products and categories. A purchase
 * without lines is one unit when the type names no product or category (there is nothing to match), else none.
 * `categoryOf` fills in the category of a returned line from the purchase's line of the same sku.
 */
function unitsOf(t: TypeRow, lines: Line[] | null, categoryOf?: Map<string, string | null | undefined>): number {
  if (!lines || lines.length === 0) return categoryOf ? 0 : t.skus || t.categories ? 0 : 1;
  return lines.filter((l) => matches(t, l.sku, l.category ?? categoryOf?.get(l.sku))).reduce((s, l) => s + l.quantity, 0);
}

/** The stamps a (kept part of a) purchase earns on a purchase card. */
function stampsFor(t: TypeRow, units: number, total: number): number {
  if (units <= 0 || total <= 0) return 0;
  if (t.min_amount !== null && total < t.min_amount) return 0;
  return t.stamps_per === 'unit' ? units * t.stamps_each : t.stamps_each;
}

export class StampCardsService {
  /** The active card types every order and visit reads, per process; every change of a type announces itself. */
  private readonly active: TenantCache<TypeRow[]> | null;

  constructor(private readonly deps: { clock: Clock; ledger: Ledger; members: MembersService; programs: ProgramsService; giveGift: GiveGift; config?: TenantConfig }) {
    this.active = deps.config?.cache<TypeRow[]>() ?? null;
  }

  private activeTypes(q: Queryable, tenantId: string): Promise<TypeRow[]> {
    return this.active ? this.active.get(tenantId, () => store.activeTypes(q, tenantId)) : store.activeTypes(q, tenantId);
  }

  // ── Card types ──────────────────────────────────────────────────────────────

  /** What the schema cannot check in a new type; every bad field at once (tolerates wrong types: the schema reports those). */
  checkCreate(body: unknown): FieldError[] {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return [];
    const b = body as Partial<CreateStampCardTypeInput>;
    return this.shapeErrors({ ...b, stamp_on: b.stamp_on ?? 'purchase' });
  }

  checkPatch(body: unknown): FieldError[] {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return [];
    const b = body as Record<string, unknown>;
    const errs: FieldError[] = [];
    if ('stamp_on' in b) errs.push({ field: 'stamp_on', detail: 'cannot change: create another card type' });
    return [...errs, ...this.shapeErrors(b as Partial<CreateStampCardTypeInput>)];
  }

  private shapeErrors(b: Partial<Omit<CreateStampCardTypeInput, 'min_amount' | 'skus' | 'categories' | 'valid_from' | 'valid_until'>> & Record<string, unknown>): FieldError[] {
    const errs: FieldError[] = [];
    if (b.reward && typeof b.reward === 'object') errs.push(...giftErrors('reward', b.reward));
    if (b.stamp_on === 'visit') {
      for (const k of PURCHASE_ONLY) if (b[k] !== undefined && b[k] !== null) errs.push({ field: k, detail: 'applies only to cards with stamp_on purchase (a visit is any purchase)' });
      if (b.stamps_per === 'unit') errs.push({ field: 'stamps_per', detail: 'must be purchase for a visit card (one stamp per visit)' });
    }
    const from = typeof b.valid_from === 'string' ? new Date(b.valid_from) : null;
    const until = typeof b.valid_until === 'string' ? new Date(b.valid_until) : null;
    if (from && until && !Number.isNaN(from.getTime()) && !Number.isNaN(until.getTime()) && until <= from) errs.push({ field: 'valid_until', detail: 'must be after valid_from' });
    return errs;
  }

  async create(tx: Tx, tenantId: string, input: CreateStampCardTypeInput): Promise<TypeRow> {
    const errs = this.checkCreate(input);
    if (errs.length) throw errors.validation(errs);
    const now = this.deps.clock.now();
    const row = await store.insertType(tx, tenantId, {
      id: newId(), name: input.name, description: input.description ?? null, stamps_needed: input.stamps_needed, stamp_on: input.stamp_on ?? 'purchase',
      stamps_per: input.stamps_per ?? 'purchase', stamps_each: input.stamps_each ?? 1, min_amount: input.min_amount ?? null, skus: input.skus ?? null,
      categories: input.categories ?? null, reward: input.reward, valid_from: input.valid_from ? new Date(input.valid_from) : null,
      valid_until: input.valid_until ? new Date(input.valid_until) : null, status: 'active', created_at: now, updated_at: now, archived_at: null,
    });
    await this.deps.config?.changed(tx, tenantId);
    await emit(tx, { tenantId, type: 'stamp_card_type.created', aggregateType: 'stamp_card_type', aggregateId: row.id, occurredAt: now, payload: { type_id: row.id, stamps_needed: row.stamps_needed, stamp_on: row.stamp_on } });
    return row;
  }

  async update(tx: Tx, tenantId: string, id: string, patch: UpdateStampCardTypeInput): Promise<TypeRow> {
    const current = await store.getType(tx, tenantId, id, true);
    if (!current) throw errors.notFound('stamp card type', id);
    if (current.status === 'archived') throw errors.unprocessable(`Stamp card type ${id} is archived and cannot change.`);
    const date = (v: string | null | undefined, old: Date | null) => (v === undefined ? old : v === null ? null : new Date(v));
    const next: TypeRow = {
      ...current,
      name: patch.name ?? current.name,
      description: patch.description === undefined ? current.description : patch.description,
      stamps_needed: patch.stamps_needed ?? current.stamps_needed,
      stamps_per: patch.stamps_per ?? current.stamps_per,
      stamps_each: patch.stamps_each ?? current.stamps_each,
      min_amount: patch.min_amount === undefined ? current.min_amount : patch.min_amount,
      skus: patch.skus === undefined ? current.skus : patch.skus,
      categories: patch.categories === undefined ? current.categories : patch.categories,
      reward: patch.reward ?? current.reward,
      valid_from: date(patch.valid_from, current.valid_from),
      valid_until: date(patch.valid_until, current.valid_until),
      updated_at: this.deps.clock.now(),
    };
    // The type as it would be: a field the patch did not send may now conflict with one it did.
    const errs = this.shapeErrors({
      ...next, valid_from: next.valid_from?.toISOString(), valid_until: next.valid_until?.toISOString(),
      min_amount: next.min_amount ?? undefined, skus: next.skus ?? undefined, categories: next.categories ?? undefined,
    } as never);
    if (errs.length) throw errors.validation(errs);
    const row = await store.updateType(tx, tenantId, next);
    await this.deps.config?.changed(tx, tenantId);
    await emit(tx, { tenantId, type: 'stamp_card_type.updated', aggregateType: 'stamp_card_type', aggregateId: id, occurredAt: next.updated_at, payload: { type_id: id, fields: Object.keys(patch) } });
    return row;
  }

  /** Archived: no stamps from now on; members keep their cards and rewards; returns still take stamps back. */
  async archive(tx: Tx, tenantId: string, id: string): Promise<TypeRow> {
    const current = await store.getType(tx, tenantId, id, true);
    if (!current) throw errors.notFound('stamp card type', id);
    if (current.status === 'archived') return current;
    const now = this.deps.clock.now();
    const row = await store.updateType(tx, tenantId, { ...current, status: 'archived', archived_at: now, updated_at: now });
    await this.deps.config?.changed(tx, tenantId);
    await emit(tx, { tenantId, type: 'stamp_card_type.archived', aggregateType: 'stamp_card_type', aggregateId: id, occurredAt: now, payload: { type_id: id } });
    return row;
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<TypeRow> {
    const row = await store.getType(q, tenantId, id);
    if (!row) throw errors.notFound('stamp card type', id);
    return row;
  }

  list(q: Queryable, tenantId: string, f: { includeArchived: boolean; afterId?: string; limit: number }): Promise<TypeRow[]> {
    return store.listTypes(q, tenantId, f);
  }

  // ── A member's cards ──────────────────────────────────────────────────────────

  private cardView(t: TypeRow, s: CardSummary | undefined): MemberCardView {
    const open = s?.open ?? null;
    const stamps = open?.stamps ?? 0;
    const needed = open?.stamps_needed ?? t.stamps_needed;
    return {
      type_id: t.id, name: t.name, type_status: t.status, stamp_on: t.stamp_on, card_id: open?.id ?? null,
      number: open?.number ?? (s ? s.last_number + 1 : 1), stamps, stamps_needed: needed, stamps_left: needed - stamps,
      completed_count: s?.completed_count ?? 0, last_completed_at: s?.last_completed_at ?? null, reward: t.reward,
    };
  }

  /** The member's progress on each active card type (and archived ones they hold cards of, on request), oldest type first. */
  async memberCards(q: Queryable, tenantId: string, memberId: string, f: { includeArchived: boolean; afterId?: string; limit: number }): Promise<MemberCardView[]> {
    await this.deps.members.findOr404(q, tenantId, memberId);
    const types = await store.typesOfMember(q, tenantId, memberId, f);
    const summaries = await store.cardSummaries(q, tenantId, memberId, types.map((t) => t.id));
    return types.map((t) => this.cardView(t, summaries.get(t.id)));
  }

  async history(q: Queryable, tenantId: string, memberId: string, f: { typeId?: string; beforeId?: string; limit: number }) {
    await this.deps.members.findOr404(q, tenantId, memberId);
    return store.listEvents(q, tenantId, memberId, f);
  }

  /** GDPR export: every card of the member and their stamp history. */
  async exportOf(q: Queryable, tenantId: string, memberId: string, limit: number) {
    return { cards: await store.cardsOfMember(q, tenantId, memberId), stamps: await store.listEvents(q, tenantId, memberId, { limit }) };
  }

  // ── Stamping ──────────────────────────────────────────────────────────────────

  /**
   * Puts `delta` stamps on the member's current card of a type (taking them away when negative). Stamps that fill a
   * card give its reward and go on the next card, which starts at once. The member's book must be open (locked).
   */
  async applyStamps(tx: Tx, book: MemberBook, type: TypeRow, delta: number, meta: StampMeta): Promise<{ completed: CompletedCard[]; card: CardRow }> {
    const tenantId = book.tenantId;
    const memberId = book.memberId;
    const now = this.deps.clock.now();
    const start = (stamps: number) => store.startCard(tx, tenantId, { id: newId(), type_id: type.id, member_id: memberId, stamps_needed: type.stamps_needed, stamps, now });
    let card = (await store.openCard(tx, tenantId, type.id, memberId)) ?? (await start(0));
    const row = (c: CardRow, stamps: number) => store.insertEvent(tx, tenantId, {
      id: newId(), card_id: c.id, type_id: type.id, member_id: memberId, stamps, kind: meta.kind, transaction_id: meta.transaction_id ?? null,
      event_id: meta.event_id ?? null, visit_day: meta.visit_day ?? null, reason: meta.reason ?? null, actor: meta.actor ?? null,
      occurred_at: meta.occurred_at, created_at: now,
    });
    const payload = { type_id: type.id, member_id: memberId, kind: meta.kind, transaction_id: meta.transaction_id ?? null, event_id: meta.event_id ?? null };
    if (delta < 0) {
      await row(card, delta);
      card = await store.setStamps(tx, tenantId, card.id, card.stamps + delta, now);
      await emit(tx, {
        tenantId, type: 'stamp_card.stamps_removed', aggregateType: 'stamp_card', aggregateId: card.id, memberId, occurredAt: now,
        payload: { ...payload, card_id: card.id, stamps: -delta, card_stamps: card.stamps, stamps_needed: card.stamps_needed },
      });
      return { completed: [], card };
    }
    const first = card.id;
    const completed: CompletedCard[] = [];
    let left = delta;
    while (left > 0) {
      const room = card.stamps_needed - card.stamps;
      const put = Math.min(left, room);
      await row(card, put);
      left -= put;
      if (put < room) {
        card = await store.setStamps(tx, tenantId, card.id, card.stamps + put, now);
        break;
      }
      // A reward that cannot be given (out of stock, archived) does not fail the order: the card completes, says so, and gift.failed is announced.
      const reward = await giveOrReport(this.deps.giveGift, tx, book, type.reward, {
        source_type: 'stamp_card', source_id: card.id, reason: `stamp card "${type.name.en}": card ${card.number} full`,
      }, now);
      const done = await store.completeCard(tx, tenantId, card.id, reward, now);
      completed.push({ card_id: done.id, number: done.number, reward });
      await emit(tx, {
        tenantId, type: 'stamp_card.completed', aggregateType: 'stamp_card', aggregateId: done.id, memberId, occurredAt: now,
        payload: { ...payload, card_id: done.id, number: done.number, stamps_needed: done.stamps_needed, reward },
      });
      card = await start(0);
    }
    await emit(tx, {
      tenantId, type: 'stamp_card.stamped', aggregateType: 'stamp_card', aggregateId: first, memberId, occurredAt: now,
      payload: { ...payload, card_id: first, stamps: delta, current_card_id: card.id, card_stamps: card.stamps, stamps_needed: card.stamps_needed, completed_card_ids: completed.map((c) => c.card_id) },
    });
    return { completed, card };
  }

  /** A card type, archived or not (null when the tenant has no such type). */
  findType(q: Queryable, tenantId: string, id: string): Promise<TypeRow | null> {
    return store.getType(q, tenantId, id);
  }

  /**
   * The stamps an order holds now on a card type, after this module's own order hook has run for it (0 when it did
   * not qualify, or a return or void took them): whether "the order earned the card" for an extra_stamp campaign.
   */
  purchaseStamps(q: Queryable, tenantId: string, transactionId: string, typeId: string): Promise<number> {
    return store.purchaseStamps(q, tenantId, transactionId, typeId);
  }

  /**
   * Stamps of a campaign (kind `campaign`) put on (or, negative, taken off) the member's current card of a type,
   * through the member's book the caller holds locked (an order hook's `e.book`). Like any stamps they may fill
   * cards, which are rewarded at once; taken back, they come off the current card.
   */
  async campaignStamps(tx: Tx, book: MemberBook, typeId: string, stamps: number, meta: { transaction_id: string; reason: string; occurred_at: Date }): Promise<{ completed: CompletedCard[] }> {
    if (!Number.isSafeInteger(stamps) || stamps === 0) throw new Error(`campaignStamps: stamps must be a non-zero integer, got ${stamps}`);
    const type = await store.getType(tx, book.tenantId, typeId);
    if (!type) throw errors.notFound('stamp card type', typeId);
    const { completed } = await this.applyStamps(tx, book, type, stamps, { kind: 'campaign', ...meta });
    return { completed };
  }

  /** A stamp given or taken by an admin (with a reason). 422 for an archived type or a member who is not active. */
  async stamp(tx: Tx, tenantId: string, typeId: string, input: ManualStampInput, actor: string | null): Promise<StampResult> {
    if (input.stamps === 0) throw errors.field('stamps', 'must not be 0');
    const type = await store.getType(tx, tenantId, typeId);
    if (!type) throw errors.notFound('stamp card type', typeId);
    const member = await this.deps.members.findOr404(tx, tenantId, input.member_id);
    if (member.status !== 'active') throw errors.unprocessable(`Member ${member.id} is ${member.status} and cannot get stamps.`);
    if (type.status === 'archived') throw errors.unprocessable(`Stamp card type ${typeId} is archived.`);
    const program = await this.deps.programs.get(tx, tenantId);
    const book = await this.deps.ledger.open(tx, tenantId, member.id, program.negative_balance);
    const { completed } = await this.applyStamps(tx, book, type, input.stamps, { kind: 'manual', reason: input.reason, actor, occurred_at: this.deps.clock.now() });
    const summaries = await store.cardSummaries(tx, tenantId, member.id, [type.id]);
    return { type_id: type.id, member_id: member.id, stamps: input.stamps, completed, card: this.cardView(type, summaries.get(type.id)) };
  }

  /** Stamps a visit on every active visit card valid at `at`, unless the member already has that day's visit stamp. */
  private async visit(tx: Tx, book: MemberBook, types: TypeRow[], at: Date, timeZone: string, meta: { transaction_id?: string; event_id?: string }): Promise<Map<string, number>> {
    const day = localDay(at, timeZone);
    const given = new Map<string, number>();
    for (const t of types) {
      if (t.stamp_on !== 'visit' || !inWindow(t, at)) continue;
      if ((await store.visitStampsOn(tx, book.tenantId, book.memberId, t.id, day)) > 0) continue;
      await this.applyStamps(tx, book, t, t.stamps_each, { kind: 'visit', ...meta, visit_day: day, occurred_at: at });
      given.set(t.id, t.stamps_each);
    }
    return given;
  }

  /** Brings a purchase's stamps on one type to `want`, recording why. */
  private async settle(tx: Tx, book: MemberBook, type: TypeRow, row: PurchaseRow, want: number, meta: StampMeta): Promise<void> {
    const delta = want - row.stamps;
    row.stamps = want;
    await store.updatePurchase(tx, book.tenantId, row);
    if (delta !== 0) await this.applyStamps(tx, book, type, delta, { ...meta, visit_day: row.visit_day });
  }

  /** The order hook: purchases stamp, returns and voids take back (registered with TransactionsService). */
  orderHook(): OrderHook {
    return {
      name: 'stamp-cards',
      purchased: async (tx, e) => {
        const at = e.transaction.occurred_at;
        const types = (await this.activeTypes(tx, e.tenantId)).filter((t) => inWindow(t, at));
        if (types.length === 0) return;
        const visits = await this.visit(tx, e.book, types, at, e.program.time_zone, { transaction_id: e.transaction.id });
        for (const [typeId, stamps] of visits) {
          await store.insertPurchase(tx, e.tenantId, { type_id: typeId, transaction_id: e.transaction.id, member_id: e.book.memberId, units: 0, returned_units: 0, stamps, visit_day: localDay(at, e.program.time_zone) });
        }
        for (const t of types) {
          if (t.stamp_on !== 'purchase') continue;
          const units = unitsOf(t, e.transaction.lines);
          const stamps = stampsFor(t, units, e.transaction.total);
          if (stamps === 0) continue;
          await store.insertPurchase(tx, e.tenantId, { type_id: t.id, transaction_id: e.transaction.id, member_id: e.book.memberId, units, returned_units: 0, stamps, visit_day: null });
          await this.applyStamps(tx, e.book, t, stamps, { kind: 'purchase', transaction_id: e.transaction.id, occurred_at: at });
        }
      },
      returned: async (tx, e) => {
        const ctx = await this.purchaseContext(tx, e.tenantId, e.purchase);
        if (!ctx) return;
        const { rows, types, categoryOf, kept } = ctx;
        for (const row of rows) {
          const t = types.get(row.type_id)!;
          if (t.stamp_on === 'visit') continue; // a return does not undo a visit
          row.returned_units = Math.min(row.units, row.returned_units + unitsOf(t, e.return.lines, categoryOf));
          const want = Math.min(row.stamps, stampsFor(t, row.units - row.returned_units, kept));
          await this.settle(tx, e.book, t, row, want, { kind: 'return', transaction_id: e.return.id, occurred_at: e.return.occurred_at });
        }
      },
      voided: async (tx, e) => {
        const ctx = await this.purchaseContext(tx, e.tenantId, e.purchase);
        if (!ctx) return;
        const { rows, types, categoryOf, kept } = ctx;
        const meta: StampMeta = { kind: 'void', transaction_id: e.voided.id, occurred_at: this.deps.clock.now() };
        for (const row of rows) {
          const t = types.get(row.type_id)!;
          if (e.voided.type === 'purchase' || e.purchase.status === 'voided') {
            await this.settle(tx, e.book, t, row, 0, meta);
          } else if (t.stamp_on === 'purchase') {
            // A voided return gives back what it took.
            row.returned_units = Math.max(0, row.returned_units - unitsOf(t, e.voided.lines, categoryOf));
            await this.settle(tx, e.book, t, row, stampsFor(t, row.units - row.returned_units, kept), meta);
          }
        }
      },
    };
  }

  /**
   * What a return or a void of this purchase settles against: the stamps the purchase gave per card type (null when
   * it gave none), those types, each line's category, and the total the member keeps.
   */
  private async purchaseContext(tx: Tx, tenantId: string, purchase: TransactionRow) {
    const rows = await store.purchasesOf(tx, tenantId, purchase.id);
    if (rows.length === 0) return null;
    const types = new Map((await store.typesByIds(tx, tenantId, rows.map((r) => r.type_id))).map((t) => [t.id, t]));
    const categoryOf = new Map((purchase.lines ?? []).map((l) => [l.sku, l.category]));
    const kept = purchase.total - purchase.returned_total;
    return { rows, types, categoryOf, kept };
  }

  /** The event hook: an action event named `visit` is a visit. */
  eventHook(): EventHook {
    return {
      name: 'stamp-cards',
      recorded: async (tx, e) => {
        if (e.event.name !== VISIT_EVENT) return;
        const types = await this.activeTypes(tx, e.tenantId);
        await this.visit(tx, e.book, types, e.event.occurred_at, e.program.time_zone, { event_id: e.event.id });
      },
    };
  }

  /** Test and audit aid: cards whose count differs from the sum of their stamp rows (always empty). */
  cardsOutOfBalance(q: Queryable, tenantId: string): Promise<string[]> {
    return store.cardsOutOfBalance(q, tenantId);
  }
}
