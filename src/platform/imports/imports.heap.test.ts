/**
 * A real Patron server process with a small heap (node --max-old-space-size)
 * takes a file of a few hundred thousand rows over HTTP and imports it: the
 * upload and the job stream, so neither runs out of memory. The rows are made
 * as they are sent, never held as one string here either.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { startBenchPatron, type BenchPatron } from '../../../bench/lib/patron-process.js';
import { waitForImport } from './imports.testing.js';

const ROWS = 300_000;
const HEAP_MB = 160;

// Its own process on a fresh database of the test server (only it runs the job).
let patron: BenchPatron | undefined;
before(async () => {
  patron = await startBenchPatron({
    databaseUrl: process.env.DATABASE_URL!,
    label: 'import_heap',
    nodeArgs: [`--max-old-space-size=${HEAP_MB}`],
    env: { LOG_LEVEL: 'warn', RATE_LIMIT_ENABLED: 'false' },
  });
});
after(async () => {
  await patron?.stop();
});

function* lines(): Generator<Buffer> {
  yield Buffer.from('external_id,email,first_name,locale\n');
  let chunk: string[] = [];
  for (let i = 1; i <= ROWS; i++) {
    chunk.push(`h-${i},h${i}@example.com,Name ${i % 1000},${['en', 'bg', 'pl'][i % 3]}\n`);
    if (chunk.length === 5000) {
      yield Buffer.from(chunk.join(''));
      chunk = [];
    }
  }
  if (chunk.length) yield Buffer.from(chunk.join(''));
}

test(`a ${ROWS.toLocaleString('en')}-row file is imported by a server with a ${HEAP_MB} MB heap`, async (t) => {
  const p = patron!;
  const res = await fetch(`${p.url}/v1/members/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.apiKey}`, 'content-type': 'text/csv' },
    body: Readable.toWeb(Readable.from(lines())) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const accepted: any = await res.json();
  assert.equal(res.status, 202, JSON.stringify(accepted));
  assert.ok(accepted.progress.bytes_total > 10 * 2 ** 20, 'a file of more than 10 MiB');

  const done = await waitForImport(p.url, p.apiKey, `/v1/members/import/${accepted.id}`, 180_000);
  assert.equal(done.status, 'succeeded', JSON.stringify(done));
  assert.deepEqual(done.counts, { created: ROWS, updated: 0, unchanged: 0, rejected: 0 });
  assert.equal(done.progress.rows_processed, ROWS);
  assert.equal((await fetch(`${p.url}/health`)).status, 200, 'the server is still up');
  const members = await fetch(`${p.url}/v1/members?external_id=h-${ROWS}`, { headers: { authorization: `Bearer ${p.apiKey}` } });
  assert.equal(((await members.json()) as any).data.length, 1, 'the last row is there');
  t.diagnostic(`peak RSS of the server: ${(p.memory().peakRss / 2 ** 20).toFixed(0)} MB`);
});
