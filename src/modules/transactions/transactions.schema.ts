/**
 * Orders over HTTP: the canonical fields a shop or POS sends, and what Patron answers.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';

export const TRANSACTION_TYPES = ['purchase', 'return'] as const;
export const SALES_CHANNELS = ['online', 'store', 'app'] as const;
export const LIMITS = { lines: 500, payments: 20, amount: 1_000_000_000_000 };

const ID_PATTERN = '^[^\\s\\u0000-\\u001f](?:[^\\u0000-\\u001f]*[^\\s\\u0000-\\u001f])?$';
const ID_MESSAGE = 'must not contain control characters or start or end with white space';
const ref = (description: string, maxLength = 200) =>
  Type.String({ minLength: 1, maxLength, pattern: ID_PATTERN, 'x-message': ID_MESSAGE, description });
const money = (description: string) => Type.Integer({ minimum: 0, maximum: LIMITS.amount, description });

export const LineInput = Obj({
  sku: ref('Product id.', 100),
  name: Type.Optional(Type.String({ maxLength: 300 })),
  category: Type.Optional(Nullable(ref('Product category; categories the program excludes (gift cards) earn nothing.', 100))),
  quantity: Type.Integer({ minimum: 1, maximum: 100_000 }),
  unit_price: Type.Optional(money('Minor units per item (required on a purchase).')),
  discount: Type.Optional(money('Line discount in minor units (default 0).')),
});

export const PaymentInput = Obj({
  method: Type.String({ minLength: 1, maxLength: 50, pattern: '^[a-z][a-z0-9_]*$', 'x-message': 'must be lower case letters, digits and _', description: 'card, cash, points, store_credit, gift_card, … (the program says which do not earn).' }),
  amount: money('Minor units.'),
});

export const CreateTransactionBody = Obj({
  external_id: ref("The shop's order id, unique per tenant: a re-sent order is answered, never recorded twice."),
  type: Type.Optional(StringEnum(TRANSACTION_TYPES, { description: 'purchase (default) or return.' })),
  member_id: Type.Optional(Uuid({ description: 'The member, by Patron id.' })),
  member_external_id: Type.Optional(ref("The member, by the shop's customer id; an unknown one enrols the customer when the program allows it.")),
  customer_ref: Type.Optional(ref('A customer who is not a member (analytics only; earns nothing).')),
  occurred_at: Type.Optional(Timestamp({ description: 'When the order happened (default now); a late order is judged by the rules in force then.' })),
  currency: Type.String({ pattern: '^[A-Z]{3}$', 'x-message': 'must be an ISO 4217 code such as EUR', description: "ISO 4217; must be the program's currency." }),
  total: money('Amount paid (purchase) or refunded (return), minor units; zero is valid.'),
  lines: Type.Optional(Type.Array(LineInput, { maxItems: LIMITS.lines, description: 'Purchase: the basket. Return: the lines given back (by sku, with quantity).' })),
  channel: Type.Optional(StringEnum(SALES_CHANNELS)),
  store_id: Type.Optional(ref('Store or POS id.', 100)),
  payments: Type.Optional(Type.Array(PaymentInput, { maxItems: LIMITS.payments, description: 'The part paid with points or store credit earns nothing.' })),
  original_id: Type.Optional(Uuid({ description: 'Return: the purchase, by Patron id.' })),
  original_external_id: Type.Optional(ref('Return: the purchase, by order id.')),
}, {
  examples: [{
    external_id: 'order-10045', member_external_id: 'cust-42', occurred_at: '2026-11-29T10:15:00Z', currency: 'EUR', total: 4590,
    channel: 'online', lines: [{ sku: 'BEANS-1KG', category: 'coffee', quantity: 1, unit_price: 2990 }, { sku: 'MUG', category: 'gear', quantity: 2, unit_price: 800 }],
    payments: [{ method: 'card', amount: 4590 }],
  }],
});
export type CreateTransactionInput = Static<typeof CreateTransactionBody>;

const Explanation = Type.Object({
  rule_id: Type.String(),
  rule_name: Type.String(),
  kind: Type.String(),
  outcome: Type.String({ description: 'applied, condition_false, superseded, beaten, excluded, cap_reached, …' }),
  points: Type.Integer(),
  uncapped_points: Type.Optional(Type.Integer()),
  capped_by: Type.Optional(Type.Array(Type.String())),
  by_rule_id: Type.Optional(Type.String()),
  tier_multiplier: Type.Optional(Type.Number({ description: "The member's tier earn multiplier applied to this base rule." })),
  detail: Type.String(),
});

export const Earning = Type.Object({
  points: Type.Integer({ description: 'What the order earned when recorded.' }),
  kept_points: Type.Integer({ description: 'What it keeps after returns and voids.' }),
  eligible_amount: Type.Integer({ description: 'The amount that earned, minor units (after excluded categories and points/store-credit payments).' }),
  not_earned_reason: Nullable(Type.String({ description: 'Why it earned nothing: no_member, unknown_member, member_blocked, member_erased, not_awarded (imported without points).' })),
  activates_at: Nullable(Timestamp({ description: 'End of the pending period.' })),
  expires_at: Nullable(Timestamp()),
  explanation: Type.Array(Explanation),
}, { $id: 'Earning' });

export const Transaction = Type.Object({
  id: Uuid(),
  external_id: Type.String(),
  type: StringEnum(TRANSACTION_TYPES),
  status: StringEnum(['recorded', 'voided'] as const),
  member_id: Nullable(Uuid()),
  customer_ref: Nullable(Type.String()),
  original_id: Nullable(Uuid()),
  occurred_at: Timestamp(),
  currency: Type.String(),
  total: Type.Integer(),
  lines: Nullable(Type.Array(Type.Object({
    sku: Type.String(), name: Type.Optional(Type.String()), category: Type.Optional(Nullable(Type.String())),
    quantity: Type.Integer(), unit_price: Type.Optional(Type.Integer()), discount: Type.Optional(Type.Integer()),
  }))),
  channel: Nullable(Type.String()),
  store_id: Nullable(Type.String()),
  payments: Nullable(Type.Array(Type.Object({ method: Type.String(), amount: Type.Integer() }))),
  points: Type.Integer({ description: 'Points this order changed: earned (purchase) or clawed back (return, negative).' }),
  returned_total: Type.Integer({ description: 'Purchase: the total of its returns so far.' }),
  earning: Nullable(Type.Ref(Earning)),
  source: StringEnum(['api', 'import'] as const),
  created_at: Timestamp(),
  voided_at: Nullable(Timestamp()),
}, { $id: 'Transaction' });

export const PreviewResponse = Type.Object({
  member_id: Nullable(Uuid()),
  points: Type.Integer(),
  eligible_amount: Type.Integer(),
  activates_at: Nullable(Timestamp()),
  expires_at: Nullable(Timestamp()),
  not_earned_reason: Nullable(Type.String()),
  explanation: Type.Array(Explanation),
});

export const ListTransactionsQuery = Obj({
  ...PageQuery,
  member_id: Type.Optional(Uuid()),
  type: Type.Optional(StringEnum(TRANSACTION_TYPES)),
  external_id: Type.Optional(Type.String({ maxLength: 200 })),
});

export const VoidBody = Obj({
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
});
