/**
 * `npm test`: prepares a database, then runs every test file with node's test
 * runner (TAP output, files in parallel).
 *
 *  - DATABASE_URL unset: starts Patron's own embedded PostgreSQL in a temporary
 *    folder (the same launcher `npx patron start` uses) and stops it after.
 *  - DATABASE_URL set: creates a fresh database `patron_test_<time>_<random>`
 *    on that server, runs against it, and drops it after.
 *
 * Test files: `src/**\/*.test.ts` and `test/**\/*.test.ts`, or the paths given; the slowest first (SLOW_FIRST).
 * TEST_CONCURRENCY: files at once (default 2, one per core of the reference machine).
 * --test-timeout is 10 minutes: on Node 20 it bounds each test file as a whole (nodejs/node#57656), and the slowest
 * file (the benchmarks at a tiny scale) takes several minutes on a busy machine.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbedded, type EmbeddedServer } from '../src/platform/db/embedded.js';
import { Db } from '../src/platform/db/db.js';
import { migrate } from '../src/platform/db/migrate.js';
import { createScratchDatabase } from '../src/platform/db/scratch-database.js';

const root = path.resolve(import.meta.dirname, '..');

/**
 * The slowest test files (measured), started first. The runner starts files in the order given as slots free up, so
 * a long file started last (test/ sorts after src/) would run alone at the end while the other slot idles; started
 * first, the short files fill in around it. A file missing from this list still runs, in its alphabetical place.
 */
const SLOW_FIRST = [
  'test/process/bench-smoke.test.ts',
  'test/process/cli.test.ts',
  'test/isolation.test.ts',
  'test/conventions.test.ts',
  'src/demo/demo.test.ts',
  'src/platform/imports/imports.test.ts',
  'src/modules/ledger/ledger.property.test.ts',
  'src/modules/campaigns/campaigns.test.ts',
  'src/modules/members/members.test.ts',
];

/** Alphabetical, the slow files first. */
function runOrder(files: string[]): string[] {
  const rank = (f: string) => {
    const i = SLOW_FIRST.indexOf(path.relative(root, f).split(path.sep).join('/'));
    return i < 0 ? SLOW_FIRST.length : i;
  };
  return [...files].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function findTests(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') out.push(...findTests(p));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files = runOrder(args.length > 0 ? args.map((a) => path.resolve(a)) : [...findTests(path.join(root, 'src')), ...findTests(path.join(root, 'test'))]);
  if (files.length === 0) {
    console.error('no test files found');
    return 1;
  }

  let embedded: EmbeddedServer | null = null;
  let tmpDir: string | null = null;
  let dropDb: (() => Promise<void>) | null = null;
  let url: string;
  const external = process.env.DATABASE_URL?.trim();
  if (external) {
    const scratch = await createScratchDatabase(external, 'patron_test');
    url = scratch.url;
    dropDb = () => scratch.drop();
    console.log(`# database: fresh database ${scratch.name} on ${new URL(external).host}`);
  } else {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'patron-test-'));
    fs.chmodSync(tmpDir, 0o755);
    embedded = await startEmbedded(path.join(tmpDir, 'data'));
    url = embedded.url;
    console.log(`# database: embedded PostgreSQL on port ${embedded.port}`);
  }

  try {
    const db = new Db({ connectionString: url, max: 2 });
    await migrate(db);
    await db.close();

    const concurrency = process.env.TEST_CONCURRENCY ?? '2';
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=tap', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...files],
      { stdio: 'inherit', cwd: root, env: { ...process.env, DATABASE_URL: url, PATRON_TEST_DB_KIND: external ? 'external' : 'embedded', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' } },
    );
    return await new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    if (dropDb) await dropDb().catch((err) => console.error('# could not drop the test database:', err.message));
    if (embedded) await embedded.stop().catch(() => undefined);
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
