import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../../../test/helpers.js';
import { validateProgramPatch } from './programs.service.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const fields = (res: { body: any }) => (res.body.errors as { field: string }[]).map((e) => e.field).sort();

describe('program settings', () => {
  test('a new tenant has the defaults, with its currency and time zone, without a row', async () => {
    const t = await app.newTenant();
    await app.patron.services.tenants.updateTenant(app.patron.db, t.id, { default_currency: 'BGN', time_zone: 'Europe/Sofia' });
    const res = await t.api('GET', '/v1/program');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, {
      currency: 'BGN', time_zone: 'Europe/Sofia',
      points_value: { points: 100, amount: 100 }, point_cost: { points: 100, amount: 50 }, default_margin_percent: 30,
      pending_days: 0, expiry: { kind: 'never' }, negative_balance: 'debt', enrol_unknown_customers: true,
      excluded_categories: ['gift_card'], non_earning_payment_methods: ['points', 'store_credit'], hold_minutes: 30, updated_at: null,
    });
    const rows = await app.patron.db.query('SELECT count(*)::int AS n FROM programs WHERE tenant_id = $1', [t.id]);
    assert.equal(rows.rows[0].n, 0, 'reading creates no row');
    // The service's read (the hot path) gives the same, with Dates.
    const p = await app.patron.services.programs.get(app.patron.db, t.id);
    assert.equal(p.time_zone, 'Europe/Sofia');
    assert.equal(p.updated_at, null);
    // A read key may read it.
    const readKey = await t.keyWith(['read']);
    assert.equal((await t.api('GET', '/v1/program', { key: readKey })).status, 200);
  });

  test('PATCH changes only the fields sent, normalises them, and emits program.updated', async () => {
    const t = await app.newTenant();
    app.clock.set('2026-03-04T10:00:00Z');
    try {
      const res = await t.api('PATCH', '/v1/program', {
        body: {
          pending_days: 14, expiry: { kind: 'end_of_period', period: 'year' }, default_margin_percent: 42.5,
          excluded_categories: ['gift_card', 'tobacco', 'tobacco'], points_value: { points: 1, amount: 1 },
        },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.pending_days, 14);
      assert.deepEqual(res.body.expiry, { kind: 'end_of_period', period: 'year', plus: 0 });
      assert.equal(res.body.default_margin_percent, 42.5);
      assert.deepEqual(res.body.excluded_categories, ['gift_card', 'tobacco']);
      assert.deepEqual(res.body.points_value, { points: 1, amount: 1 });
      assert.deepEqual(res.body.point_cost, { points: 100, amount: 50 }, 'untouched settings keep their defaults');
      assert.equal(res.body.hold_minutes, 30);
      assert.equal(res.body.updated_at, '2026-03-04T10:00:00.000Z');

      const second = await t.api('PATCH', '/v1/program', { body: { expiry: { kind: 'after_earning', months: 12 }, negative_balance: 'allow', hold_minutes: 60 } });
      assert.equal(second.status, 200, second.text);
      assert.deepEqual(second.body.expiry, { kind: 'after_earning', months: 12, days: 0 });
      assert.equal(second.body.pending_days, 14, 'earlier changes stay');
      assert.equal(second.body.negative_balance, 'allow');
      assert.deepEqual((await t.api('GET', '/v1/program')).body, second.body);

      // Sending the current values changes nothing and emits nothing.
      const same = await t.api('PATCH', '/v1/program', { body: { hold_minutes: 60 } });
      assert.equal(same.status, 200);
      const events = await t.api('GET', '/v1/domain-events?type=program.updated');
      assert.deepEqual(events.body.data.map((e: any) => e.payload.changed_fields), [
        ['points_value', 'default_margin_percent', 'pending_days', 'expiry', 'excluded_categories'],
        ['expiry', 'negative_balance', 'hold_minutes'],
      ]);
      const p = await app.patron.services.programs.get(app.patron.db, t.id);
      assert.deepEqual(p.expiry, { kind: 'after_earning', months: 12, days: 0 });
      assert.ok(p.updated_at instanceof Date);
    } finally {
      app.clock.reset();
    }
  });

  test('PATCH validation names every bad field; currency and time zone are read-only', async () => {
    const t = await app.newTenant();
    let res = await t.api('PATCH', '/v1/program', {
      body: {
        pending_days: 400, hold_minutes: 0, default_margin_percent: 12.345, points_value: { points: 0 }, negative_balance: 'sometimes',
        excluded_categories: ['ok', ''], currency: 'USD', bogus: 1,
      },
    });
    assert.equal(res.status, 400, res.text);
    assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
    assert.deepEqual(fields(res), [
      'bogus', 'currency', 'default_margin_percent', 'excluded_categories[1]', 'hold_minutes', 'negative_balance', 'pending_days',
      'points_value.amount', 'points_value.points',
    ]);
    assert.match(res.body.errors.find((e: any) => e.field === 'currency').detail, /read-only/);

    const expiry = async (e: unknown) => fields(await t.api('PATCH', '/v1/program', { body: { expiry: e } }));
    assert.deepEqual(await expiry({ kind: 'inactivity' }), ['expiry.months']);
    assert.deepEqual(await expiry({ kind: 'inactivity', months: 0 }), ['expiry.months']);
    assert.deepEqual(await expiry({ kind: 'after_earning' }), ['expiry.months'], 'an expiry after 0 months and 0 days');
    assert.deepEqual(await expiry({ kind: 'after_earning', months: 121, days: -1 }), ['expiry.days', 'expiry.months']);
    assert.deepEqual(await expiry({ kind: 'end_of_period', period: 'week' }), ['expiry.period']);
    assert.deepEqual(await expiry({ kind: 'end_of_period' }), ['expiry.period']);
    assert.deepEqual(await expiry({ kind: 'never', months: 3 }), ['expiry.months']);
    assert.deepEqual(await expiry({ kind: 'sometimes' }), ['expiry.kind']);
    assert.deepEqual(await expiry('never'), ['expiry']);

    res = await t.api('PATCH', '/v1/program', { body: {} });
    assert.equal(res.status, 400);
    res = await t.api('PATCH', '/v1/program', { body: { updated_at: '2026-01-01T00:00:00Z', time_zone: 'UTC' } });
    assert.deepEqual(fields(res), ['time_zone', 'updated_at']);
    // Nothing was written by the rejected requests.
    assert.equal((await t.api('GET', '/v1/program')).body.updated_at, null);

    // Only admin keys change settings.
    const writeKey = await t.keyWith(['write']);
    assert.equal((await t.api('PATCH', '/v1/program', { body: { pending_days: 1 }, key: writeKey })).status, 403);
  });

  test('the service validates on its own (no HTTP schema in front)', async () => {
    assert.deepEqual(validateProgramPatch({ pending_days: 1.5, expiry: { kind: 'end_of_period', period: 'month', plus: 101 } }).map((e) => e.field), ['pending_days', 'expiry.plus']);
    assert.deepEqual(validateProgramPatch({ non_earning_payment_methods: 'points' }).map((e) => e.field), ['non_earning_payment_methods']);
    assert.deepEqual(validateProgramPatch({ point_cost: { points: 100, amount: 0 } }), []);
    const t = await app.newTenant();
    await assert.rejects(
      app.patron.db.tx((tx) => app.patron.services.programs.update(tx, t.id, { hold_minutes: 20_000 })),
      (err: any) => err.code === 'validation_failed' && err.errors[0].field === 'hold_minutes',
    );
  });

  test('concurrent first changes of different settings both stay', async () => {
    const t = await app.newTenant();
    const [a, b] = await Promise.all([
      t.api('PATCH', '/v1/program', { body: { pending_days: 3 } }),
      t.api('PATCH', '/v1/program', { body: { hold_minutes: 45 } }),
    ]);
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    const p = (await t.api('GET', '/v1/program')).body;
    assert.equal(p.pending_days, 3);
    assert.equal(p.hold_minutes, 45);
  });
});
