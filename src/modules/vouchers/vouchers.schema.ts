/** HTTP schemas of vouchers, their redemptions, code pools and bulk batches. */
import { Type } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { Text } from '../ledger/ledger.schema.js';
import { INVALID_REASONS, KINDS, LIMITS, STATUSES } from './vouchers.service.js';

const Minor = (description: string, minimum = 1) => Type.Integer({ minimum, maximum: LIMITS.amount, description });
const Currency = (description: string) => Type.String({ pattern: '^[A-Z]{3}$', description });

/** The terms a voucher (or every voucher of a batch) is issued with. */
const terms = {
  kind: StringEnum(KINDS, { description: 'fixed_amount (amount off), percentage (percent off, capped by max_discount), free_product (sku), gift_card (a balance spent in parts).' }),
  amount: Type.Optional(Minor('fixed_amount: the discount; gift_card: its value; free_product: the product’s value (optional). Minor units.')),
  currency: Type.Optional(Currency('ISO 4217; default the program currency. A basket in another currency cannot use the voucher.')),
  percent: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100, multipleOf: 0.01, description: 'percentage: percent off the basket (up to two decimals).' })),
  max_discount: Type.Optional(Minor('percentage: the most it takes off.')),
  sku: Type.Optional(Text(200, { description: 'free_product: the product given.' })),
  min_basket: Type.Optional(Minor('The smallest basket total it can be used on (default 0).', 0)),
  expires_at: Type.Optional(Nullable(Timestamp({ description: 'When it stops being usable (default: never).' }))),
};

export const IssueBody = Obj(
  {
    ...terms,
    member_id: Type.Optional(Nullable(Uuid({ description: 'Only this member may use it (default: anyone with the code).' }))),
    code_pattern: Type.Optional(Type.String({ maxLength: 64, description: '# digit, ? letter, * letter or digit, anything else literal; at least 40 bits of randomness. Default ****-****-**** (60 bits).' })),
    pool_id: Type.Optional(Uuid({ description: 'Take the code from this imported pool instead (422 when it has none left).' })),
  },
  { description: 'Issue one voucher.', examples: [{ kind: 'fixed_amount', amount: 500, min_basket: 2000, expires_at: '2026-12-31T22:00:00Z', member_id: '0193a5c2-7d7e-7cc1-9a2b-4b1f1a7e0c11' }] },
);

export const BatchBody = Obj(
  {
    count: Type.Integer({ minimum: 1, maximum: LIMITS.batch, description: `How many vouchers (1-${LIMITS.batch.toLocaleString('en-US')}).` }),
    pattern: Type.Optional(Type.String({ maxLength: 64, description: 'As code_pattern of a single voucher (at least 40 bits of randomness).' })),
    pool_id: Type.Optional(Uuid({ description: 'Take the codes from this pool instead (422 when it has too few left; nothing is issued then).' })),
    ...terms,
  },
  { description: 'Generate many unassigned vouchers at once.', examples: [{ count: 100000, pattern: 'SUMMER-*****-*****', kind: 'percentage', percent: 15, max_discount: 3000, expires_at: '2026-09-01T00:00:00Z' }] },
);

export const Voucher = Type.Object(
  {
    id: Uuid(),
    code: Type.String({ description: 'Upper case; looked up case-insensitively.' }),
    kind: StringEnum(KINDS),
    currency: Type.String(),
    amount: Nullable(Type.Integer()),
    percent: Nullable(Type.Number()),
    max_discount: Nullable(Type.Integer()),
    sku: Nullable(Type.String()),
    min_basket: Type.Integer(),
    balance: Nullable(Type.Integer({ description: 'gift_card: what is left to spend.' })),
    status: StringEnum(STATUSES, { description: 'active (usable), redeemed (used up), cancelled, expired.' }),
    member_id: Nullable(Uuid()),
    reward_id: Nullable(Uuid({ description: 'The catalog reward that issued it.' })),
    redemption_id: Nullable(Uuid({ description: 'The reward redemption that issued it.' })),
    batch_id: Nullable(Uuid()),
    pool_id: Nullable(Uuid()),
    expires_at: Nullable(Timestamp()),
    created_at: Timestamp(),
    redeemed_at: Nullable(Timestamp()),
    cancelled_at: Nullable(Timestamp()),
    expired_at: Nullable(Timestamp()),
  },
  { $id: 'Voucher', description: 'A voucher code and its terms.' },
);

export const VoucherRedemption = Type.Object(
  {
    id: Uuid(),
    voucher_id: Uuid(),
    order_ref: Type.String(),
    member_id: Nullable(Uuid()),
    total: Type.Integer(),
    currency: Type.String(),
    discount: Type.Integer({ description: 'What the voucher took off (a gift card: what it paid).' }),
    status: StringEnum(['redeemed', 'released'] as const),
    created_at: Timestamp(),
    released_at: Nullable(Timestamp()),
  },
  { $id: 'VoucherRedemption', description: 'A use of a voucher for an order.' },
);

export const RedemptionResult = Type.Object(
  { ...VoucherRedemption.properties, voucher: Type.Ref(Voucher) },
  { description: 'The redemption and the voucher after it.' },
);

export const CodeParams = Obj({ code: Type.String({ minLength: 1, maxLength: 64, description: 'The voucher code (any case).' }) });
export const ReleaseParams = Obj({ code: CodeParams.properties.code, redemption_id: Uuid() });

export const ValidationQuery = Type.Object({
  total: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.total, description: 'The basket total, minor units. Without it, the minimum basket is not checked and `discount` is null.' })),
  currency: Type.Optional(Currency('The basket currency (checked when given).')),
  member_id: Type.Optional(Uuid({ description: 'The member checking out (needed for a voucher issued to a member).' })),
});

export const ValidationResult = Type.Object(
  {
    code: Type.String(),
    valid: Type.Boolean(),
    reason: Nullable(StringEnum(INVALID_REASONS, { description: 'Why it cannot be used for this basket.' })),
    detail: Nullable(Type.String()),
    discount: Nullable(Type.Object({ amount: Type.Integer(), currency: Type.String() }, { description: 'What it takes off this basket (0 when not valid; null without a total).' })),
    free_sku: Nullable(Type.String({ description: 'free_product: the product to add free.' })),
    voucher: Type.Ref(Voucher),
  },
  { description: 'Whether the code can be used for this basket, and the discount.' },
);

export const RedeemBody = Obj(
  {
    order_ref: Text(200, { description: "The shop's order. Sent again for the same order, the first redemption is the answer." }),
    total: Type.Integer({ minimum: 0, maximum: LIMITS.total, description: 'The basket total, minor units.' }),
    currency: Currency('The basket currency.'),
    member_id: Type.Optional(Uuid({ description: 'The member checking out.' })),
    amount: Type.Optional(Minor('gift_card only: how much of the balance to spend (default: as much as the basket and balance allow).')),
  },
  { description: 'Use the code for an order.', examples: [{ order_ref: '10042', total: 4500, currency: 'EUR' }] },
);

export const ListVouchersQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(StringEnum(STATUSES)),
  kind: Type.Optional(StringEnum(KINDS)),
  member_id: Type.Optional(Uuid()),
  batch_id: Type.Optional(Uuid({ description: 'The codes of one bulk batch.' })),
});

export const Batch = Type.Object(
  {
    id: Uuid(),
    count: Type.Integer(),
    pattern: Nullable(Type.String()),
    pool_id: Nullable(Uuid()),
    spec: Type.Object({}, { additionalProperties: true, description: 'The terms every voucher of the batch has.' }),
    collisions: Type.Integer({ description: 'Codes drawn that were taken already, and drawn again.' }),
    created_at: Timestamp(),
  },
  { $id: 'VoucherBatch', description: 'A bulk generation; its vouchers: GET /v1/vouchers?batch_id=….' },
);

export const PoolBody = Obj({ name: Text(200) }, { examples: [{ name: 'Partner codes 2026' }] });

export const Pool = Type.Object(
  { id: Uuid(), name: Type.String(), codes: Type.Integer({ description: 'Codes uploaded.' }), unused: Type.Integer({ description: 'Codes not handed out yet.' }), created_at: Timestamp() },
  { $id: 'VoucherPool', description: 'Imported codes, handed out one per voucher.' },
);

export const PoolCodesBody = Obj(
  { codes: Type.Array(Type.String({ maxLength: 200 }), { minItems: 1, maxItems: LIMITS.batch, description: 'Codes (3-64 letters, digits, - or _; stored upper case).' }) },
  { description: 'JSON, or text/csv with one code per line (the first column; a header "code" is skipped).', examples: [{ codes: ['PARTNER-8F3K2Q', 'PARTNER-Z7M4TX'] }] },
);

export const PoolCodesResult = Type.Object({
  pool: Type.Ref(Pool),
  received: Type.Integer(),
  added: Type.Integer(),
  duplicates: Type.Integer({ description: 'Codes already in a pool of the tenant (or twice in the upload): not added again.' }),
});
