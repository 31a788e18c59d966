/**
 * Bulk imports, for any kind of record a module registers an `Importer` for
 * (members now, historical orders next).
 *
 * Upload: the raw CSV or NDJSON body is streamed into `import_chunks` (rows of
 * about 1 MiB, never the whole file in memory), in one transaction with the
 * `imports` row, its audit entry, the stored Idempotency-Key answer and the
 * `imports.run` job: the import exists, complete and queued, or not at all.
 *
 * Run: any Patron process picks the job up, streams the chunks back through
 * the CSV or NDJSON reader, validates each row with the importer and writes
 * valid rows in batches. Each batch commits together with the progress
 * (`lines_committed`, counts, rejected rows), so a run that dies resumes after
 * the last committed batch without counting anything twice. A session
 * advisory lock keeps a second run of the same import out while one is alive.
 */
import crypto from 'node:crypto';
import type { TObject } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { recordAudit, type Actor } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import { type Db, type Queryable, type Tx, withSavepoint } from '../db/db.js';
import { errors, type FieldError } from '../errors.js';
import { encodeCursor } from '../http/pagination.js';
import { assertSameRequest, claimKey, requestHash, storeAnswer } from '../idempotency/idempotency.js';
import { newId } from '../ids.js';
import type { Jobs } from '../jobs/jobs.js';
import { KeySet } from './key-set.js';
import { csvItems, FileError, ndjsonItems, type ByteSource, type FileItem } from './records.js';
import { REJECTIONS_IN_STATUS } from './imports.schema.js';
import * as store from './imports.store.js';
import type { ImportFormat, ImportRow, Rejection } from './imports.store.js';

export type { ImportFormat, Rejection } from './imports.store.js';

/** Upload chunk size: big enough for few rows, small enough to stream. */
export const CHUNK_BYTES = 1024 * 1024;
/** Runs of one import before it is marked failed. */
export const MAX_ATTEMPTS = 5;
/** Batches written at the same time, each on its own connection (unless the importer says otherwise). */
const WRITERS = 2;
const JOB = 'imports.run';

export interface ValidateContext<P> {
  format: ImportFormat;
  now: Date;
  /** What the importer's `prepare` returned for this run. */
  prep: P;
}

export interface ApplyResult {
  created: number;
  updated: number;
  unchanged: number;
  /** Rows the database side turned down (e.g. an erased member), with their reason. */
  rejected: Rejection[];
}

/**
 * What a module provides to make its records importable. Rows reach `validate`
 * as objects keyed by column (CSV: strings; NDJSON: JSON values); `apply`
 * writes valid rows set-based, inside the batch's transaction.
 */
export interface Importer<T = unknown, P = unknown> {
  /** `members`, `orders` … (stored in imports.kind). */
  kind: string;
  /** The upload route; status and rejections hang below it (`…/{id}`, `…/{id}/rejections`). */
  path: string;
  tags: string[];
  /** Markdown for the API docs: the columns and what they mean. */
  description: string;
  /** The upsert key column; each key may appear once per file. */
  keyColumn: string;
  /** Columns a CSV header must have. */
  requiredColumns: readonly string[];
  /**
   * Options of an upload, as query parameters of `POST {path}` (e.g. `?award_points=true`): their schema, documented
   * in the API and checked (with coercion and defaults) before the file is read; a bad or unknown one is a 400. The
   * checked values are stored with the import and handed to `prepare`. None when absent.
   */
  options?: TObject;
  /**
   * Batches written at the same time (default 2). 1 when a batch may depend on the rows of the batches before it
   * (orders: a return and its purchase, several orders of one member): each batch is then written after the one
   * before has committed, while the next is still read and validated.
   */
  writers?: number;
  knowsColumn(name: string): boolean;
  /** The upsert key of a row before validation (null when missing), to find duplicates within the file. */
  keyOf(values: Record<string, unknown>): string | null;
  /** Once per run: what validation and writing need (tenant defaults …); `options` are the upload's, checked against `options`. */
  prepare(db: Queryable, tenantId: string, options: Record<string, unknown>): Promise<P>;
  validate(values: Record<string, unknown>, ctx: ValidateContext<P>): { ok: true; value: T } | { ok: false; errors: FieldError[] };
  apply(tx: Tx, tenantId: string, rows: Array<{ line: number; value: T }>, ctx: { now: Date; prep: P }): Promise<ApplyResult>;
}

export interface ImportView {
  id: string;
  kind: string;
  format: ImportFormat;
  /** The upload's options (query parameters), with their defaults; {} for an importer without options. */
  options: Record<string, unknown>;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: { bytes_total: number; bytes_processed: number; rows_processed: number };
  counts: { created: number; updated: number; unchanged: number; rejected: number };
  unknown_columns: string[];
  error: string | null;
  rejections: Rejection[];
  rejections_next_cursor: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface StartImport {
  tenantId: string;
  actor: Actor;
  kind: string;
  format: ImportFormat;
  /** The upload's options, already checked against the importer's `options` schema. */
  options?: Record<string, unknown>;
  /** The raw request body. */
  body: AsyncIterable<Buffer>;
  /** Content-Length when the client sent one: a file announced too large is refused before reading it. */
  declaredLength?: number;
  idempotencyKey?: string;
  method: string;
  /** The request URL, for the Idempotency-Key request hash. */
  url: string;
  /** For the audit log: `POST /v1/members/import`. */
  action: string;
  requestId: string | null;
}

export interface RunResult {
  status: 'succeeded' | 'failed' | 'skipped';
  detail?: string;
}

interface Batch {
  rows: Array<{ line: number; value: unknown }>;
  rejections: Rejection[];
  records: number;
  lastLine: number;
  end: number;
  unknownColumns: string[];
}

export class Imports {
  private readonly importers = new Map<string, Importer<any, any>>();
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly jobs: Jobs;
  private readonly log: Logger;
  readonly importLimit: number;
  /** Rows per committed batch. */
  readonly batchSize: number;

  constructor(deps: { db: Db; clock: Clock; jobs: Jobs; log: Logger; importLimit: number; batchSize?: number }) {
    this.db = deps.db;
    this.clock = deps.clock;
    this.jobs = deps.jobs;
    this.log = deps.log;
    this.importLimit = deps.importLimit;
    this.batchSize = deps.batchSize ?? 5000;
    deps.jobs.define<{ tenant_id: string; import_id: string }>({
      name: JOB,
      description: 'Run an uploaded import (data: {"tenant_id": …, "import_id": …}); resumes after its last committed batch.',
      retryLimit: MAX_ATTEMPTS - 1,
      // A run that outlives this is retried, and the retry steps aside while
      // the first run holds the import's lock; a run whose process died is
      // picked up again after at most this long.
      expireInSeconds: 300,
      handler: (data) => this.run(data.tenant_id, data.import_id),
    });
  }

  register(importer: Importer<any, any>): void {
    if (this.importers.has(importer.kind)) throw new Error(`An importer for ${importer.kind} is registered twice`);
    this.importers.set(importer.kind, importer);
  }

  list(): Array<Importer<any, any>> {
    return [...this.importers.values()];
  }

  /** Receives an upload and queues its job; answers 202 with the import (or the stored answer of its Idempotency-Key). */
  async start(input: StartImport): Promise<{ status: number; body: unknown; replayed: boolean; id: string | null }> {
    if (!this.importers.has(input.kind)) throw new Error(`No importer for ${input.kind}`);
    const tooLarge = () => errors.payloadTooLarge(`The file is larger than the import limit of ${this.importLimit} bytes (IMPORT_LIMIT_BYTES).`);
    if (input.declaredLength !== undefined && input.declaredLength > this.importLimit) throw tooLarge();
    const { tenantId, idempotencyKey: key } = input;
    const hash = crypto.createHash('sha256').update(`${input.format}\n`);
    const digest = () => requestHash(input.method, input.url, hash.digest('hex'));

    const outcome = await this.db.tx(async (tx) => {
      const stored = key === undefined ? null : await claimKey(tx, tenantId, key);
      let bytes = 0;
      if (stored) {
        // Read the body only to compare it with the first request's.
        for await (const buf of input.body) {
          bytes += buf.length;
          if (bytes > this.importLimit) throw tooLarge();
          hash.update(buf);
        }
        assertSameRequest(stored, digest(), key!);
        return { replayed: true, status: stored.statusCode, body: stored.body, id: null };
      }

      const id = newId();
      const now = this.clock.now();
      await store.insertImport(tx, tenantId, { id, kind: input.kind, format: input.format, options: input.options ?? {}, status: 'queued', createdBy: input.actor.id, at: now });
      let seq = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (pendingBytes === 0) return;
        const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        await store.insertChunk(tx, tenantId, id, seq++, data);
      };
      // Awaiting each insert before reading on lets TCP hold the client back.
      for await (const buf of input.body) {
        bytes += buf.length;
        if (bytes > this.importLimit) throw tooLarge();
        hash.update(buf);
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= CHUNK_BYTES) await flush();
      }
      await flush();
      if (bytes === 0) throw errors.field('(body)', 'is empty: send the file as the request body');

      const row = await store.setBytesTotal(tx, tenantId, id, bytes);
      await this.jobs.enqueue(JOB, { tenant_id: tenantId, import_id: id }, { tx });
      await recordAudit(tx, {
        tenantId, actor: input.actor, action: input.action, resourceType: 'import', resourceId: id,
        changedFields: [], requestId: input.requestId, occurredAt: now,
      });
      const body = toView(row, [], false);
      if (key !== undefined) {
        await storeAnswer(tx, { tenantId, key, requestHash: digest(), method: input.method, path: input.url, statusCode: 202, body, at: now });
      }
      return { replayed: false, status: 202, body, id };
    });
    if (!outcome.replayed) this.jobs.nudge(JOB);
    return outcome;
  }

  /** An import of `kind` with its first rejected rows; 404 when it is not this tenant's. */
  async get(tenantId: string, kind: string, id: string, db: Queryable = this.db): Promise<ImportView> {
    const row = await this.find(db, tenantId, kind, id);
    const rejections = await store.listRejections(db, tenantId, id, 0, REJECTIONS_IN_STATUS + 1);
    const more = rejections.length > REJECTIONS_IN_STATUS;
    return toView(row, more ? rejections.slice(0, REJECTIONS_IN_STATUS) : rejections, more);
  }

  /** Rejected rows in line order, after `afterLine`. */
  async rejections(tenantId: string, kind: string, id: string, afterLine: number, limit: number, db: Queryable = this.db): Promise<Rejection[]> {
    await this.find(db, tenantId, kind, id);
    return store.listRejections(db, tenantId, id, afterLine, limit);
  }

  private async find(db: Queryable, tenantId: string, kind: string, id: string): Promise<ImportRow> {
    const row = await store.getImport(db, tenantId, id);
    if (!row || row.kind !== kind) throw errors.notFound(`${kind} import`, id);
    return row;
  }

  /** The job: runs (or resumes) one import. */
  async run(tenantId: string, importId: string): Promise<RunResult> {
    const lockClient = await this.db.pool.connect();
    let locked = false;
    let broken = false;
    try {
      const got = await lockClient.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 11)) AS ok`, [`import:${importId}`]);
      if (!got.rows[0]!.ok) return { status: 'skipped', detail: 'another run of this import is in progress' };
      locked = true;
      const row = await store.beginRun(this.db, tenantId, importId, this.clock.now());
      if (!row) return { status: 'skipped', detail: 'the import is finished or unknown' };
      const log = this.log.child({ import_id: importId, tenant_id: tenantId, kind: row.kind });
      log.info({ attempt: row.attempts, resume_after_line: row.lines_committed }, 'import run started');
      try {
        await this.process(row, tenantId);
        await this.db.tx((tx) => store.finishImport(tx, tenantId, importId, 'succeeded', null, this.clock.now()));
        log.info('import succeeded');
        return { status: 'succeeded' };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (err instanceof FileError || row.attempts >= MAX_ATTEMPTS) {
          const detail = err instanceof FileError ? message : `Gave up after ${row.attempts} attempts: ${message}`;
          await this.db.tx((tx) => store.finishImport(tx, tenantId, importId, 'failed', detail, this.clock.now()));
          log.warn({ err }, 'import failed');
          return { status: 'failed', detail };
        }
        await store.recordAttemptError(this.db, tenantId, importId, `Attempt ${row.attempts} failed, will retry: ${message}`).catch(() => undefined);
        throw err;
      }
    } catch (err) {
      broken = true;
      throw err;
    } finally {
      if (locked) await lockClient.query(`SELECT pg_advisory_unlock(hashtextextended($1, 11))`, [`import:${importId}`]).catch(() => { broken = true; });
      // A connection that failed mid-run may be dead: do not hand it back to the pool.
      lockClient.release(broken);
    }
  }

  private async process(row: ImportRow, tenantId: string): Promise<void> {
    const importer = this.importers.get(row.kind);
    if (!importer) throw new FileError(`No importer is registered for "${row.kind}".`);
    const prep = await importer.prepare(this.db, tenantId, row.options ?? {});
    const writers = importer.writers ?? WRITERS;
    const sizes = await store.chunkSizes(this.db, tenantId, row.id);
    const source: ByteSource = { read: (from) => this.readChunks(tenantId, row.id, sizes, from) };
    const items: AsyncIterable<FileItem> = row.format === 'csv' ? csvItems(source) : ndjsonItems(source);
    // Batches are written on WRITERS connections at once while the next is read
    // and validated; each commits only after the one before it has, so what is
    // committed is always a prefix of the file (see commit).
    const inflight: Array<Promise<void>> = [];
    let previous: Promise<void> = Promise.resolve();
    const submit = async (b: Batch) => {
      if (inflight.length >= writers) await inflight.shift();
      const p = this.commit(row, importer, prep, tenantId, b, previous);
      p.catch(() => undefined); // awaited in turn; this only keeps it from counting as unhandled meanwhile
      previous = p;
      inflight.push(p);
    };

    try {
      await this.readInto(items, row, importer, prep, submit);
    } catch (err) {
      // Let the batches still being written end (they roll back) before the import's lock is let go.
      await Promise.allSettled(inflight);
      throw err;
    }
    while (inflight.length > 0) await inflight.shift();
  }

  /** Reads the file's items into batches and submits them; `submit` is called at least once, last with the final batch. */
  private async readInto(items: AsyncIterable<FileItem>, row: ImportRow, importer: Importer<any, any>, prep: unknown, submit: (b: Batch) => Promise<void>): Promise<void> {
    const seen = new KeySet();
    const resumeAfter = row.lines_committed;
    const unknownKeys = new Set<string>(); // NDJSON: keys seen on any line
    let batch = emptyBatch({ lastLine: row.lines_committed, end: row.bytes_processed });
    for await (const item of items) {
      if (item.kind === 'header') {
        batch.unknownColumns = checkHeader(item.columns, importer);
        continue;
      }
      const replay = item.line <= resumeAfter;
      if (item.kind === 'bad') {
        if (replay) continue;
        batch.rejections.push({ line: item.line, reason: item.reason });
      } else {
        // Keys are registered on replayed lines too, so a duplicate is found whatever run reads it.
        const key = importer.keyOf(item.values);
        const firstLine = key === null ? null : seen.add(key, item.line);
        if (replay) continue;
        if (row.format === 'ndjson' && unknownKeys.size < 100) {
          for (const k of Object.keys(item.values)) {
            if (!unknownKeys.has(k) && !importer.knowsColumn(k)) {
              unknownKeys.add(k);
              batch.unknownColumns.push(k);
            }
          }
        }
        if (firstLine !== null) {
          batch.rejections.push({ line: item.line, reason: `${importer.keyColumn}: "${key}" is already on line ${firstLine} of this file; each ${importer.keyColumn} may appear once` });
        } else {
          const result = importer.validate(item.values, { format: row.format, now: this.clock.now(), prep });
          if (result.ok) batch.rows.push({ line: item.line, value: result.value });
          else batch.rejections.push({ line: item.line, reason: result.errors.map((e) => `${e.field}: ${e.detail}`).join('; ') });
        }
      }
      batch.records++;
      batch.lastLine = item.line;
      batch.end = item.end;
      if (batch.records >= this.batchSize) {
        await submit(batch);
        batch = emptyBatch(batch);
      }
    }
    // The last batch, even an empty one: it records the unknown columns of a file without rows.
    await submit(batch);
  }

  /**
   * Writes one batch and its progress in one transaction, which commits only
   * once the batch before it (`before`) has committed, and rolls back if that
   * one failed. Batches of one file touch different records (each key appears
   * once per file), so two of them never wait for each other's locks.
   */
  private async commit(row: ImportRow, importer: Importer<any, any>, prep: unknown, tenantId: string, batch: Batch, before: Promise<void>): Promise<void> {
    let careful = false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.tx(async (tx) => {
          const ctx = { now: this.clock.now(), prep };
          const result = batch.rows.length === 0
            ? { created: 0, updated: 0, unchanged: 0, rejected: [] }
            : careful ? await applyCarefully(tx, importer, tenantId, batch.rows, ctx) : await importer.apply(tx, tenantId, batch.rows, ctx);
          await before.catch((err) => {
            throw new EarlierBatchFailed(err);
          });
          const rejections = result.rejected.length > 0 ? [...batch.rejections, ...result.rejected].sort((a, b) => a.line - b.line) : batch.rejections;
          await store.commitBatch(tx, tenantId, row.id, {
            lastLine: batch.lastLine, bytesProcessed: batch.end, rows: batch.records,
            created: result.created, updated: result.updated, unchanged: result.unchanged,
            rejections, unknownColumns: batch.unknownColumns,
          });
        });
        return;
      } catch (err) {
        // Its own work was fine, but it must not commit without the batch before it: the run fails with that one's error.
        if (err instanceof EarlierBatchFailed) throw err.cause;
        const code = (err as { code?: string }).code ?? '';
        // A value the database refuses (one bad row): find it and reject only it.
        if (!careful && isDataError(code)) {
          careful = true;
          continue;
        }
        // A deadlock with a concurrent writer: the batch was rolled back whole; write it again.
        if ((code === '40P01' || code === '40001') && attempt < 5) continue;
        throw err;
      }
    }
  }

  /** The file's bytes from `from` on, one stored chunk at a time (the next one is fetched while this one is read). */
  private async *readChunks(tenantId: string, importId: string, sizes: Array<{ seq: number; size: number }>, from: number): AsyncGenerator<Buffer> {
    let i = 0;
    let start = 0;
    while (i < sizes.length && start + sizes[i]!.size <= from) start += sizes[i++]!.size;
    const fetch = (k: number) => {
      if (k >= sizes.length) return null;
      const p = store.readChunk(this.db, tenantId, importId, sizes[k]!.seq);
      p.catch(() => undefined); // awaited in turn; may be abandoned when the reader stops early
      return p;
    };
    let next = fetch(i);
    while (next) {
      const buf = await next;
      next = fetch(++i);
      yield start < from ? buf.subarray(from - start) : buf;
      start += buf.length;
    }
  }
}

/** A batch that must not commit because the one before it failed. */
class EarlierBatchFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('an earlier batch failed');
  }
}

/** A new batch; until it holds a record, its position is where the previous one ended. */
function emptyBatch(previous: { lastLine: number; end: number }): Batch {
  return { rows: [], rejections: [], records: 0, lastLine: previous.lastLine, end: previous.end, unknownColumns: [] };
}

/** Checks a CSV header; returns the columns the importer does not know (ignored, and reported). */
function checkHeader(columns: string[], importer: Importer<any, any>): string[] {
  const seen = new Set<string>();
  for (const c of columns) {
    if (c === '') throw new FileError('The header row (line 1) has an empty column name.');
    if (seen.has(c)) throw new FileError(`The header row (line 1) names the column "${c}" twice.`);
    seen.add(c);
  }
  const missing = importer.requiredColumns.filter((c) => !seen.has(c));
  if (missing.length > 0) {
    throw new FileError(`The header row (line 1) has no ${missing.map((c) => `"${c}"`).join(', ')} column; the first line of a CSV file must name the columns.`);
  }
  return columns.filter((c) => !importer.knowsColumn(c));
}

/** SQLSTATE classes bad data can still raise: data exceptions, integrity and size limits. */
const isDataError = (code: string) => /^(22|23|54)/.test(code);

/** Applies rows in savepoints, halving on a data error, until each bad row is alone and rejected. */
async function applyCarefully<T>(tx: Tx, importer: Importer<T, any>, tenantId: string, rows: Array<{ line: number; value: T }>, ctx: { now: Date; prep: unknown }): Promise<ApplyResult> {
  try {
    return await withSavepoint(tx, () => importer.apply(tx, tenantId, rows, ctx));
  } catch (err) {
    if (!isDataError((err as { code?: string }).code ?? '')) throw err;
    if (rows.length === 1) {
      return { created: 0, updated: 0, unchanged: 0, rejected: [{ line: rows[0]!.line, reason: `the database refused the row: ${(err as Error).message}` }] };
    }
    const mid = rows.length >> 1;
    const a = await applyCarefully(tx, importer, tenantId, rows.slice(0, mid), ctx);
    const b = await applyCarefully(tx, importer, tenantId, rows.slice(mid), ctx);
    return { created: a.created + b.created, updated: a.updated + b.updated, unchanged: a.unchanged + b.unchanged, rejected: [...a.rejected, ...b.rejected] };
  }
}

export function toView(row: ImportRow, rejections: Rejection[], more: boolean): ImportView {
  return {
    id: row.id,
    kind: row.kind,
    format: row.format,
    options: row.options ?? {},
    status: row.status === 'receiving' ? 'queued' : row.status,
    progress: { bytes_total: row.bytes_total, bytes_processed: row.bytes_processed, rows_processed: row.rows_processed },
    counts: { created: row.rows_created, updated: row.rows_updated, unchanged: row.rows_unchanged, rejected: row.rows_rejected },
    unknown_columns: row.unknown_columns,
    error: row.error,
    rejections,
    rejections_next_cursor: more && rejections.length > 0 ? encodeCursor({ line: rejections[rejections.length - 1]!.line }) : null,
    created_at: row.created_at,
    started_at: row.started_at,
    finished_at: row.finished_at,
  };
}
