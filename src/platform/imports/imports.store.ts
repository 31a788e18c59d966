/** SQL for imports, import_chunks and import_rejections. */
import type { Queryable } from '../db/db.js';

export type ImportStatus = 'receiving' | 'queued' | 'running' | 'succeeded' | 'failed';
export type ImportFormat = 'csv' | 'ndjson';

export interface ImportRow {
  id: string;
  kind: string;
  format: ImportFormat;
  options: Record<string, unknown>;
  status: ImportStatus;
  bytes_total: number;
  bytes_processed: number;
  rows_processed: number;
  rows_created: number;
  rows_updated: number;
  rows_unchanged: number;
  rows_rejected: number;
  lines_committed: number;
  unknown_columns: string[];
  error: string | null;
  attempts: number;
  created_by: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface Rejection {
  line: number;
  reason: string;
}

const COLS = `id, kind, format, options, status, bytes_total, bytes_processed, rows_processed, rows_created, rows_updated, rows_unchanged,
  rows_rejected, lines_committed, unknown_columns, error, attempts, created_by, created_at, started_at, finished_at`;

export async function insertImport(
  db: Queryable,
  tenantId: string,
  i: { id: string; kind: string; format: ImportFormat; options: Record<string, unknown>; status: ImportStatus; createdBy: string | null; at: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO imports (tenant_id, id, kind, format, options, status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [tenantId, i.id, i.kind, i.format, JSON.stringify(i.options), i.status, i.createdBy, i.at],
  );
}

export async function insertChunk(db: Queryable, tenantId: string, importId: string, seq: number, data: Buffer): Promise<void> {
  await db.query(`INSERT INTO import_chunks (tenant_id, import_id, seq, data) VALUES ($1, $2, $3, $4)`, [tenantId, importId, seq, data]);
}

export async function setBytesTotal(db: Queryable, tenantId: string, id: string, bytes: number): Promise<ImportRow> {
  const res = await db.query<ImportRow>(`UPDATE imports SET bytes_total = $3 WHERE tenant_id = $1 AND id = $2 RETURNING ${COLS}`, [tenantId, id, bytes]);
  return res.rows[0]!;
}

export async function getImport(db: Queryable, tenantId: string, id: string): Promise<ImportRow | null> {
  const res = await db.query<ImportRow>(`SELECT ${COLS} FROM imports WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function listRejections(db: Queryable, tenantId: string, importId: string, afterLine: number, limit: number): Promise<Rejection[]> {
  const res = await db.query<Rejection>(
    `SELECT line, reason FROM import_rejections WHERE tenant_id = $1 AND import_id = $2 AND line > $3 ORDER BY line LIMIT $4`,
    [tenantId, importId, afterLine, limit],
  );
  return res.rows;
}

/** Sizes of the stored chunks, in order (a few hundred rows for a large file). */
export async function chunkSizes(db: Queryable, tenantId: string, importId: string): Promise<Array<{ seq: number; size: number }>> {
  const res = await db.query<{ seq: number; size: number }>(
    `SELECT seq, octet_length(data) AS size FROM import_chunks WHERE tenant_id = $1 AND import_id = $2 ORDER BY seq`,
    [tenantId, importId],
  );
  return res.rows;
}

export async function readChunk(db: Queryable, tenantId: string, importId: string, seq: number): Promise<Buffer> {
  const res = await db.query<{ data: Buffer }>(`SELECT data FROM import_chunks WHERE tenant_id = $1 AND import_id = $2 AND seq = $3`, [tenantId, importId, seq]);
  if (!res.rows[0]) throw new Error(`Chunk ${seq} of import ${importId} is missing`);
  return res.rows[0].data;
}

/** Marks a run as started (one more attempt); null when the import is already finished. */
export async function beginRun(db: Queryable, tenantId: string, id: string, at: Date): Promise<ImportRow | null> {
  const res = await db.query<ImportRow>(
    `UPDATE imports SET status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, $3)
      WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')
      RETURNING ${COLS}`,
    [tenantId, id, at],
  );
  return res.rows[0] ?? null;
}

export interface BatchProgress {
  /** The line of the last record in the batch: a resumed run starts after it. */
  lastLine: number;
  bytesProcessed: number;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  rejections: Rejection[];
  unknownColumns: string[];
}

/** Records a batch's outcome, in the transaction that wrote the batch. */
export async function commitBatch(db: Queryable, tenantId: string, id: string, p: BatchProgress): Promise<void> {
  if (p.rejections.length > 0) {
    await db.query(
      `INSERT INTO import_rejections (tenant_id, import_id, line, reason)
       SELECT $1, $2, line, reason FROM unnest($3::bigint[], $4::text[]) AS r(line, reason)`,
      [tenantId, id, p.rejections.map((r) => r.line), p.rejections.map((r) => r.reason)],
    );
  }
  await db.query(
    `UPDATE imports
        SET lines_committed = $3, bytes_processed = $4, rows_processed = rows_processed + $5, rows_created = rows_created + $6,
            rows_updated = rows_updated + $7, rows_unchanged = rows_unchanged + $8, rows_rejected = rows_rejected + $9,
            unknown_columns = ARRAY(SELECT DISTINCT c FROM unnest(unknown_columns || $10::text[]) AS c ORDER BY c)
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, p.lastLine, p.bytesProcessed, p.rows, p.created, p.updated, p.unchanged, p.rejections.length, p.unknownColumns],
  );
}

/** Ends an import: its status, error and time; the uploaded file is no longer needed. */
export async function finishImport(db: Queryable, tenantId: string, id: string, status: 'succeeded' | 'failed', error: string | null, at: Date): Promise<void> {
  await db.query(`UPDATE imports SET status = $3, error = $4, finished_at = $5 WHERE tenant_id = $1 AND id = $2`, [tenantId, id, status, error, at]);
  await db.query(`DELETE FROM import_chunks WHERE tenant_id = $1 AND import_id = $2`, [tenantId, id]);
}

/** Keeps the error of a failed attempt visible while the job waits for its retry. */
export async function recordAttemptError(db: Queryable, tenantId: string, id: string, error: string): Promise<void> {
  await db.query(`UPDATE imports SET error = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'running'`, [tenantId, id, error]);
}
