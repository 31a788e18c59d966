/**
 * Vouchers over HTTP: issue, bulk batches, code pools, and the shop's endpoints — validate a code for a basket,
 * redeem it for an order, release it when the order is cancelled — plus cancel, list and get.
 *
 * Looking codes up (validation and redemption by code) has its own, stricter rate limit per API key on top of the
 * global one, and a much smaller allowance for unknown codes: past it, every look-up is a 429 until the window ends,
 * so a key cannot walk the code space.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Config } from '../../platform/config.js';
import type { Db } from '../../platform/db/db.js';
import { AppError } from '../../platform/errors.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, PageQuery, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { rejectBadBody } from '../../platform/http/validation.js';
import {
  Batch, BatchBody, CodeParams, IssueBody, ListVouchersQuery, Pool, PoolBody, PoolCodesBody, PoolCodesResult, RedeemBody, RedemptionResult,
  ReleaseParams, ValidationQuery, ValidationResult, Voucher, VoucherRedemption,
} from './vouchers.schema.js';
import { specErrors, type RedemptionRow, type VoucherRow, type VouchersService } from './vouchers.service.js';

type Used = { redemption: RedemptionRow; voucher: VoucherRow };

const CSV_LIMIT = 16 * 1024 * 1024;

/** One code per line, the first column; a header `code` is skipped. */
export function codesFromCsv(text: string): string[] {
  const codes = text.split(/\r?\n/).map((l) => (l.split(',')[0] ?? '').trim().replace(/^"(.*)"$/, '$1').trim()).filter((c) => c !== '');
  if (codes[0] && /^code$/i.test(codes[0])) codes.shift();
  return codes;
}

const ListQuery = Type.Object({ ...PageQuery });

export function vouchersRoutes(deps: { db: Db; vouchers: VouchersService; http: HttpKit; rateLimit: Config['voucherRateLimit'] | null; now: () => Date }) {
  const { db, vouchers, http } = deps;
  const V = Type.Ref(Voucher);
  const tags = ['vouchers'];
  /** What the schema cannot see of a body's terms (a body the schema refused is checked as far as it can be). */
  const bodySpecErrors = (b: unknown, patternField: string) => {
    if (!b || typeof b !== 'object' || Array.isArray(b)) return [];
    const body = b as Record<string, unknown>;
    const at = typeof body.expires_at === 'string' ? new Date(body.expires_at) : undefined;
    return specErrors({ ...body, expires_at: at && !Number.isNaN(at.getTime()) ? at : undefined } as never, deps.now(), patternField);
  };

  return async function (app: HttpServer) {
    app.addSchema(Voucher);
    app.addSchema(VoucherRedemption);
    app.addSchema(Batch);
    app.addSchema(Pool);
    app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: CSV_LIMIT }, (_req, body, done) => done(null, { codes: codesFromCsv(body as string) }));

    // ── The look-up limit ─────────────────────────────────────────────────
    const rl = deps.rateLimit;
    const tooMany = (seconds: number, what: string) =>
      new AppError('rate_limited', `${what} Retry in ${seconds} s.`, [], { 'retry-after': String(Math.max(1, seconds)) });
    const lookupHooks = (() => {
      if (!rl) return {};
      const lookups = app.createRateLimit({ max: rl.max, timeWindow: rl.windowMs });
      const misses = app.createRateLimit({ max: rl.missesMax, timeWindow: rl.windowMs });
      return {
        preHandler: async (req: FastifyRequest) => {
          const missed = await misses(req, { increment: false });
          if (!missed.isAllowed && missed.remaining <= 0) throw tooMany(missed.ttlInSeconds, `This API key looked up ${rl.missesMax} unknown voucher codes in this window.`);
          const used = await lookups(req);
          if (!used.isAllowed && used.isExceeded) throw tooMany(used.ttlInSeconds, `Voucher look-up limit of ${rl.max} per ${rl.windowMs / 1000} s exceeded for this API key.`);
        },
        // An unknown code (404) counts against the smaller allowance.
        onResponse: async (req: FastifyRequest, reply: { statusCode: number }) => {
          if (reply.statusCode === 404) await misses(req);
        },
      };
    })();

    // ── Shop endpoints ────────────────────────────────────────────────────
    app.get('/v1/vouchers/:code/validation', {
      ...lookupHooks,
      schema: {
        tags, summary: 'Can this code be used for this basket, and what does it take off?',
        description: 'Writes nothing. `valid: false` with a `reason` (redeemed, cancelled, expired, member_mismatch, currency_mismatch, min_basket_not_met) for a known code that cannot be used; 404 for an unknown one. Rate-limited per API key, with a small allowance of unknown codes (429 with Retry-After beyond it).',
        params: CodeParams, querystring: ValidationQuery, response: { 200: ValidationResult, ...problems(400, 401, 404, 429) },
      },
    }, async (req) => vouchers.validate(db, tenantOf(req).tenantId, req.params.code, req.query));

    app.post('/v1/vouchers/:code/redemptions', {
      ...lookupHooks,
      schema: {
        tags, summary: 'Redeem a code for an order',
        description: 'The same code redeemed twice at once succeeds once. A gift card spends part of its balance and stays usable while money is left. The same `order_ref` sent again answers the first redemption (200; 409 with another total, currency or member); an Idempotency-Key replays the answer. 422 naming the field when it cannot be used (see validation). Counts against the look-up limit.',
        params: CodeParams, body: RedeemBody, response: { 200: RedemptionResult, 201: RedemptionResult, ...problems(400, 401, 403, 404, 409, 422, 429) },
      },
    }, (req, reply) => http.write(req, reply, {
      resource: 'voucher_redemption',
      statusOf: (r: Used & { replayed: boolean }) => (r.replayed ? 200 : 201),
      resourceId: (r: Used) => r.redemption.id,
      bodyOf: (r: Used) => ({ ...r.redemption, voucher: r.voucher }),
    }, (tx) => vouchers.redeem(tx, tenantOf(req).tenantId, req.params.code, req.body)));

    app.post('/v1/vouchers/:code/redemptions/:redemption_id/release', {
      schema: {
        tags, summary: 'Release a redemption: the order was cancelled',
        description: 'The voucher is usable again (expired at once if its expiry passed meanwhile); a gift card gets the money back. Releasing twice is a 422.',
        params: ReleaseParams, response: { 200: RedemptionResult, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, {
      resource: 'voucher_redemption', changedFields: ['status'], resourceId: (r: Used) => r.redemption.id, bodyOf: (r: Used) => ({ ...r.redemption, voucher: r.voucher }),
    }, (tx) => vouchers.release(tx, tenantOf(req).tenantId, req.params.code, req.params.redemption_id)));

    // ── Issuing and managing ──────────────────────────────────────────────
    app.post('/v1/vouchers', {
      attachValidation: true,
      schema: {
        tags, summary: 'Issue a voucher',
        description: 'Emits `voucher.issued`. The code is drawn from `code_pattern` (at least 40 bits of randomness; 400 naming it otherwise) or taken from the pool `pool_id` (422 when it has none left).',
        body: IssueBody, response: { 201: V, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => {
      rejectBadBody(req, (b) => bodySpecErrors(b, 'code_pattern'));
      const b = req.body;
      return http.write(req, reply, { resource: 'voucher', status: 201 }, (tx) => vouchers.issue(tx, tenantOf(req).tenantId, {
        ...b, member_id: b.member_id ?? null, reward_id: null, redemption_id: null, expires_at: b.expires_at ? new Date(b.expires_at) : null,
      }));
    });

    app.get('/v1/vouchers', {
      schema: { tags, summary: 'List vouchers, newest first', querystring: ListVouchersQuery, response: { 200: Page(V), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await vouchers.list(db, tenantOf(req).tenantId, {
        status: q.status, kind: q.kind, memberId: q.member_id, batchId: q.batch_id, beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1,
      });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/vouchers/:id', {
      schema: { tags, summary: 'Get a voucher', params: IdParams, response: { 200: V, ...problems(400, 401, 404) } },
    }, async (req) => vouchers.get(db, tenantOf(req).tenantId, req.params.id));

    app.get('/v1/vouchers/:id/redemptions', {
      schema: { tags, summary: "A voucher's redemptions, newest first", params: IdParams, querystring: ListQuery, response: { 200: Page(Type.Ref(VoucherRedemption)), ...problems(400, 401, 404) } },
    }, async (req) => {
      const rows = await vouchers.redemptions(db, tenantOf(req).tenantId, req.params.id, { beforeId: decodeCursor(req.query.cursor, isIdCursor)?.id, limit: req.query.limit + 1 });
      return page(rows, req.query.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.post('/v1/vouchers/:id/cancel', {
      schema: {
        tags, summary: 'Cancel an unused voucher',
        description: 'Emits `voucher.cancelled`; a voucher issued by a catalog reward gives its points back in the same transaction. A used (or partly spent), expired or cancelled voucher is a 422.',
        params: IdParams, response: { 200: V, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'voucher', changedFields: ['status'] }, (tx) => vouchers.cancel(tx, tenantOf(req).tenantId, req.params.id)));

    // ── Bulk batches ──────────────────────────────────────────────────────
    const batchTags = ['voucher batches'];
    app.post('/v1/voucher-batches', {
      attachValidation: true,
      schema: {
        tags: batchTags, summary: 'Generate up to 100,000 vouchers at once',
        description: 'Inline: the answer comes when every code exists (100,000 take a few seconds). Codes are drawn from `pattern` (default ****-****-****) and drawn again when taken, or taken from the pool `pool_id`. Emits one `voucher_batch.created`. List the codes with GET /v1/vouchers?batch_id=….',
        body: BatchBody, response: { 201: Type.Ref(Batch), ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => {
      rejectBadBody(req, (b) => bodySpecErrors(b, 'pattern'));
      const b = req.body;
      return http.write(req, reply, { resource: 'voucher_batch', status: 201 }, (tx) => vouchers.createBatch(tx, tenantOf(req).tenantId, {
        ...b, expires_at: b.expires_at ? new Date(b.expires_at) : null,
      }));
    });

    app.get('/v1/voucher-batches', {
      schema: { tags: batchTags, summary: 'List batches, newest first', querystring: ListQuery, response: { 200: Page(Type.Ref(Batch)), ...problems(400, 401) } },
    }, async (req) => {
      const rows = await vouchers.listBatches(db, tenantOf(req).tenantId, { beforeId: decodeCursor(req.query.cursor, isIdCursor)?.id, limit: req.query.limit + 1 });
      return page(rows, req.query.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/voucher-batches/:id', {
      schema: { tags: batchTags, summary: 'Get a batch', params: IdParams, response: { 200: Type.Ref(Batch), ...problems(400, 401, 404) } },
    }, async (req) => vouchers.getBatch(db, tenantOf(req).tenantId, req.params.id));

    // ── Code pools ────────────────────────────────────────────────────────
    const poolTags = ['voucher pools'];
    app.post('/v1/voucher-pools', {
      schema: { tags: poolTags, summary: 'Create a pool of imported codes', body: PoolBody, response: { 201: Type.Ref(Pool), ...problems(400, 401, 403, 409) } },
    }, (req, reply) => http.write(req, reply, { resource: 'voucher_pool', status: 201 }, (tx) => vouchers.createPool(tx, tenantOf(req).tenantId, req.body.name)));

    app.get('/v1/voucher-pools', {
      schema: { tags: poolTags, summary: 'List pools, newest first', querystring: ListQuery, response: { 200: Page(Type.Ref(Pool)), ...problems(400, 401) } },
    }, async (req) => {
      const rows = await vouchers.listPools(db, tenantOf(req).tenantId, { beforeId: decodeCursor(req.query.cursor, isIdCursor)?.id, limit: req.query.limit + 1 });
      return page(rows, req.query.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/voucher-pools/:id', {
      schema: { tags: poolTags, summary: 'Get a pool: how many codes it has, how many are unused', params: IdParams, response: { 200: Type.Ref(Pool), ...problems(400, 401, 404) } },
    }, async (req) => vouchers.getPool(db, tenantOf(req).tenantId, req.params.id));

    app.post('/v1/voucher-pools/:id/codes', {
      bodyLimit: CSV_LIMIT,
      schema: {
        tags: poolTags, summary: 'Upload codes into a pool (JSON or CSV)',
        description: 'application/json `{"codes": [...]}` or text/csv with one code per line (first column; a header `code` is skipped), up to 100,000 codes and 16 MiB. Codes are stored upper case; a code already in a pool of the tenant is counted in `duplicates` and not added again.',
        params: IdParams, body: PoolCodesBody, response: { 200: PoolCodesResult, ...problems(400, 401, 403, 404, 409, 413, 415) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'voucher_pool', changedFields: ['codes'] }, (tx) => vouchers.addCodes(tx, tenantOf(req).tenantId, req.params.id, req.body.codes)));
  };
}
