/**
 * Orders over HTTP: record a purchase or return, preview what a basket earns, read, list and void.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Db } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { ajvToFieldErrors } from '../../platform/http/problem.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { CreateTransactionBody, Earning, ListTransactionsQuery, PreviewResponse, Transaction, VoidBody } from './transactions.schema.js';
import type { RecordResult, TransactionRow, TransactionsService } from './transactions.service.js';

/** The API shape of an order: the stored row without its bookkeeping (digest, per-rule state, context). */
export function transactionView(t: TransactionRow) {
  const { body_digest: _d, earning, ...rest } = t;
  return {
    ...rest,
    earning: earning && {
      points: earning.points, kept_points: earning.kept_points, eligible_amount: earning.eligible_amount,
      not_earned_reason: earning.not_earned_reason, activates_at: earning.activates_at, expires_at: earning.expires_at,
      explanation: earning.explanation,
    },
  };
}

export function transactionsRoutes(deps: { db: Db; transactions: TransactionsService; http: HttpKit }) {
  const { db, transactions, http } = deps;
  const tags = ['transactions'];
  const T = Type.Ref(Transaction);

  /**
   * Schema errors as one 400. The semantic checks (currency, dates, return fields) run in the service, inside the
   * write, and are never stored under an Idempotency-Key either (write.ts keeps no validation answers).
   */
  function rejectBadOrder(req: FastifyRequest) {
    const failed = req.validationError as (Error & { validation?: any[]; validationContext?: string }) | undefined;
    if (!failed) return;
    if (!failed.validation) throw failed;
    throw errors.validation(ajvToFieldErrors(failed.validation, failed.validationContext));
  }

  return async function (app: HttpServer) {
    app.addSchema(Earning);
    app.addSchema(Transaction);

    app.post('/v1/transactions', {
      attachValidation: true,
      schema: {
        tags, summary: 'Record a purchase or a return',
        description: 'A purchase earns points by the earn rules in force at `occurred_at`; a return claws back what the kept part of its purchase no longer earns. '
          + 'Re-sending an order (same `external_id`, same body) answers 200 with the first result and never earns twice; another body is a 409.',
        body: CreateTransactionBody,
        response: { 200: T, 201: T, ...problems(400, 401, 403, 409, 422) },
      },
    }, async (req, reply) => {
      rejectBadOrder(req);
      return http.write(req, reply, {
        resource: 'transaction', statusOf: (r: RecordResult) => (r.created ? 201 : 200), bodyOf: (r: RecordResult) => transactionView(r.transaction),
        resourceId: (r: RecordResult) => r.transaction.id,
      }, (tx) => transactions.record(tx, tenantOf(req).tenantId, req.body));
    });

    app.post('/v1/transactions/preview', {
      attachValidation: true,
      schema: {
        tags, summary: 'What a basket would earn, and why (writes nothing)',
        description: 'Takes the body of a purchase (external_id is still required, to keep one shape; it is not checked for uniqueness). Nothing is stored.',
        body: CreateTransactionBody,
        response: { 200: PreviewResponse, ...problems(400, 401, 403, 422) },
      },
    }, async (req) => {
      rejectBadOrder(req);
      // A read in a transaction that is rolled back: a preview must never write, even by mistake.
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN READ ONLY');
        return await transactions.preview(client, tenantOf(req).tenantId, req.body);
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release();
      }
    });

    app.get('/v1/transactions/:id', {
      schema: { tags, summary: 'An order: what it earned and why', params: IdParams, response: { 200: T, ...problems(400, 401, 404) } },
    }, async (req) => transactionView(await transactions.get(db, tenantOf(req).tenantId, req.params.id)));

    app.get('/v1/transactions', {
      schema: { tags, summary: 'List orders (newest first)', querystring: ListTransactionsQuery, response: { 200: Page(T), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await transactions.list(db, tenantOf(req).tenantId, {
        memberId: q.member_id, type: q.type, externalId: q.external_id, afterId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1,
      });
      return page(rows, q.limit, transactionView, (r) => ({ id: r.id }));
    });

    app.post('/v1/transactions/:id/void', {
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: {
        tags, summary: 'Void an order: every effect undone', params: IdParams, body: VoidBody,
        description: 'A voided purchase gives back what it still kept; a voided return gives back what it clawed back. Voiding again answers with the voided order.',
        response: { 200: T, ...problems(400, 401, 403, 404, 422) },
      },
    }, (req, reply) =>
      http.write(req, reply, { resource: 'transaction', changedFields: ['status'], bodyOf: transactionView },
        (tx) => transactions.void(tx, tenantOf(req).tenantId, req.params.id, req.body?.reason)));
  };
}
