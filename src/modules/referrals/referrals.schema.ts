/** HTTP schemas of the referral program: its settings, attributions, a member's referral page and the review queue. */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { GiftResultSchema, GiftSchema } from '../rewards/rewards.gift.js';

export const LIMITS = {
  amount: 1_000_000_000_000,
  withinDays: 3650,
  returnWindowDays: 365,
  limitCount: 1_000_000,
  milestones: 20,
  milestoneCount: 10_000,
  templateLength: 500,
  extraDomains: 500,
  burstPerHour: 100_000,
  signalLength: 200,
  reasonLength: 500,
};

export const REFERRAL_STATUSES = ['pending_purchase', 'qualifying', 'converted', 'rejected', 'in_review', 'expired'] as const;
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];
export const LIMIT_PERIODS = ['month', 'year'] as const;
export const FLAG_KINDS = ['shared_device', 'shared_ip', 'shared_payment_fingerprint', 'disposable_email', 'burst'] as const;

/** Free text without control characters, with something visible in it. */
const Text = (max: number, opts: Record<string, unknown> = {}) =>
  Type.String({ minLength: 1, maxLength: max, pattern: '^(?!\\s*$)[^\\u0000-\\u001f\\u007f]+$', 'x-message': 'must contain a visible character and no control characters', ...opts });

const Domain = Type.String({
  minLength: 3, maxLength: 253, pattern: '^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z]{2,63}$',
  'x-message': 'must be a domain name such as example.com',
});

const LimitSchema = Obj({
  count: Type.Integer({ minimum: 1, maximum: LIMITS.limitCount, description: 'Referrals per referrer per period; more are rejected (limit_reached).' }),
  period: StringEnum(LIMIT_PERIODS, { description: "Calendar month or year in the tenant's time zone." }),
}, { description: 'How many referrals one referrer may make per calendar period (rejected ones do not count).' });

const MilestoneSchema = Obj({
  count: Type.Integer({ minimum: 1, maximum: LIMITS.milestoneCount, description: "The referrer's Nth converted referral." }),
  gift: GiftSchema,
});

const ReviewFields = {
  shared_device: Type.Boolean({ description: 'Review a sign-up whose device_id the referrer or another referee of the code was seen with.' }),
  shared_ip: Type.Boolean({ description: 'The same for the IP address.' }),
  shared_payment_fingerprint: Type.Boolean({ description: 'The same for the payment fingerprint (a card hash from the payment provider).' }),
  disposable_email: Type.Boolean({ description: 'Review a sign-up with an email address at a disposable-email domain (the shipped list plus extra_disposable_domains).' }),
  burst_per_hour: Nullable(Type.Integer({ minimum: 1, maximum: LIMITS.burstPerHour, description: 'Review a sign-up on a code that already had this many sign-ups in the past hour; null: no burst check.' })),
};

export const ReferralProgram = Type.Object({
  enabled: Type.Boolean({ description: 'Attributions are refused (422) while false.' }),
  referrer_gift: Nullable(GiftSchema),
  referee_gift: Nullable(GiftSchema),
  currency: Type.String({ description: "The program currency (of min_purchase_amount); read-only." }),
  min_purchase_amount: Type.Integer({ description: 'The smallest first purchase that qualifies, minor units.' }),
  purchase_within_days: Type.Integer({ description: 'The qualifying purchase must come within this many days of the attribution.' }),
  return_window_days: Type.Integer({ description: 'Days after the purchase before the referral converts (the gifts are given).' }),
  limit: Nullable(Type.Object({ count: Type.Integer(), period: StringEnum(LIMIT_PERIODS) })),
  milestones: Type.Array(Type.Object({ count: Type.Integer(), gift: GiftSchema })),
  share_link_template: Nullable(Type.String({ description: 'The share link with `{code}` in it, e.g. https://shop.example/r/{code}.' })),
  review: Type.Object(ReviewFields),
  extra_disposable_domains: Type.Array(Type.String()),
  updated_at: Nullable(Timestamp()),
}, { $id: 'ReferralProgram', description: 'The referral program of the tenant (the defaults until first changed).' });

export const UpdateReferralProgramBody = Obj({
  enabled: Type.Optional(Type.Boolean()),
  referrer_gift: Type.Optional(Nullable(GiftSchema)),
  referee_gift: Type.Optional(Nullable(GiftSchema)),
  min_purchase_amount: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.amount })),
  purchase_within_days: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.withinDays })),
  return_window_days: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.returnWindowDays })),
  limit: Type.Optional(Nullable(LimitSchema)),
  milestones: Type.Optional(Type.Array(MilestoneSchema, { maxItems: LIMITS.milestones, description: 'Replaces the list; counts must differ.' })),
  share_link_template: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: LIMITS.templateLength, description: 'An http(s) URL containing `{code}`.' }))),
  review: Type.Optional(Obj({
    shared_device: Type.Optional(ReviewFields.shared_device),
    shared_ip: Type.Optional(ReviewFields.shared_ip),
    shared_payment_fingerprint: Type.Optional(ReviewFields.shared_payment_fingerprint),
    disposable_email: Type.Optional(ReviewFields.disposable_email),
    burst_per_hour: Type.Optional(ReviewFields.burst_per_hour),
  }, { description: 'Only the toggles sent change.' })),
  extra_disposable_domains: Type.Optional(Type.Array(Domain, { maxItems: LIMITS.extraDomains, description: 'Replaces the list; subdomains match too.' })),
}, {
  minProperties: 1,
  description: 'Change the settings sent (the others stay). Gifts are given as they stand when a referral is attributed.',
  examples: [{
    enabled: true, referrer_gift: { points: 500 }, referee_gift: { points: 250 }, min_purchase_amount: 2000, purchase_within_days: 30,
    return_window_days: 14, limit: { count: 10, period: 'month' }, milestones: [{ count: 3, gift: { points: 300 } }, { count: 5, gift: { points: 600 } }],
    share_link_template: 'https://shop.example/r/{code}',
  }],
});
export type ReferralProgramPatch = Static<typeof UpdateReferralProgramBody>;

const Signal = (description: string) => Type.String({ minLength: 1, maxLength: LIMITS.signalLength, pattern: '^[^\\u0000-\\u001f\\u007f]+$', 'x-message': 'must not contain control characters', description });

const signals = {
  device_id: Type.Optional(Signal('A device id the shop saw (app install id, cookie id).')),
  ip: Type.Optional(Type.String({ maxLength: 45, description: 'The IP address (v4 or v6) of the sign-up.' })),
  payment_fingerprint: Type.Optional(Signal("The payment provider's fingerprint of the card or account.")),
};

export const AttributeBody = Obj({
  code: Type.String({ minLength: 1, maxLength: 64, description: 'The referral code the new member signed up with (case and dashes ignored).' }),
  member_id: Type.Optional(Uuid({ description: 'The new member (or member_external_id).' })),
  member_external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "The new member by the shop's id." })),
  email: Type.Optional(Type.String({ format: 'email', maxLength: 320, description: "The email the new member signed up with (default: the member's)." })),
  phone: Type.Optional(Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$', 'x-message': 'must be an E.164 number such as +359888123456', description: "The phone the new member signed up with (default: the member's)." })),
  ...signals,
}, {
  description: 'A new member signed up with a referral code. Send it once the member exists (POST /v1/members first).',
  examples: [{ code: 'K7M2QX9P', member_external_id: 'C-4712', email: 'ana@example.com', device_id: 'app-1f3e', ip: '203.0.113.7' }],
});
export type AttributeInput = Static<typeof AttributeBody>;

export const SignalsBody = Obj(signals, {
  minProperties: 1,
  description: "What the shop saw of a member (e.g. a referrer's device when sharing the link), so later sign-ups can be compared with it.",
  examples: [{ device_id: 'app-9a0c', ip: '198.51.100.23' }],
});
export type SignalsInput = Static<typeof SignalsBody>;

export const SignalsRecorded = Type.Object({
  member_id: Uuid(),
  recorded: Type.Integer({ description: 'Signals not seen for this member before.' }),
});

export const RejectBody = Obj({ reason: Text(LIMITS.reasonLength, { description: 'Why (kept on the referral and in its event).' }) }, { examples: [{ reason: 'same household, confirmed by support' }] });


const Flag = Type.Object({ kind: StringEnum(FLAG_KINDS), detail: Type.String() });

export const Referral = Type.Object({
  id: Uuid(),
  code: Type.String(),
  referrer_id: Uuid(),
  referee_id: Uuid(),
  status: StringEnum(REFERRAL_STATUSES),
  reason: Nullable(Type.String({ description: 'Rejected or expired: why (limit_reached, no_qualifying_purchase, purchase_returned, an admin reason).' })),
  review_flags: Type.Array(Flag, { description: 'Why it went to the review queue.' }),
  terms: Type.Object({
    referrer_gift: Nullable(GiftSchema),
    referee_gift: Nullable(GiftSchema),
    min_purchase_amount: Type.Integer(),
    currency: Type.String(),
    purchase_within_days: Type.Integer(),
    return_window_days: Type.Integer(),
  }, { description: 'The settings in force when it was attributed: what it converts by.' }),
  attributed_at: Timestamp(),
  qualify_by: Timestamp({ description: 'The qualifying purchase must happen by then.' }),
  purchase_id: Nullable(Uuid({ description: 'The qualifying purchase (an order id).' })),
  purchase_total: Nullable(Type.Integer()),
  purchased_at: Nullable(Timestamp()),
  convert_after: Nullable(Timestamp({ description: 'The end of the return window: the conversion job gives the gifts after it.' })),
  converted_at: Nullable(Timestamp()),
  referrer_reward: Nullable(GiftResultSchema),
  referee_reward: Nullable(GiftResultSchema),
  reviewed_at: Nullable(Timestamp()),
  closed_at: Nullable(Timestamp({ description: 'When it was rejected or expired.' })),
  created_at: Timestamp(),
  updated_at: Timestamp(),
}, { $id: 'Referral', description: 'A new member attributed to the member whose code they signed up with.' });

const StatusCounts = Type.Object(Object.fromEntries([['total', Type.Integer()], ...REFERRAL_STATUSES.map((s) => [s, Type.Integer()])]));

export const MemberReferral = Type.Object({
  member_id: Uuid(),
  code: Nullable(Type.String({ description: 'The member\'s referral code (null for an erased member).' })),
  link: Nullable(Type.String({ description: 'The share link (null without a share_link_template).' })),
  stats: StatusCounts,
  milestones: Type.Array(Type.Object({ count: Type.Integer(), reached_at: Timestamp(), reward: GiftResultSchema })),
  referrals: Type.Array(Type.Object({
    id: Uuid(),
    referee_id: Uuid(),
    status: StringEnum(REFERRAL_STATUSES),
    reason: Nullable(Type.String()),
    attributed_at: Timestamp(),
    purchased_at: Nullable(Timestamp()),
    convert_after: Nullable(Timestamp()),
    converted_at: Nullable(Timestamp()),
  }), { description: 'The newest 100 of the member\'s referrals (all of them: GET /v1/referrals?referrer_id=…).' }),
  referred_by: Nullable(Type.Object({ referral_id: Uuid(), referrer_id: Uuid(), status: StringEnum(REFERRAL_STATUSES) })),
}, { $id: 'MemberReferral', description: "A member's referral code, share link and referrals." });

export const ListReferralsQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(StringEnum(REFERRAL_STATUSES)),
  referrer_id: Type.Optional(Uuid()),
  referee_id: Type.Optional(Uuid()),
});
