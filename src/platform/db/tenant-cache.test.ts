/**
 * Two Patron processes' worth of caches on one database: a change of earn rules or program settings made through
 * one is used at once by that one, and by the other as soon as its notification arrives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, startTestApp, type TestApp } from '../../../test/helpers.js';

let a: TestApp;
let b: TestApp;
before(async () => {
  a = await startTestApp();
  b = await startTestApp();
});
after(async () => {
  await a.close();
  await b.close();
});

const until = async (what: string, fn: () => Promise<boolean>) => {
  for (let i = 0; i < 200; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
};

describe('tenant configuration caches', () => {
  test('a rule change is used at once where it was made and soon everywhere', async () => {
    const t = await a.newTenant();
    const rule = await t.api('POST', '/v1/earn-rules', { body: { kind: 'base', name: 'rate', rate: { points: 1, per_units: 1 } } });
    assert.equal(rule.status, 201);
    const preview = (app: TestApp) => call(app.url, 'POST', '/v1/transactions/preview', { key: t.key, body: { external_id: 'p', currency: 'EUR', total: 1000 } });
    assert.equal((await preview(a)).body.points, 10);
    assert.equal((await preview(b)).body.points, 10); // b has it cached now

    assert.equal((await t.api('PATCH', `/v1/earn-rules/${rule.body.id}`, { body: { rate: { points: 3, per_units: 1 } } })).status, 200);
    assert.equal((await preview(a)).body.points, 30, 'the process that made the change reads it at once');
    await until('the other process to hear the change', async () => (await preview(b)).body.points === 30);

    assert.equal((await call(b.url, 'PATCH', '/v1/program', { key: t.key, body: { excluded_categories: ['books'] } })).status, 200);
    const lines = { external_id: 'p', currency: 'EUR', total: 1000, lines: [{ sku: 'B', category: 'books', quantity: 1, unit_price: 1000 }] };
    assert.equal((await call(b.url, 'POST', '/v1/transactions/preview', { key: t.key, body: lines })).body.points, 0);
    await until('the program change to reach the other process', async () =>
      (await call(a.url, 'POST', '/v1/transactions/preview', { key: t.key, body: lines })).body.points === 0);
  });
});
