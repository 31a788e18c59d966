/**
 * The catalog of domain event types (docs/events.md): every type a module emits, what it means and its payload.
 * Webhook endpoints subscribe to these types (an unknown type is a 400), and src/platform/outbox/catalog.test.ts
 * checks that every type emitted in the code is listed here and in docs/events.md.
 *
 * Every payload is JSON; ids are UUIDs, times ISO 8601, points integers, money integer minor units. Payloads never
 * hold secrets (API key values, signing or link secrets) nor free text a member wrote (survey answers, feedback).
 */
export interface EventTypeInfo {
  /** `<aggregate>.<past-tense verb>` */
  type: string;
  /** One sentence: when it is emitted. */
  description: string;
  /** Whether `member_id` is set (the event is delivered in order with the member's other events). */
  member: boolean;
  /** Payload fields and what they hold. */
  payload: Record<string, string>;
  /** The module that emits it (docs/events.md has a table per module). */
  module: string;
}

type Entry = Omit<EventTypeInfo, 'module'>;

const group = (module: string, entries: Entry[]): EventTypeInfo[] => entries.map((e) => ({ ...e, module }));

/** The payload of every `points.*` event written with a ledger entry (ledger.store.ts eventPayload). */
const LEDGER_ENTRY = {
  entry_id: 'the ledger entry',
  member_id: 'the member',
  type: 'the entry type (earn, activate, redeem, redemption_cancel, expire, adjust, claw_back, reverse, debt_repay)',
  points: 'change of the available points (negative when taken)',
  pending_points: 'change of the pending points',
  reason: 'why, in words (may be null)',
  source_type: 'what caused it (transaction, event, campaign, admin, redemption, system, reward, stamp_card, referral, …)',
  source_id: 'the id of that cause, or null',
  transaction_id: 'the order it belongs to, or null',
  balance: 'the balance after the entry: {available, pending, held} (absent on some bulk loads)',
};

/** The batch jobs' activation and expiry write their events in SQL, with the lots touched instead of the source. */
const LEDGER_BATCH = {
  entry_id: LEDGER_ENTRY.entry_id,
  member_id: LEDGER_ENTRY.member_id,
  type: LEDGER_ENTRY.type,
  points: LEDGER_ENTRY.points,
  pending_points: LEDGER_ENTRY.pending_points,
  reason: LEDGER_ENTRY.reason,
  source_type: LEDGER_ENTRY.source_type,
  source_id: LEDGER_ENTRY.source_id,
  transaction_id: LEDGER_ENTRY.transaction_id,
  lots: 'only from the daily batch: the point lots touched',
  balance: LEDGER_ENTRY.balance,
};

const HOLD = {
  hold_id: 'the hold',
  member_id: 'the member',
  points: 'points held',
  status: 'held, captured, released or expired',
  order_ref: "the shop's order reference, or null",
  captured_points: 'points taken at capture, or null',
  redemption_id: 'the redemption made at capture, or null',
  balance: 'the balance after: {available, pending, held}',
};

const REFERRAL = {
  referral_id: 'the referral',
  referrer_id: 'the member who referred',
  referee_id: 'the member referred',
  status: 'the referral status after the change',
  reason: 'why it was rejected, disqualified or expired, or null',
};

const CASE = { case_id: 'the case' };

const SURVEY = {
  survey_id: 'the survey',
  name: 'its name per language',
  touchpoint: 'its touchpoint (e.g. after_purchase), or null',
  status: 'draft, live or closed',
};

const INVITATION = {
  invitation_id: 'the invitation (its signed link is never in the payload)',
  survey_id: 'the survey',
  member_id: 'the member invited',
  trigger: 'what invited them: api, after_purchase, after_case_closed, relationship',
  touchpoint: "the survey's touchpoint, or null",
  source: 'the order or case behind it: {type, id}, or null',
  sent_at: 'when it was sent, or null while scheduled',
  expires_at: 'when the link stops taking answers',
};

const SURVEY_INVITATION_ENDED = {
  invitation_id: 'the invitation',
  survey_id: 'the survey',
  member_id: 'the member',
  expires_at: 'when it expired (or would have)',
};

const CAMPAIGN_AWARD = {
  campaign_id: 'the campaign',
  award_id: 'the award',
  member_id: 'the member',
  source_type: 'transaction or event',
  source_id: 'the order or member event that earned it',
};

const MESSAGE_REQUEST = {
  message_id: 'the message in the send log',
  trigger: 'the trigger (birthday, points_expiring, tier_upgraded, case_reply, …)',
  member_id: 'the member',
  to: "the member's phone number, or null (push: the provider knows the device); null once the member is erased",
  locale: 'the language the text is in (en, bg, ru, ro, pl)',
  subject: 'the rendered subject / title; null once the member is erased',
  text: 'the rendered plain text (marketing: with its unsubscribe link); null once the member is erased. No template variables',
};

/** Every `message.*` outcome of the sender. */
const MESSAGE_OUTCOME = {
  message_id: 'the message in the send log',
  trigger: 'the trigger',
  channel: 'email, sms or push',
  member_id: 'the member, or null (a message to someone who is not a member)',
  dedupe_key: "the trigger's dedupe key (event:EVENT_ID, birthday:MEMBER_ID:YEAR …)",
};

export const EVENT_CATALOG: readonly EventTypeInfo[] = [
  // ── tenants ───────────────────────────────────────────────────────────────
  ...group('tenants', [
    { type: 'tenant.created', description: 'A tenant was created (with its first admin API key).', member: false, payload: { tenant_id: 'the tenant', name: 'its name' } },
    { type: 'tenant.updated', description: "The tenant's settings (name, currency, locale, time zone, notification email) changed.", member: false, payload: { changed_fields: 'the fields sent' } },
    { type: 'api_key.created', description: 'An API key was created (the key itself is shown once, never in an event).', member: false, payload: { key_id: 'the key', name: 'its name', scopes: 'its scopes', created_by: 'the key that created it, or null (operator, tenant creation)' } },
    { type: 'api_key.revoked', description: 'An API key was revoked; requests with it are refused from now on.', member: false, payload: { key_id: 'the key', name: 'its name' } },
  ]),

  // ── members ───────────────────────────────────────────────────────────────
  ...group('members', [
    { type: 'member.created', description: 'A member enrolled (API, import or history load).', member: true, payload: { member_id: 'the member' } },
    { type: 'member.updated', description: "A member's profile fields changed.", member: true, payload: { member_id: 'the member', changed_fields: 'the fields that changed' } },
    { type: 'member.blocked', description: 'A member was blocked (earns and spends nothing).', member: true, payload: { member_id: 'the member' } },
    { type: 'member.unblocked', description: 'A blocked member was made active again.', member: true, payload: { member_id: 'the member' } },
    { type: 'member.consent_changed', description: "A member's marketing consent for a channel was granted or withdrawn.", member: true, payload: { member_id: 'the member', channel: 'email, sms or push', granted: 'true or false', source: 'where the change came from (api, import, unsubscribe, erasure, …)' } },
    { type: 'member.erased', description: "A member was erased (GDPR): personal data removed, history kept anonymous.", member: true, payload: { member_id: 'the member' } },
  ]),

  // ── programs ──────────────────────────────────────────────────────────────
  ...group('programs', [
    { type: 'program.updated', description: "The program's settings (currency, earning, expiry, …) changed.", member: false, payload: { changed_fields: 'the settings that changed' } },
  ]),

  // ── rules ─────────────────────────────────────────────────────────────────
  ...group('rules', [
    { type: 'earn_rule.created', description: 'An earn rule was created.', member: false, payload: { rule_id: 'the rule', version: '1', kind: 'the rule kind', event: 'for an event rule: the event name (absent otherwise)' } },
    { type: 'earn_rule.updated', description: 'An earn rule changed (a new version from its effective time).', member: false, payload: { rule_id: 'the rule', version: 'the new version', changed_fields: 'the fields that changed' } },
    { type: 'earn_rule.archived', description: 'An earn rule was archived (no longer applies from now on).', member: false, payload: { rule_id: 'the rule', version: 'its last version' } },
  ]),

  // ── ledger ────────────────────────────────────────────────────────────────
  ...group('ledger', [
    { type: 'points.earned', description: 'Points were credited (an order, a member event, a campaign, a gift, a referral, a goodwill gesture).', member: true, payload: LEDGER_ENTRY },
    { type: 'points.activated', description: 'Pending points became available (their activation delay passed).', member: true, payload: LEDGER_BATCH },
    { type: 'points.redeemed', description: 'Points were spent on a redemption.', member: true, payload: LEDGER_ENTRY },
    { type: 'points.restored', description: 'Points of a cancelled redemption were given back.', member: true, payload: LEDGER_ENTRY },
    { type: 'points.expired', description: 'Points expired (their lots reached their expiry, or the member was inactive too long).', member: true, payload: LEDGER_BATCH },
    { type: 'points.adjusted', description: "An admin adjusted a member's points by hand.", member: true, payload: LEDGER_ENTRY },
    { type: 'points.clawed_back', description: 'Points earned on an order were taken back because of a return.', member: true, payload: LEDGER_ENTRY },
    { type: 'points.reversed', description: 'A void was booked: the points of a voided purchase or award taken back, or the claw-back of a voided return given back.', member: true, payload: LEDGER_ENTRY },
    { type: 'points.debt_repaid', description: 'New points repaid a negative balance left by an earlier claw-back.', member: true, payload: LEDGER_ENTRY },
    { type: 'hold.created', description: 'Points were reserved for a checkout.', member: true, payload: HOLD },
    { type: 'hold.captured', description: 'A hold was captured: its points (or part) were spent.', member: true, payload: HOLD },
    { type: 'hold.released', description: "A hold was released: its points are available again.", member: true, payload: HOLD },
    { type: 'hold.expired', description: 'A hold passed its expiry uncaptured and was released.', member: true, payload: HOLD },
  ]),

  // ── transactions ──────────────────────────────────────────────────────────
  ...group('transactions', [
    { type: 'transaction.recorded', description: 'A purchase was recorded (API or import).', member: true, payload: { transaction_id: 'the order', external_id: "the shop's order id", type: 'purchase', member_id: 'the member, or null for a non-member order', total: 'order total (minor units)', currency: 'ISO 4217', points: 'points earned (0 for a bulk import)', occurred_at: 'when the purchase happened' } },
    { type: 'transaction.returned', description: 'A return of an earlier purchase was recorded.', member: true, payload: { transaction_id: 'the return', external_id: "the shop's return id", original_id: 'the purchase returned', member_id: 'the member, or null', total: 'amount returned (minor units)', currency: 'ISO 4217', points: 'points taken back (negative or 0)' } },
    { type: 'transaction.voided', description: 'A purchase or return was voided (its points reversed).', member: true, payload: { transaction_id: 'the order', external_id: "the shop's id", type: 'purchase or return', member_id: 'the member, or null' } },
    { type: 'transaction.updated', description: 'An import changed a recorded order (e.g. attached it to a member).', member: true, payload: { transaction_id: 'the order', external_id: "the shop's id", member_id: 'the member now, or null', previous_member_id: 'the member before, or null', changed_fields: 'the fields that changed', source: 'import' } },
  ]),

  // ── redemptions ───────────────────────────────────────────────────────────
  ...group('redemptions', [
    { type: 'redemption.created', description: 'A member spent points for a discount (directly or by capturing a hold).', member: true, payload: { redemption_id: 'the redemption', member_id: 'the member', points: 'points spent', value: 'what they are worth: {amount, currency}', entry_id: 'the ledger entry', hold_id: 'the captured hold, or null' } },
    { type: 'redemption.cancelled', description: 'A redemption was cancelled and its points given back (those not expired meanwhile).', member: true, payload: { redemption_id: 'the redemption', member_id: 'the member', points: 'points spent', restored_points: 'points given back', expired_points: 'points that had expired meanwhile', entry_id: 'the restoring ledger entry' } },
  ]),

  // ── events ────────────────────────────────────────────────────────────────
  ...group('events', [
    { type: 'event.recorded', description: 'A member event (review, sign-up, app download, …) was recorded.', member: true, payload: { event_id: 'the member event', external_id: "the sender's id, or null", member_id: 'the member', name: 'the event name', points: 'points it earned', occurred_at: 'when it happened' } },
  ]),

  // ── tiers ─────────────────────────────────────────────────────────────────
  ...group('tiers', [
    { type: 'tier.created', description: 'A tier was created.', member: false, payload: { tier_id: 'the tier', code: 'its code', rank: 'its rank (higher is better)' } },
    { type: 'tier.updated', description: 'A tier changed.', member: false, payload: { tier_id: 'the tier', code: 'its code', changed: 'the fields that changed' } },
    { type: 'tier.deleted', description: 'A tier nobody held was deleted.', member: false, payload: { tier_id: 'the tier', code: 'its code' } },
    { type: 'tier_settings.updated', description: "The tier program's settings changed.", member: false, payload: { changed: 'the settings that changed', config_version: 'the new configuration version' } },
    { type: 'tier_reevaluation.created', description: 'A tier change that would move members down was recorded as a report to apply.', member: false, payload: { reevaluation_id: 'the re-evaluation', summary: 'how many members would move where' } },
    { type: 'tier_reevaluation.applied', description: 'A re-evaluation report was applied.', member: false, payload: { reevaluation_id: 'the re-evaluation', downgrades: 'how downgrades are handled', applied: 'what was applied' } },
    ...(['tier.upgraded', 'tier.downgraded', 'tier.assigned', 'tier.invited', 'tier.assignment_ended'] as const).map((type): Entry => ({
      type,
      description: {
        'tier.upgraded': 'A member moved up to a higher tier.',
        'tier.downgraded': 'A member moved down to a lower tier (or to none): grace over, an assignment ended, a re-evaluation.',
        'tier.assigned': 'An admin assigned a member a tier by hand.',
        'tier.invited': 'A member was invited into an invitation-only tier.',
        'tier.assignment_ended': "A manual or invited tier reached its end and the member's figure keeps them at the same rank (a move up or down is tier.upgraded / tier.downgraded).",
      }[type],
      member: true,
      payload: {
        member_id: 'the member', from: 'the tier code before, or null', to: 'the tier code after, or null', from_tier_id: 'the tier before, or null',
        to_tier_id: 'the tier after, or null', reason: 'why: upgrade, downgrade, manual, invited, assignment_ended or reevaluation', source: 'qualified, manual or invited',
        figure: 'the qualifying figure (points, spend or purchases) that decided it, or null', valid_until: 'until when the tier is kept, or null',
        next_evaluation_at: 'when it is evaluated next, or null',
      },
    })),
    { type: 'tier.downgrade_scheduled', description: 'A member fell below their tier and will move down at the next evaluation unless they qualify again.', member: true, payload: { member_id: 'the member', from: 'the current tier code', to: 'the tier code they would move to, or null', at: 'when the downgrade happens', figure: 'the qualifying figure now', evaluated_at: 'when this was evaluated' } },
    { type: 'tier.downgrade_cancelled', description: 'A member with a scheduled downgrade qualified again and keeps their tier.', member: true, payload: { member_id: 'the member', tier: 'the tier code kept', figure: 'the qualifying figure now' } },
  ]),

  // ── rewards ───────────────────────────────────────────────────────────────
  ...group('rewards', [
    { type: 'reward.created', description: 'A reward was added to the catalog.', member: false, payload: { reward_id: 'the reward', kind: 'its kind (fixed_amount, percentage, free_product, cashback, gift_card, early_access, event_invitation, physical_gift, sweepstakes, donation)', status: 'its status', points: 'its price in points', actor: 'who created it, or null' } },
    { type: 'reward.updated', description: 'A reward changed.', member: false, payload: { reward_id: 'the reward', kind: 'its kind', status: 'its status', changed: 'the fields sent', actor: 'who changed it, or null' } },
    { type: 'reward.archived', description: 'A reward was archived (no longer redeemable).', member: false, payload: { reward_id: 'the reward', kind: 'its kind', status: 'archived', changed: 'the fields sent', actor: 'who archived it, or null' } },
    { type: 'reward.redeemed', description: 'A member got a reward (redeemed with points or given as a gift).', member: true, payload: { reward_redemption_id: 'the reward redemption', reward_id: 'the reward', member_id: 'the member', kind: 'the reward kind', quantity: 'how many', points: 'points spent (0 for a gift)', redemption_id: 'the points redemption, or null', origin: 'redemption or gift', voucher_id: 'the voucher issued, or null (its code is read through the API)', rsvp: 'for an event reward: accepted or waitlisted, else null', amount: 'for cashback: {amount, currency}, else null', source: 'for a gift: what gave it {type, id}, else null' } },
    { type: 'reward.out_of_stock', description: 'A reward ran out of stock.', member: false, payload: { reward_id: 'the reward', kind: 'its kind', redeemed_count: 'how many were given' } },
    { type: 'reward.redemption_cancelled', description: 'A reward redemption was cancelled (points refunded, stock and seat returned).', member: true, payload: { reward_redemption_id: 'the reward redemption', reward_id: 'the reward', member_id: 'the member', kind: 'the reward kind', points: 'points refunded', redemption_id: 'the points redemption, or null', reason: 'why' } },
    { type: 'reward.fulfilment_updated', description: 'The fulfilment of a reward redemption changed (shipped, delivered, RSVP accepted or declined, tracking, note).', member: true, payload: { reward_redemption_id: 'the reward redemption', reward_id: 'the reward', member_id: 'the member', kind: 'the reward kind', fulfilment_status: 'when it changed: {from, to}', rsvp: 'when it changed: {from, to}', changed: 'the fields sent (when changed by an update)', actor: 'who changed it (when changed by an update)' } },
    { type: 'reward.draw_completed', description: 'The winners of a sweepstakes were drawn.', member: false, payload: { reward_id: 'the sweepstakes', draw_id: 'the draw', algorithm: 'the drawing algorithm', seed_sha256: 'hash of the committed seed', entrants_count: 'number of entries', entrants_sha256: 'hash of the entry list', winners: 'list of {member_id, reward_redemption_id}' } },
    { type: 'gift.failed', description: 'A gift an order or event caused (a full stamp card, a badge bonus, a referral or goodwill reward) could not be given; give it by hand.', member: true, payload: { member_id: 'the member', gift: 'the gift configured (points, reward_id, credit)', source_type: 'what caused it', source_id: 'its id', reason: 'in words', error: '{code, detail}' } },
  ]),

  // ── vouchers ──────────────────────────────────────────────────────────────
  ...group('vouchers', [
    { type: 'voucher.issued', description: 'A voucher was issued to a member or as a bearer code (its code is read through the API).', member: true, payload: { voucher_id: 'the voucher', kind: 'its kind', member_id: 'the member, or null for a bearer voucher', reward_id: 'the reward it came from, or null', redemption_id: 'the reward redemption, or null', expires_at: 'when it expires, or null' } },
    { type: 'voucher.redeemed', description: 'A voucher was used at a checkout.', member: true, payload: { voucher_id: 'the voucher', redemption_id: 'the voucher redemption', order_ref: "the shop's order reference", member_id: 'the member who used it, or null', discount: 'discount given (minor units)', currency: 'ISO 4217, or null', balance: 'what is left on a stored-value voucher, or null' } },
    { type: 'voucher.released', description: 'A voucher redemption was undone (the order was not completed).', member: true, payload: { voucher_id: 'the voucher', redemption_id: 'the voucher redemption', order_ref: "the shop's order reference", discount: 'discount given back', currency: 'ISO 4217, or null', status: 'the voucher status after', balance: 'the balance after, or null' } },
    { type: 'voucher.cancelled', description: 'An unused voucher was cancelled.', member: true, payload: { voucher_id: 'the voucher', member_id: 'the member, or null', reward_id: 'the reward, or null', redemption_id: 'the reward redemption, or null' } },
    { type: 'voucher.expired', description: 'A voucher passed its expiry unused (daily job).', member: true, payload: { voucher_id: 'the voucher', member_id: 'the member, or null', balance: 'what was left, or null' } },
    { type: 'voucher_batch.created', description: 'A batch of bearer vouchers was generated.', member: false, payload: { batch_id: 'the batch', count: 'how many vouchers', kind: 'their kind', pool_id: 'the code pool they came from, or null', expires_at: 'when they expire, or null' } },
    { type: 'voucher_pool.created', description: 'A pool of imported voucher codes was created.', member: false, payload: { pool_id: 'the pool', name: 'its name' } },
    { type: 'voucher_pool.codes_added', description: 'Codes were uploaded into a voucher pool (the codes themselves are not in the event).', member: false, payload: { pool_id: 'the pool', received: 'codes sent', added: 'codes added', duplicates: 'codes already in a pool (not added)' } },
  ]),

  // ── wallet ────────────────────────────────────────────────────────────────
  ...group('wallet', [
    { type: 'wallet.credited', description: "Money was added to a member's wallet (a cashback reward, a gift, a refund of a checkout debit, an admin adjustment).", member: true, payload: { entry_id: 'the wallet entry', member_id: 'the member', amount: 'amount (minor units, positive)', currency: 'ISO 4217', balance: 'the wallet balance after', source_type: 'what caused it (reward, refund, admin, case, referral, stamp_card, …)', source_id: 'its id, or null', order_ref: "the shop's order reference, or null" } },
    { type: 'wallet.debited', description: "Money was taken from a member's wallet (a checkout, an admin adjustment, a cancelled cashback reward).", member: true, payload: { entry_id: 'the wallet entry', member_id: 'the member', amount: 'amount (minor units, positive)', currency: 'ISO 4217', balance: 'the wallet balance after', source_type: 'what caused it (checkout, admin, reward, …)', source_id: 'its id, or null', order_ref: "the shop's order reference, or null" } },
  ]),

  // ── stamp cards ───────────────────────────────────────────────────────────
  ...group('stamp-cards', [
    { type: 'stamp_card_type.created', description: 'A stamp card type was created.', member: false, payload: { type_id: 'the card type', stamps_needed: 'stamps to fill a card', stamp_on: 'what earns a stamp' } },
    { type: 'stamp_card_type.updated', description: 'A stamp card type changed.', member: false, payload: { type_id: 'the card type', fields: 'the fields sent' } },
    { type: 'stamp_card_type.archived', description: 'A stamp card type was archived.', member: false, payload: { type_id: 'the card type' } },
    { type: 'stamp_card.stamped', description: 'A member got stamps (an order, a visit, an event, a campaign, by hand).', member: true, payload: { type_id: 'the card type', member_id: 'the member', kind: 'purchase, visit, campaign or manual', transaction_id: 'the order, or null', event_id: 'the member event, or null', card_id: 'the first card stamped', stamps: 'stamps given', current_card_id: 'the card open now', card_stamps: 'stamps on it', stamps_needed: 'stamps to fill it', completed_card_ids: 'cards filled by these stamps' } },
    { type: 'stamp_card.completed', description: 'A stamp card was filled and its reward given (or gift.failed).', member: true, payload: { type_id: 'the card type', member_id: 'the member', kind: 'what gave the last stamp', transaction_id: 'the order, or null', event_id: 'the member event, or null', card_id: 'the card', number: "the card's number for the member", stamps_needed: 'stamps it needed', reward: 'the gift result (points, reward redemption, voucher code, credit, or failed)' } },
    { type: 'stamp_card.stamps_removed', description: 'Stamps were taken back (a return, a voided order, by hand).', member: true, payload: { type_id: 'the card type', member_id: 'the member', kind: 'what removed them', transaction_id: 'the order, or null', event_id: 'the member event, or null', card_id: 'the card', stamps: 'stamps removed', card_stamps: 'stamps left on it', stamps_needed: 'stamps to fill it' } },
  ]),

  // ── achievements ──────────────────────────────────────────────────────────
  ...group('achievements', [
    { type: 'badge.created', description: 'A badge was created.', member: false, payload: { badge_id: 'the badge', code: 'its code', criterion: 'what earns it' } },
    { type: 'badge.updated', description: 'A badge changed.', member: false, payload: { badge_id: 'the badge', fields: 'the fields sent' } },
    { type: 'badge.archived', description: 'A badge was archived.', member: false, payload: { badge_id: 'the badge' } },
    { type: 'badge.earned', description: 'A member earned a badge.', member: true, payload: { badge_id: 'the badge', code: 'its code', member_id: 'the member', transaction_id: 'the order that earned it, or null', event_id: 'the member event that earned it, or null', bonus: 'the bonus gift result, or null' } },
    { type: 'leaderboard.opted_in', description: 'A member joined the leaderboard.', member: true, payload: { member_id: 'the member' } },
    { type: 'leaderboard.opted_out', description: 'A member left the leaderboard.', member: true, payload: { member_id: 'the member' } },
  ]),

  // ── referrals ─────────────────────────────────────────────────────────────
  ...group('referrals', [
    { type: 'referral_program.updated', description: "The referral program's settings changed.", member: false, payload: { changed_fields: 'the settings that changed' } },
    { type: 'referral_code.created', description: 'A member got their referral code (on first use).', member: true, payload: { member_id: 'the member', code: 'the shareable referral code' } },
    { type: 'referral.signals_recorded', description: 'Fraud signals (device, address, payment fingerprint) were recorded for a member.', member: true, payload: { member_id: 'the member', kinds: 'the kinds of signal recorded', recorded: 'how many were new' } },
    { type: 'referral.attributed', description: "A new member was attributed to a referrer's code.", member: true, payload: REFERRAL },
    { type: 'referral.flagged', description: 'A referral was held for review (fraud signals matched).', member: true, payload: { ...REFERRAL, flags: 'the signals that matched' } },
    { type: 'referral.approved', description: 'A referral in review was approved.', member: true, payload: REFERRAL },
    { type: 'referral.rejected', description: 'A referral was rejected (by the rules at attribution or by hand).', member: true, payload: REFERRAL },
    { type: 'referral.qualified', description: "The referee's first purchase qualified the referral; it converts after the return window.", member: true, payload: { ...REFERRAL, transaction_id: 'the qualifying purchase', convert_after: 'when it converts' } },
    { type: 'referral.disqualified', description: 'The qualifying purchase was returned or voided before conversion.', member: true, payload: { ...REFERRAL, transaction_id: 'the purchase', reason: 'purchase_returned or purchase_voided' } },
    { type: 'referral.converted', description: 'A referral converted: both members got their rewards.', member: true, payload: { ...REFERRAL, referrer_reward: "the referrer's gift result", referee_reward: "the referee's gift result" } },
    { type: 'referral.expired', description: 'A referral expired without a qualifying purchase.', member: true, payload: REFERRAL },
    { type: 'referral.milestone_reached', description: 'A referrer reached a milestone number of converted referrals and got its reward.', member: true, payload: { member_id: 'the referrer', count: 'converted referrals', referral_id: 'the referral that reached it', reward: 'the gift result' } },
  ]),

  // ── campaigns ─────────────────────────────────────────────────────────────
  ...group('campaigns', [
    { type: 'campaign.created', description: 'A campaign was created (draft).', member: false, payload: { campaign_id: 'the campaign', kind: 'its kind', starts_at: 'start', ends_at: 'end' } },
    { type: 'campaign.updated', description: 'A campaign changed.', member: false, payload: { campaign_id: 'the campaign', changed: 'the fields sent' } },
    { type: 'campaign.launched', description: 'A campaign was launched (scheduled or running).', member: false, payload: { campaign_id: 'the campaign', kind: 'its kind', status: 'scheduled or running', starts_at: 'start', ends_at: 'end', budget_points: 'points budget, or null', control_share: 'share of members held out as control' } },
    { type: 'campaign.started', description: 'A launched campaign reached its start time.', member: false, payload: { campaign_id: 'the campaign' } },
    { type: 'campaign.baseline_recorded', description: "The campaign's members were split into treatment and control and the baseline measured.", member: false, payload: { campaign_id: 'the campaign', treatment_members: 'members in treatment', control_members: 'members in control' } },
    { type: 'campaign.cancelled', description: 'A campaign was cancelled.', member: false, payload: { campaign_id: 'the campaign', reason: 'why, or null', was: 'its status before' } },
    { type: 'campaign.ended', description: 'A campaign reached its end.', member: false, payload: { campaign_id: 'the campaign', points_kept: 'points awarded and kept', awards: 'awards given', members_reached: 'members who got one' } },
    { type: 'campaign.budget_exhausted', description: "A campaign's points budget ran out; it stops awarding.", member: false, payload: { campaign_id: 'the campaign', budget_points: 'the budget' } },
    { type: 'campaign.budget_resumed', description: 'Points clawed back freed budget; the campaign awards again.', member: false, payload: { campaign_id: 'the campaign', remaining: 'budget left' } },
    { type: 'campaign.award_granted', description: 'A member got a campaign award (points or stamps).', member: true, payload: { ...CAMPAIGN_AWARD, points: 'points given (points campaigns)', entry_id: 'the ledger entry (points campaigns)', stamps: 'stamps given (stamp campaigns)', stamp_card_type_id: 'the card type (stamp campaigns)', completed_card_ids: 'cards filled (stamp campaigns)', wanted: 'what the rules asked for', cut_by: 'what cut it short (budget, member limit), or null' } },
    { type: 'campaign.award_withheld', description: 'A qualifying member got nothing: control group, budget or limit.', member: true, payload: { ...CAMPAIGN_AWARD, outcome: 'held_out (control group), member_limit or budget_exhausted', wanted: 'what the rules asked for' } },
    { type: 'campaign.award_clawed_back', description: 'A campaign award was taken back (the order was returned or voided).', member: true, payload: { campaign_id: 'the campaign', award_id: 'the award', member_id: 'the member', source_id: 'the order', points: 'points taken back', kept: 'points the award keeps' } },
    { type: 'campaign.award_restored', description: 'A taken-back campaign award was given back (the return that took it was voided).', member: true, payload: { campaign_id: 'the campaign', award_id: 'the award', member_id: 'the member', source_id: 'the order', points: 'points given back', kept: 'points the award keeps' } },
  ]),

  // ── surveys ───────────────────────────────────────────────────────────────
  ...group('surveys', [
    { type: 'survey.created', description: 'A survey was created (or the built-in case follow-up survey on first use).', member: false, payload: { ...SURVEY, version: '1', system: 'for a built-in survey: which one (absent otherwise)' } },
    { type: 'survey.updated', description: 'A survey changed (a new version when its questions changed).', member: false, payload: { ...SURVEY, version: 'its current version', new_version: 'whether a new version was made', fields: 'the fields sent' } },
    { type: 'survey.published', description: 'A survey went live.', member: false, payload: { ...SURVEY, version: 'the version published' } },
    { type: 'survey.closed', description: 'A survey was closed (takes no more answers).', member: false, payload: { ...SURVEY, version: 'its current version' } },
    { type: 'survey.settings_updated', description: 'The survey settings changed (the link secret is never in it).', member: false, payload: { min_days_between_invitations: 'least days between two invitations of a member', edit_window_minutes: 'how long an answer can be changed', updated_at: 'when' } },
    { type: 'survey.invitation_scheduled', description: 'An invitation was scheduled (after a purchase or a closed case); survey.invited or survey.invitation_skipped follows at send_at.', member: true, payload: { ...INVITATION, send_at: 'when it is due to be sent' } },
    { type: 'survey.invited', description: 'A member was invited to a survey (the messaging module sends the link).', member: true, payload: INVITATION },
    { type: 'survey.invitation_skipped', description: 'A scheduled invitation was not sent (throttled, survey not live, member inactive), or ended by an erasure (then only invitation_id, survey_id, member_id, expires_at and skip_reason).', member: true, payload: { ...INVITATION, skip_reason: 'throttled, survey_not_live or member_inactive' } },
    { type: 'survey.invitation_expired', description: 'An invitation expired unanswered (or ended because the member was erased).', member: true, payload: { ...SURVEY_INVITATION_ENDED, reason: 'member_erased when ended by an erasure (absent otherwise)' } },
    { type: 'survey.responded', description: 'A survey was answered (scores and choices only; free text stays in Patron).', member: true, payload: { survey_id: 'the survey', version: 'the version answered', response_id: 'the response', invitation_id: 'the invitation, or null', member_id: 'the member, or null (anonymous public link)', channel: 'invitation, public_link, embed or api', language: 'the language answered in', touchpoint: 'the touchpoint, or null', tier_code: "the member's tier then, or null", answers: 'list of {question_key, value_number, value_choices, band}' } },
    { type: 'survey.response_updated', description: 'A member changed their answers within the edit window.', member: true, payload: { survey_id: 'the survey', version: 'the version answered', response_id: 'the response', invitation_id: 'the invitation, or null', member_id: 'the member, or null', channel: 'invitation, public_link, embed or api', language: 'the language answered in', touchpoint: 'the touchpoint, or null', tier_code: "the member's tier then, or null", answers: 'list of {question_key, value_number, value_choices, band}' } },
  ]),

  // ── agents ────────────────────────────────────────────────────────────────
  ...group('agents', [
    { type: 'agent.created', description: 'An agent or team was created.', member: false, payload: { agent_id: 'the agent or team', kind: 'agent or team', team_id: "the agent's team, or null" } },
    { type: 'agent.updated', description: 'An agent or team changed.', member: false, payload: { agent_id: 'the agent or team', fields: 'the fields sent' } },
    { type: 'agent.deactivated', description: 'An agent or team was deactivated (its open cases stay assigned).', member: false, payload: { agent_id: 'the agent or team', fields: 'the fields sent' } },
  ]),

  // ── cases ─────────────────────────────────────────────────────────────────
  ...group('cases', [
    { type: 'case_settings.updated', description: 'The case settings (SLAs, escalation, business hours) changed.', member: false, payload: { fields: 'the settings sent' } },
    { type: 'case.opened', description: 'A case was opened (a detractor or unhappy answer, or feedback).', member: true, payload: { ...CASE, reasons: 'why (nps_detractor, csat_dissatisfied, ces_high_effort, free_text, feedback)', source_type: 'survey_answer or feedback', priority: 'its priority', assignee_id: 'the agent or team, or null' } },
    { type: 'case.updated', description: 'An edited survey answer changed an open case (its reasons or priority).', member: true, payload: { ...CASE, fields: 'the fields that changed', response_edited: 'true' } },
    { type: 'case.assigned', description: 'A case was assigned (by hand, by a rule at opening, or by escalation).', member: true, payload: { ...CASE, assignee_id: 'the agent or team, or null', previous_assignee_id: 'before, or null', escalation: 'true when by escalation (absent otherwise)' } },
    { type: 'case.priority_changed', description: "A case's priority changed (its SLA targets with it).", member: true, payload: { ...CASE, priority: 'the new priority', previous_priority: 'before' } },
    { type: 'case.status_changed', description: "A case's status changed between open states.", member: true, payload: { ...CASE, status: 'the new status', previous_status: 'before' } },
    { type: 'case.noted', description: 'An internal note was added to a case.', member: true, payload: { ...CASE, entry_id: 'the timeline entry', agent_id: 'who wrote it, or null' } },
    { type: 'case.replied', description: 'A reply to the member was added (the messaging module emails it).', member: true, payload: { ...CASE, entry_id: 'the timeline entry with the reply', agent_id: 'who wrote it, or null', first_response: 'whether it is the first response' } },
    { type: 'case.resolved', description: 'A case was resolved (with an optional goodwill gift).', member: true, payload: { ...CASE, resolution_code: 'how it was resolved', goodwill: 'the goodwill gift result, or null' } },
    { type: 'case.closed', description: 'A case was closed.', member: true, payload: { ...CASE, follow_up: 'whether a follow-up survey was asked for' } },
    { type: 'case.follow_up_sent', description: 'A follow-up survey invitation was made for a closed case.', member: true, payload: { ...CASE, invitation_id: 'the invitation' } },
    { type: 'case.reopened', description: 'A resolved or closed case was reopened (by hand or by a "not solved" follow-up answer).', member: true, payload: { ...CASE, previous_status: 'before', reopened_count: 'times reopened' } },
    { type: 'case.sla_breached', description: 'A case missed an SLA target.', member: true, payload: { ...CASE, sla: 'first_response or resolution', due_at: 'the target missed' } },
    { type: 'case.escalated', description: 'A case was escalated after an SLA breach.', member: true, payload: { ...CASE, assignee_id: 'the assignee now', previous_assignee_id: 'before', priority: 'the priority now', previous_priority: 'before', sla: 'the SLA breached' } },
  ]),

  // ── analytics ─────────────────────────────────────────────────────────────
  ...group('analytics', [
    { type: 'analytics_settings.updated', description: 'The analytics settings changed.', member: false, payload: { fields: 'the settings sent' } },
    { type: 'analytics_run.queued', description: 'An analytics run was queued (nightly or by request).', member: false, payload: { run_id: 'the run', as_of: 'the date it computes as of', trigger: 'schedule, api or demo' } },
    { type: 'analytics_run.succeeded', description: 'An analytics run finished; its results are readable.', member: false, payload: { run_id: 'the run', members: 'members scored' } },
    { type: 'analytics_run.failed', description: 'An analytics run failed.', member: false, payload: { run_id: 'the run', error: 'what went wrong' } },
    { type: 'analytics_simulation.created', description: 'A program simulation was requested.', member: false, payload: { simulation_id: 'the simulation', months: 'months replayed', parts: 'what the draft changes (earn_rules, tiers, expiry)' } },
    { type: 'analytics_simulation.succeeded', description: 'A program simulation finished; its result is readable.', member: false, payload: { simulation_id: 'the simulation', status: 'succeeded' } },
    { type: 'analytics_simulation.failed', description: 'A program simulation failed.', member: false, payload: { simulation_id: 'the simulation', status: 'failed' } },
  ]),

  // ── webhooks ──────────────────────────────────────────────────────────────
  ...group('webhooks', [
    { type: 'webhook_endpoint.created', description: 'A webhook endpoint was created (its secret is shown once, never in an event; nor is its URL, which often carries a token).', member: false, payload: { endpoint_id: 'the endpoint', event_types: "the types it subscribes to (['*']: all)", status: 'active or disabled' } },
    { type: 'webhook_endpoint.updated', description: 'A webhook endpoint changed (URL, description, types, status).', member: false, payload: { endpoint_id: 'the endpoint', changed_fields: 'the fields the change touched', status: 'active or disabled after the change' } },
    { type: 'webhook_endpoint.deleted', description: 'A webhook endpoint was deleted, with its secrets, deliveries and log.', member: false, payload: { endpoint_id: 'the endpoint' } },
    { type: 'webhook_endpoint.disabled', description: 'An endpoint was disabled: by hand, after 5 days of failed attempts, or answering 410 Gone (then the notification email is told).', member: false, payload: { endpoint_id: 'the endpoint', reason: 'manual, failing or gone', failing_since: 'the first failed attempt since the last success, or null' } },
    { type: 'webhook_endpoint.secret_rotated', description: "An endpoint's signing secret was rotated; the old one still signs beside the new one during the overlap.", member: false, payload: { endpoint_id: 'the endpoint', overlap_hours: 'how long the old secret keeps signing', previous_expires_at: 'when it stops' } },
  ]),

  // ── messaging ─────────────────────────────────────────────────────────────
  ...group('messaging', [
    { type: 'message.sms_requested', description: "A triggered message is due by SMS: deliver it through the tenant's provider (subscribe a webhook).", member: true, payload: MESSAGE_REQUEST },
    { type: 'message.push_requested', description: "A triggered message is due by push: deliver it through the tenant's provider (subscribe a webhook).", member: true, payload: MESSAGE_REQUEST },
    { type: 'message.sent', description: 'A message was handed to its channel (the SMTP server accepted the email, or the SMS/push request event was written).', member: true, payload: MESSAGE_OUTCOME },
    { type: 'message.failed', description: 'A message could not be sent: SMTP not configured, refused for good by the SMTP server for a policy or content reason (smtp_rejected), no webhook endpoint to hand an SMS or push to (no_provider), a template error, or temporary failures past the last retry.', member: true, payload: { ...MESSAGE_OUTCOME, error: 'what went wrong (an SMTP reply with the address replaced by [recipient])' } },
    { type: 'message.bounced', description: 'An email hard-bounced or drew a complaint (the address is suppressed).', member: true, payload: { ...MESSAGE_OUTCOME, email_sha256: 'SHA-256 (hex) of the lower-cased address that bounced (never the address: the outbox is kept for good)', error: "the SMTP reply or the provider's detail, the address replaced by [recipient]" } },
    { type: 'message.suppressed', description: 'A message was not sent: no consent for the channel, a suppressed address, no address, or the member erased or blocked.', member: true, payload: { ...MESSAGE_OUTCOME, reason: 'no_consent, address_suppressed, no_address, member_erased or member_blocked' } },
    { type: 'email_suppression.added', description: 'An address was suppressed (hard bounce, complaint or by hand); nothing is sent to it.', member: false, payload: { email_sha256: 'SHA-256 (hex) of the lower-cased address (never the address itself)', reason: 'hard_bounce, complaint or manual' } },
    { type: 'email_suppression.removed', description: 'An address was taken off the suppression list by hand; it gets email again.', member: false, payload: { email_sha256: 'SHA-256 (hex) of the lower-cased address', reason: 'the reason it had' } },
    { type: 'message_template.updated', description: "A tenant saved its own wording of a trigger's template in one language.", member: false, payload: { trigger: 'the trigger', locale: 'the language', fields: 'the parts saved (subject, html, text)' } },
    { type: 'message_template.reset', description: "A tenant's own wording of a template was removed: the shipped default applies again.", member: false, payload: { trigger: 'the trigger', locale: 'the language' } },
    { type: 'message_trigger.updated', description: "A tenant changed a trigger's settings (on/off, channel, timing, offer).", member: false, payload: { trigger: 'the trigger', enabled: 'on or off after the change', channel: 'email, sms or push', changed: 'the settings whose value changed' } },
    { type: 'messaging_settings.updated', description: "The tenant's messaging settings changed (sender, rate limit, quiet hours).", member: false, payload: { changed_fields: 'the settings whose value changed' } },
  ]),
];

export const EVENT_TYPES: ReadonlySet<string> = new Set(EVENT_CATALOG.map((e) => e.type));

export function isEventType(type: string): boolean {
  return EVENT_TYPES.has(type);
}
