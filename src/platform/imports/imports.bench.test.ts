/**
 * The members-import benchmark (bench/members-import.ts) end to end at a tiny
 * scale, so that it keeps working: the file, psql \copy, Patron over HTTP in
 * its own process, the figures. No assertion on speed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { memberLines, runBench } from '../../../bench/members-import.js';

const hasPsql = (() => {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('the benchmark file is the same for the same seed, and every row has every column', () => {
  const a = [...memberLines(50)];
  assert.deepEqual(a, [...memberLines(50)]);
  assert.equal(a.length, 51);
  const columns = a[0]!.trimEnd().split(',').length;
  for (const line of a) assert.equal(line.trimEnd().split(',').length, columns, line);
});

test('bench:members-import runs end to end at 2,000 rows', { skip: hasPsql ? false : 'psql is not installed' }, async () => {
  const result = await runBench({ rows: 2000, databaseUrl: process.env.DATABASE_URL!, indexedReference: true });
  assert.equal(result.rows, 2000);
  assert.deepEqual(result.patron.counts, { created: 2000, updated: 0, unchanged: 0, rejected: 0 });
  assert.ok(result.copy.rows_per_second > 0 && result.patron.rows_per_second > 0 && result.indexed_copy!.rows_per_second > 0);
  assert.ok(result.ratio > 0);
  assert.ok(result.patron.peak_rss_mb > 10, 'the peak RSS of the Patron process was measured');
  assert.ok(result.file_bytes > 2000 * 50);
});
