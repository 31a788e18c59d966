/**
 * A member's points over HTTP: the balance, the ledger (newest first), manual adjustments (admin) and the points about
 * to expire. The bookkeeping is in ledger.service.ts; this file reads the program settings the answers depend on.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { tenantOf } from '../../platform/http/auth.js';
import { rejectBadBody } from '../../platform/http/validation.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import type { MembersService } from '../members/members.service.js';
import { inactivityDeadline, lotExpiresAt } from '../programs/programs.policy.js';
import type { ProgramsService } from '../programs/programs.service.js';
import { AdjustmentBody, AdjustmentResult, Balance, ENTRY_TYPES, Expiring, ExpiringQuery, LedgerEntry, LedgerQuery, pointsWorth } from './ledger.schema.js';
import type { BalanceRow, EntryType, Ledger } from './ledger.service.js';

const DAY_MS = 86_400_000;


/** Who made a change, for the ledger entry: the API key id, or `cli` (operator) and so on. */
export function actorOf(req: FastifyRequest): string {
  const actor = tenantOf(req).actor;
  return actor.id ?? actor.type;
}

export function ledgerRoutes(deps: { db: Db; clock: Clock; ledger: Ledger; programs: ProgramsService; members: MembersService; http: HttpKit }) {
  const { db, clock, ledger, programs, members, http } = deps;
  const tags = ['points'];

  /** The member (404 when unknown here, whatever another tenant holds). */
  const member = async (q: Queryable, tenantId: string, id: string) => {
    const found = await members.find(q, tenantId, { id });
    if (!found) throw errors.notFound('member', id);
    return found;
  };

  const balanceView = async (q: Queryable, tenantId: string, b: BalanceRow) => {
    const program = await programs.get(q, tenantId);
    return { ...b, currency_value: { amount: pointsWorth(b.available, program.points_value), currency: program.currency } };
  };

  /** Semantic checks of an adjustment the schema cannot express. */
  const adjustmentErrors = (body: Record<string, unknown>, now: Date): FieldError[] => {
    const errs: FieldError[] = [];
    if (body.points === 0) errs.push({ field: 'points', detail: 'must not be 0' });
    if (typeof body.expires_at === 'string') {
      const at = new Date(body.expires_at);
      if (typeof body.points === 'number' && body.points < 0) errs.push({ field: 'expires_at', detail: 'is only used with positive points' });
      else if (!Number.isNaN(at.getTime()) && at <= now) errs.push({ field: 'expires_at', detail: 'must be in the future' });
    }
    return errs;
  };

  return async function (app: HttpServer) {
    app.addSchema(Balance);
    app.addSchema(LedgerEntry);

    app.get('/v1/members/:id/balance', {
      schema: { tags, summary: "A member's points: available, pending, held, totals, and what they are worth", params: IdParams, response: { 200: Type.Ref(Balance), ...problems(400, 401, 404) } },
    }, async (req) => {
      const tenantId = tenantOf(req).tenantId;
      await member(db, tenantId, req.params.id);
      return balanceView(db, tenantId, await ledger.balance(db, tenantId, req.params.id));
    });

    app.get('/v1/members/:id/ledger', {
      schema: { tags, summary: "A member's ledger, newest first", params: IdParams, querystring: LedgerQuery, response: { 200: Page(Type.Ref(LedgerEntry)), ...problems(400, 401, 404) } },
    }, async (req) => {
      const q = req.query;
      const types = [...new Set((q.type ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()))];
      const unknown = types.filter((t) => !(ENTRY_TYPES as readonly string[]).includes(t));
      const errs: FieldError[] = [];
      if (unknown.length) errs.push({ field: 'type', detail: `must be one or more of: ${ENTRY_TYPES.join(', ')} (got ${unknown.map((t) => JSON.stringify(t)).join(', ')})` });
      const from = q.from ? new Date(q.from) : undefined;
      const to = q.to ? new Date(q.to) : undefined;
      if (from && to && to <= from) errs.push({ field: 'to', detail: 'must be after from' });
      if (errs.length) throw errors.validation(errs);
      const after = decodeCursor(q.cursor, isIdCursor);
      const tenantId = tenantOf(req).tenantId;
      await member(db, tenantId, req.params.id);
      const rows = await ledger.entries(db, tenantId, req.params.id, {
        types: types.length ? (types as EntryType[]) : undefined, from, to, afterId: after?.id, limit: q.limit + 1,
      });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.post('/v1/members/:id/adjustments', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: "Add or take away a member's points by hand (admin)",
        description: 'Positive points are credited (counted as earned, spendable at once, expiring by the program policy unless `expires_at` is given); negative points are taken from the available ones (422 insufficient_points beyond them). The entry records the API key that made it. An erased member cannot be adjusted (422).',
        params: IdParams, body: AdjustmentBody, response: { 201: AdjustmentResult, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => (body && typeof body === 'object' && !Array.isArray(body) ? adjustmentErrors(body as Record<string, unknown>, clock.now()) : []));
      const tenantId = tenantOf(req).tenantId;
      const actor = actorOf(req);
      const { points, reason, expires_at } = req.body;
      return http.write(req, reply, { resource: 'ledger_entry', status: 201, resourceId: (r: { entry: { id: string } }) => r.entry.id }, async (tx) => {
        const m = await member(tx, tenantId, req.params.id);
        if (m.status === 'erased') throw errors.unprocessable(`Member ${m.id} was erased: their points can no longer be changed.`);
        const program = await programs.get(tx, tenantId);
        const book = await ledger.open(tx, tenantId, m.id, program.negative_balance);
        const posting = { reason, source_type: 'admin' as const, actor };
        let entry;
        if (points > 0) {
          // A credit is an earning: it counts as activity (the inactivity policy) and expires like earned points.
          const expiresAt = expires_at ? new Date(expires_at) : lotExpiresAt(program.expiry, clock.now(), program.time_zone);
          entry = await book.credit({ ...posting, type: 'adjust', points, activates_at: null, expires_at: expiresAt, earned: true, activity: true });
        } else {
          entry = (await book.debit({ ...posting, type: 'adjust', points: -points, shortfall: 'refuse' })).entry;
        }
        return { entry, balance: await balanceView(tx, tenantId, book.balance) };
      });
    });

    app.get('/v1/members/:id/expiring', {
      schema: { tags, summary: "A member's points that expire within `days` days, lot by lot", params: IdParams, querystring: ExpiringQuery, response: { 200: Expiring, ...problems(400, 401, 404) } },
    }, async (req) => {
      const tenantId = tenantOf(req).tenantId;
      await member(db, tenantId, req.params.id);
      const until = new Date(clock.now().getTime() + req.query.days * DAY_MS);
      const program = await programs.get(db, tenantId);
      let lots = await ledger.expiring(db, tenantId, req.params.id, until);
      if (program.expiry.kind === 'inactivity') {
        // Lots carry no date under this policy: all active points go together, N months after the last activity
        // (if the member does nothing before then; the hourly job takes them at its first run after).
        const balance = await ledger.balance(db, tenantId, req.params.id);
        const deadline = balance.last_activity_at ? inactivityDeadline(program.expiry, balance.last_activity_at) : null;
        lots = deadline && deadline < until
          ? (await ledger.activeLots(db, tenantId, req.params.id)).map((l) => ({ ...l, expires_at: deadline }))
          : [];
      }
      return {
        member_id: req.params.id,
        until,
        points: lots.reduce((s, l) => s + l.remaining, 0),
        lots: lots.map((l) => ({ lot_id: l.id, points: l.remaining, expires_at: l.expires_at! })),
      };
    });
  };
}
