/** A member's store credit over HTTP: the wallet, spending at checkout, refunds of a spend, adjustments (admin). */
import type { Db, Queryable } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { actorOf } from '../ledger/ledger.routes.js';
import type { MembersService } from '../members/members.service.js';
import type { ProgramsService } from '../programs/programs.service.js';
import { AdjustmentBody, DebitBody, DebitParams, RefundBody, Wallet, WalletBalance, WalletEntry, WalletMoveResult, WalletQuery } from './wallet.schema.js';
import type { WalletEntryRow, WalletService } from './wallet.service.js';

export function walletRoutes(deps: { db: Db; wallet: WalletService; members: MembersService; programs: ProgramsService; http: HttpKit }) {
  const { db, wallet, members, programs, http } = deps;
  const tags = ['wallet'];

  const memberExists = async (q: Queryable, tenantId: string, id: string) => {
    if (!(await members.find(q, tenantId, { id }))) throw errors.notFound('member', id);
  };
  const currencyOf = async (q: Queryable, tenantId: string, given: string | undefined) => given ?? (await programs.get(q, tenantId)).currency;
  const result = async (q: Queryable, tenantId: string, entry: WalletEntryRow) => ({ entry, wallet: await wallet.balance(q, tenantId, entry.member_id, entry.currency) });
  const entryId = (r: { entry: { id: string } }) => r.entry.id;

  return async function (app: HttpServer) {
    app.addSchema(WalletEntry);
    app.addSchema(WalletBalance);

    app.get('/v1/members/:id/wallet', {
      schema: {
        tags, summary: "A member's store credit: the balance and its entries, newest first",
        params: IdParams, querystring: WalletQuery, response: { 200: Wallet, ...problems(400, 401, 404) },
      },
    }, async (req) => {
      const tenantId = tenantOf(req).tenantId;
      const q = req.query;
      const before = decodeCursor(q.cursor, isIdCursor);
      await memberExists(db, tenantId, req.params.id);
      const balance = await wallet.balance(db, tenantId, req.params.id, q.currency);
      const rows = await wallet.entries(db, tenantId, req.params.id, { currency: balance.currency, beforeId: before?.id, limit: q.limit + 1 });
      return { ...balance, entries: page(rows, q.limit, (r) => r, (r) => ({ id: r.id })) };
    });

    app.post('/v1/members/:id/wallet/debits', {
      schema: {
        tags, summary: 'Spend store credit at checkout',
        description: 'Takes `amount` from the balance and emits `wallet.debited`. 422 `insufficient_credit` beyond the balance (nothing is written); 422 for a blocked or erased member or another currency than the program’s. Concurrent debits never overdraw. Send an Idempotency-Key: a retry never spends twice.',
        params: IdParams, body: DebitBody, response: { 201: WalletMoveResult, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => {
      const tenantId = tenantOf(req).tenantId;
      const b = req.body;
      return http.write(req, reply, { resource: 'wallet_entry', status: 201, resourceId: entryId }, async (tx) => {
        const e = await wallet.debit(tx, tenantId, req.params.id, {
          amount: b.amount, currency: await currencyOf(tx, tenantId, b.currency), reason: b.reason ?? null,
          source_type: 'checkout', source_id: b.order_ref ?? null, order_ref: b.order_ref ?? null, actor: actorOf(req),
        });
        return result(tx, tenantId, e);
      });
    });

    app.post('/v1/members/:id/wallet/debits/:entry_id/refunds', {
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: {
        tags, summary: 'Give back (part of) a spend: the order was cancelled or returned',
        description: 'Credits `amount` (default: all that is left of the debit) with source `refund`. Never more than the debit took, however many refunds are sent at once (422 beyond it).',
        params: DebitParams, body: RefundBody, response: { 201: WalletMoveResult, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => {
      const tenantId = tenantOf(req).tenantId;
      return http.write(req, reply, { resource: 'wallet_entry', status: 201, resourceId: entryId }, async (tx) =>
        result(tx, tenantId, await wallet.refund(tx, tenantId, req.params.id, req.params.entry_id, req.body?.amount, actorOf(req))));
    });

    app.post('/v1/members/:id/wallet/adjustments', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: "Add or take away a member's store credit by hand (admin)",
        description: 'A positive amount is credited (source `admin`), a negative one taken away: at most the balance, else 422 `insufficient_credit`. The entry records the API key that made it.',
        params: IdParams, body: AdjustmentBody, response: { 201: WalletMoveResult, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => {
      const tenantId = tenantOf(req).tenantId;
      const b = req.body;
      if (b.amount === 0) throw errors.field('amount', 'must not be 0');
      return http.write(req, reply, { resource: 'wallet_entry', status: 201, resourceId: entryId }, async (tx) => {
        const move = {
          amount: Math.abs(b.amount), currency: await currencyOf(tx, tenantId, b.currency), reason: b.reason,
          source_type: 'admin' as const, source_id: null, actor: actorOf(req),
        };
        const e = b.amount > 0 ? await wallet.credit(tx, tenantId, req.params.id, move) : await wallet.debit(tx, tenantId, req.params.id, move);
        return result(tx, tenantId, e);
      });
    });

  };
}
