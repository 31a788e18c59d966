/** HTTP schemas of the store-credit wallet. */
import { Type } from '@sinclair/typebox';
import { Nullable, Obj, Page, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { Text } from '../ledger/ledger.schema.js';
import { MAX_WALLET_AMOUNT, WALLET_SOURCE_TYPES } from './wallet.service.js';

const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code; must be the program currency (the default).' });
const Amount = (description: string) => Type.Integer({ minimum: 1, maximum: MAX_WALLET_AMOUNT, description });

export const WalletEntry = Type.Object(
  {
    id: Uuid(),
    member_id: Uuid(),
    type: StringEnum(['credit', 'debit'] as const),
    amount: Type.Integer({ description: 'Signed minor units: credits positive, debits negative.' }),
    currency: Type.String(),
    balance_after: Type.Integer({ description: 'The balance in this currency after the entry.' }),
    reason: Nullable(Type.String()),
    source_type: StringEnum(WALLET_SOURCE_TYPES, { description: 'What caused it: cashback, refund, checkout, admin, a stamp card, a referral, …' }),
    source_id: Nullable(Type.String()),
    order_ref: Nullable(Type.String()),
    actor: Nullable(Type.String({ description: 'The API key that made it (debits, adjustments, refunds by hand).' })),
    created_at: Timestamp(),
  },
  { $id: 'WalletEntry', description: 'One change of a member’s store credit. Entries are never edited or deleted.' },
);

export const WalletBalance = Type.Object(
  {
    member_id: Uuid(),
    currency: Type.String(),
    balance: Type.Integer({ description: 'Spendable store credit, minor units (never negative).' }),
    credited: Type.Integer({ description: 'Everything ever credited.' }),
    debited: Type.Integer({ description: 'Everything ever spent or taken away.' }),
    updated_at: Nullable(Timestamp()),
  },
  { $id: 'WalletBalance', description: "A member's store credit in one currency." },
);

export const Wallet = Type.Object(
  {
    ...WalletBalance.properties,
    entries: Page(Type.Ref(WalletEntry)),
  },
  { description: 'The balance and a page of entries, newest first (`cursor` pages on).' },
);

export const WalletQuery = Type.Object({
  ...PageQuery,
  currency: Type.Optional(Currency),
});

export const DebitBody = Obj(
  {
    amount: Amount('Minor units to spend; at most the balance, else 422 insufficient_credit.'),
    currency: Type.Optional(Currency),
    order_ref: Type.Optional(Text(200, { description: "The shop's order the credit pays for." })),
    reason: Type.Optional(Text(500)),
  },
  { description: 'Spend store credit at checkout. Send an Idempotency-Key: a retry never spends twice.', examples: [{ amount: 1500, order_ref: '10031' }] },
);

export const RefundBody = Obj(
  { amount: Type.Optional(Amount('Minor units to give back (default: all that is left of the debit).')) },
  { description: 'The body is optional.', examples: [{ amount: 500 }, {}] },
);

export const AdjustmentBody = Obj(
  {
    amount: Type.Integer({ minimum: -MAX_WALLET_AMOUNT, maximum: MAX_WALLET_AMOUNT, description: 'Not 0. Signed minor units: positive credits, negative takes away (at most the balance).' }),
    currency: Type.Optional(Currency),
    reason: Text(500, { description: 'Why (kept in the entry).' }),
  },
  { description: 'A correction by hand (admin).', examples: [{ amount: 2000, reason: 'goodwill: late delivery' }] },
);

export const WalletMoveResult = Type.Object(
  { entry: Type.Ref(WalletEntry), wallet: Type.Ref(WalletBalance) },
  { description: 'The entry written and the balance after it.' },
);

export const DebitParams = Obj({ id: Uuid({ description: 'Patron id of the member' }), entry_id: Uuid({ description: 'The debit entry' }) });
