/** The cases module recognises ids with the platform's isUuid (src/platform/ids.ts), never a regex of its own (review 6, S3). */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));

test('no source file of the cases module defines its own UUID pattern', () => {
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  assert.ok(sources.includes('cases.service.ts'));
  // A UUID regex spells its first group as eight hex digits: [0-9a-f]{8} (any case, any flags).
  const own = sources.filter((f) => /\[0-9a-f\]\{8\}/i.test(readFileSync(join(dir, f), 'utf8')));
  assert.deepEqual(own, [], 'use isUuid from src/platform/ids.ts');
});
