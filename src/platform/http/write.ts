/**
 * Every write goes through `runWrite`: one database transaction that holds the
 * work, its audit entry and (when the client sent an Idempotency-Key) the
 * stored answer. Route handlers stay thin:
 *
 *   app.post('/v1/members', { schema }, (req, reply) =>
 *     http.write(req, reply, { resource: 'member', status: 201 }, (tx) => members.create(tx, …)));
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordAudit } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Db, Tx } from '../db/db.js';
import { errors, isAppError } from '../errors.js';
import {
  assertSameRequest,
  claimKey,
  IDEMPOTENCY_KEY_RE,
  jsonBodyDigest,
  requestHash,
  storeAnswer,
} from '../idempotency/idempotency.js';
import { tenantOf } from './auth.js';
import { problemBody } from './problem.js';

export interface WriteOptions<T> {
  /** What the write changes, for the audit log: 'member', 'api_key' … */
  resource: string;
  /** Success status (default 200). */
  status?: number;
  /** Success status from the result (a re-sent order is a 200, a new one a 201); wins over `status`. */
  statusOf?: (result: T) => number;
  /** What is sent (default: the result itself). */
  bodyOf?: (result: T) => unknown;
  /** The id of the changed resource (default: the result's `id`, else the `:id` param). */
  resourceId?: (result: T) => string | null;
  /** Changed field names (default: the top-level fields of the JSON body). */
  changedFields?: string[];
  /**
   * What is stored for an Idempotency-Key replay (default: the result itself).
   * A secret shown once (a new API key) must not be kept in the answer store.
   */
  storeAs?: (result: T) => unknown;
}

/** Sends the answer itself (status, headers, body); the route handler just returns. */
export type WriteRunner = <T>(request: FastifyRequest, reply: FastifyReply, opts: WriteOptions<T>, work: (tx: Tx) => Promise<T>) => Promise<void>;

/** Reads and validates the Idempotency-Key header; undefined when absent. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (key === undefined || !IDEMPOTENCY_KEY_RE.test(key)) {
    throw errors.field('(headers).idempotency-key', 'must be 1 to 255 visible ASCII characters');
  }
  return key;
}

/** Errors that are not an answer to keep under an Idempotency-Key. */
const NOT_KEPT = new Set(['validation_failed', 'idempotency_key_reused', 'idempotency_key_in_flight']);

export function createWriteRunner(deps: { db: Db; clock: Clock }): WriteRunner {
  return async function runWrite<T>(request: FastifyRequest, reply: FastifyReply, opts: WriteOptions<T>, work: (tx: Tx) => Promise<T>) {
    const auth = tenantOf(request);
    const key = idempotencyKeyOf(request);
    const status = opts.status ?? 200;
    const params = (request.params ?? {}) as Record<string, string>;
    const body = request.body;

    const audit = (tx: Tx, result: T | undefined) =>
      recordAudit(tx, {
        tenantId: auth.tenantId,
        actor: auth.actor,
        action: `${request.method} ${request.routeOptions.url}`,
        resourceType: opts.resource,
        resourceId: (result !== undefined && opts.resourceId?.(result)) || idOf(result) || params.id || null,
        changedFields: opts.changedFields ?? (body && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : []),
        requestId: String(request.id),
        occurredAt: deps.clock.now(),
      });

    if (key === undefined) {
      const result = await deps.db.tx(async (tx) => {
        const r = await work(tx);
        await audit(tx, r);
        return r;
      });
      reply.code(opts.statusOf?.(result) ?? status).send(opts.bodyOf ? opts.bodyOf(result) : result);
      return;
    }

    const hash = requestHash(request.method, request.url, jsonBodyDigest(body));
    type Outcome = { replayed: boolean; status: number; body: unknown };
    const replay = (stored: NonNullable<Awaited<ReturnType<typeof claimKey>>>): Outcome => {
      assertSameRequest(stored, hash, key);
      return { replayed: true, status: stored.statusCode, body: stored.body };
    };
    let outcome: Outcome;
    try {
      // The happy path is one transaction: claim the key, do the work, audit it, keep the answer.
      outcome = await deps.db.tx(async (tx) => {
        const stored = await claimKey(tx, auth.tenantId, key);
        if (stored) return replay(stored);
        const result = await work(tx);
        await audit(tx, result);
        const sent = opts.bodyOf ? opts.bodyOf(result) : result;
        const answer = { status: opts.statusOf?.(result) ?? status, body: sent };
        await storeAnswer(tx, {
          tenantId: auth.tenantId, key, requestHash: hash, method: request.method, path: request.url,
          statusCode: answer.status, body: opts.storeAs ? opts.storeAs(result) : sent, at: deps.clock.now(),
        });
        return { replayed: false, ...answer };
      });
    } catch (err) {
      // A domain error (404, 409, 422 …) is an answer too: its work rolled back with the transaction, and the answer
      // is kept for replays in a second one. Not kept: validation errors (the client fixes the body and retries with
      // the key), the key's own conflicts, and 5xx.
      if (!isAppError(err) || err.status >= 500 || NOT_KEPT.has(err.code)) throw err;
      const problem = problemBody(err, request.url, String(request.id));
      outcome = await deps.db.tx(async (tx) => {
        const stored = await claimKey(tx, auth.tenantId, key);
        // Another request with this key may have finished in between: its answer stands.
        if (stored) return replay(stored);
        await storeAnswer(tx, {
          tenantId: auth.tenantId, key, requestHash: hash, method: request.method, path: request.url,
          statusCode: err.status, body: problem, at: deps.clock.now(),
        });
        return { replayed: false, status: err.status, body: problem };
      });
    }

    if (outcome.replayed) reply.header('idempotent-replayed', 'true');
    if (outcome.status >= 400) reply.type('application/problem+json');
    reply.code(outcome.status).send(outcome.body);
  };
}

function idOf(result: unknown): string | null {
  if (result && typeof result === 'object' && 'id' in result && typeof (result as { id: unknown }).id === 'string') {
    return (result as { id: string }).id;
  }
  return null;
}
