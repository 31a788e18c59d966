/**
 * Idempotency-Key storage. The key is held by a transaction-scoped advisory lock
 * and its answer is stored in the same transaction as the work it describes:
 *
 *  - a second request with the key while the first is in flight cannot take
 *    the lock and gets a 409 at once — never a second write;
 *  - a crash (or any rollback) releases the lock and leaves no marker behind,
 *    so the retry does the work exactly once;
 *  - a later request with the key finds the stored answer: the same body
 *    replays it, another body is a 409.
 */
import crypto from 'node:crypto';
import { prepared, type Queryable } from '../db/db.js';
import { errors } from '../errors.js';

export const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,255}$/;

export interface StoredAnswer {
  requestHash: string;
  statusCode: number;
  body: unknown;
}

/** JSON with object keys sorted, so that key order does not change the hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

export function requestHash(method: string, path: string, bodyDigest: string): string {
  return crypto.createHash('sha256').update(`${method.toUpperCase()} ${path}\n${bodyDigest}`).digest('hex');
}

export function jsonBodyDigest(body: unknown): string {
  let text: string;
  try {
    text = canonicalJson(body ?? null);
  } catch (err) {
    // Only a body nested thousands of levels deep exhausts the stack: bad input, not a bug.
    if (err instanceof RangeError) throw errors.field('(body)', 'is nested too deeply');
    throw err;
  }
  return crypto.createHash('sha256').update(text).digest('hex');
}

// One round trip: the function takes the key's advisory lock, then reads the answer (migrations/0005).
const CLAIM_KEY = prepared('idempotency.claim', `SELECT locked, request_hash, status_code, response_body FROM patron_claim_idempotency_key($1, $2)`);
const STORE_KEY = prepared('idempotency.store', `INSERT INTO idempotency_keys (tenant_id, key, request_hash, method, path, status_code, response_body, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`);

/**
 * Takes the key for the rest of the transaction, then returns its stored answer
 * if there is one. Throws a 409 when another transaction holds the key.
 */
export async function claimKey(tx: Queryable, tenantId: string, key: string): Promise<StoredAnswer | null> {
  const row = (await tx.query(CLAIM_KEY, [tenantId, key])).rows[0];
  if (!row.locked) {
    throw errors.conflictOf('idempotency_key_in_flight', `A request with Idempotency-Key "${key}" is still being processed; retry after it completes.`);
  }
  return row.request_hash !== null ? { requestHash: row.request_hash, statusCode: row.status_code, body: row.response_body } : null;
}

export function assertSameRequest(stored: StoredAnswer, hash: string, key: string): void {
  if (stored.requestHash !== hash) {
    throw errors.conflictOf('idempotency_key_reused', `Idempotency-Key "${key}" was already used with a different request (method, path or body).`);
  }
}

export async function storeAnswer(
  tx: Queryable,
  a: { tenantId: string; key: string; requestHash: string; method: string; path: string; statusCode: number; body: unknown; at: Date },
): Promise<void> {
  await tx.query(
    STORE_KEY,
    [a.tenantId, a.key, a.requestHash, a.method, a.path, a.statusCode, a.body === undefined ? null : JSON.stringify(a.body), a.at],
  );
}

/**
 * Replaces every stored answer whose body is the resource `resourceId` with
 * `replacement`. GDPR erasure uses it so that replayable answers (kept for days)
 * no longer hold the personal data that was erased; a replay then returns the
 * erased resource, as a GET would.
 */
export async function redactAnswersAbout(tx: Queryable, tenantId: string, resourceId: string, replacement: unknown): Promise<number> {
  const res = await tx.query(
    `UPDATE idempotency_keys SET response_body = $3 WHERE tenant_id = $1 AND status_code < 300 AND response_body->>'id' = $2`,
    [tenantId, resourceId, JSON.stringify(replacement)],
  );
  return res.rowCount ?? 0;
}

/**
 * Deletes one tenant's answers older than the retention, in batches so that it
 * never holds long locks. Per tenant, so that each statement stays on one shard.
 */
export async function purgeExpired(db: Queryable, tenantId: string, olderThan: Date, batch = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await db.query(
      `DELETE FROM idempotency_keys
        WHERE tenant_id = $1
          AND key IN (SELECT key FROM idempotency_keys WHERE tenant_id = $1 AND created_at < $2 LIMIT $3)`,
      [tenantId, olderThan, batch],
    );
    total += res.rowCount ?? 0;
    if ((res.rowCount ?? 0) < batch) return total;
  }
}
