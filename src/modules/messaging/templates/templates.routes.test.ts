/** Message templates over HTTP and TemplatesService.render, on a real database. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../../../../test/helpers.js';
import { LOCALES } from '../../../platform/http/schema.js';
import { TRIGGERS } from '../messaging.types.js';
import { defaultTemplate } from './templates.defaults.js';
import { sampleVariables } from './templates.variables.js';

let app: TestApp;

before(async () => {
  app = await startTestApp();
  app.clock.set(new Date('2031-03-03T08:00:00Z'));
});
after(() => app.close());

const OVERRIDE = {
  subject: 'A gift for {{ member.name }}',
  html: '<p>Dear {{ member.name }}, {{ offer.points | plural: one: "# point", other: "# points" }} from {{ program.name }}.</p>',
  text: 'Dear {{ member.name }}, {{ offer.points | plural: one: "# point", other: "# points" }} from {{ program.name }}.',
};

const eventsOf = async (t: Awaited<ReturnType<TestApp['newTenant']>>, type: string) =>
  (await t.api('GET', `/v1/domain-events?type=${type}&limit=500`)).body.data as any[];

describe('listing and reading templates', () => {
  test('every trigger in every language, not customised, in pages; filters', async () => {
    const t = await app.newTenant();
    const first = await t.api('GET', '/v1/messaging/templates?limit=50');
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.data.length, 50);
    const rest = await t.api('GET', `/v1/messaging/templates?limit=50&cursor=${first.body.next_cursor}`);
    assert.equal(rest.body.next_cursor, null);
    const all = [...first.body.data, ...rest.body.data];
    assert.equal(all.length, TRIGGERS.length * LOCALES.length);
    assert.deepEqual(new Set(all.map((x: any) => `${x.trigger}:${x.locale}`)).size, all.length);
    assert.ok(all.every((x: any) => x.customized === false && x.updated_at === null));
    assert.equal(all.find((x: any) => x.trigger === 'birthday').category, 'marketing');
    assert.equal(all.find((x: any) => x.trigger === 'case_reply').category, 'transactional');
    const ru = await t.api('GET', '/v1/messaging/templates?locale=ru&trigger=win_back');
    assert.deepEqual(ru.body.data.map((x: any) => `${x.trigger}:${x.locale}`), ['win_back:ru']);
    assert.equal((await t.api('GET', '/v1/messaging/templates?cursor=nonsense')).status, 400);
    assert.equal((await t.api('GET', '/v1/messaging/templates?locale=de')).status, 400);
  });

  test('the effective template is the default, with the variables the trigger offers; unknown trigger or locale is a 400', async () => {
    const t = await app.newTenant();
    const res = await t.api('GET', '/v1/messaging/templates/points_expiring/pl');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.customized, false);
    assert.deepEqual({ subject: res.body.subject, html: res.body.html, text: res.body.text }, defaultTemplate('points_expiring', 'pl'));
    const names = res.body.variables.map((v: any) => v.name);
    assert.ok(names.includes('points.expiring') && names.includes('points.expiring_on') && names.includes('member.name'));
    assert.ok(!names.includes('links.unsubscribe'), 'a transactional trigger offers no unsubscribe link');
    const marketing = await t.api('GET', '/v1/messaging/templates/win_back/en');
    assert.ok(marketing.body.variables.some((v: any) => v.name === 'links.unsubscribe'));
    const bad = await t.api('GET', '/v1/messaging/templates/nosuch/en');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].field, 'trigger');
    assert.equal((await t.api('GET', '/v1/messaging/templates/birthday/de')).body.errors[0].field, 'locale');
  });
});

describe('overriding and resetting', () => {
  test('an override is used by render and shown as customised; DELETE goes back to the default; events are emitted', async () => {
    const t = await app.newTenant();
    const templates = app.patron.services.templates;
    const vars = { ...sampleVariables('birthday', 'en'), offer: { points: 1 } };

    const put = await t.api('PUT', '/v1/messaging/templates/birthday/en', { body: OVERRIDE });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.customized, true);
    assert.equal(put.body.updated_at, '2031-03-03T08:00:00.000Z');
    assert.equal(put.body.subject, OVERRIDE.subject);

    const rendered = await templates.render(app.patron.db, t.id, 'birthday', 'en', vars);
    assert.equal(rendered.subject, 'A gift for Emma');
    assert.match(rendered.html, /<p>Dear Emma, 1 point from Harbour Coffee\.<\/p>/);
    assert.match(rendered.html, /Unsubscribe from these emails/, 'the layout and its marketing footer frame an override too');
    assert.match(rendered.text, /^Dear Emma, 1 point from Harbour Coffee\.\n/);
    // Only that trigger and language: the Bulgarian birthday is still the default.
    assert.match((await templates.render(app.patron.db, t.id, 'birthday', 'bg', sampleVariables('birthday', 'bg'))).subject, /^Честит рожден ден/);

    const list = await t.api('GET', '/v1/messaging/templates?trigger=birthday');
    assert.deepEqual(list.body.data.filter((x: any) => x.customized).map((x: any) => x.locale), ['en']);
    const updated = await eventsOf(t, 'message_template.updated');
    assert.equal(updated.length, 1);
    assert.deepEqual(updated[0].payload, { trigger: 'birthday', locale: 'en', fields: ['subject', 'html', 'text'] });

    const del = await t.api('DELETE', '/v1/messaging/templates/birthday/en');
    assert.equal(del.status, 200, del.text);
    assert.equal(del.body.customized, false);
    assert.equal(del.body.subject, defaultTemplate('birthday', 'en').subject);
    assert.equal((await templates.render(app.patron.db, t.id, 'birthday', 'en', vars)).subject, 'Happy birthday, Emma!');
    assert.equal((await eventsOf(t, 'message_template.reset')).length, 1);
    // Resetting a default changes nothing and says nothing.
    assert.equal((await t.api('DELETE', '/v1/messaging/templates/birthday/en')).status, 200);
    assert.equal((await eventsOf(t, 'message_template.reset')).length, 1);
  });

  test("one tenant's override is not another's", async () => {
    const a = await app.newTenant();
    const b = await app.newTenant();
    assert.equal((await b.api('PUT', '/v1/messaging/templates/case_reply/ro', { body: OVERRIDE })).status, 200);
    const seenByA = await a.api('GET', '/v1/messaging/templates/case_reply/ro');
    assert.equal(seenByA.body.customized, false);
    assert.notEqual(seenByA.body.subject, OVERRIDE.subject);
    assert.ok((await a.api('GET', '/v1/messaging/templates?customized=true')).body.data.length === 0);
    const rendered = await app.patron.services.templates.render(app.patron.db, a.id, 'case_reply', 'ro', sampleVariables('case_reply', 'ro'));
    assert.match(rendered.subject, /^Am răspuns solicitării/);
  });

  test('bad Liquid is a 400 naming each bad field, and nothing is stored', async () => {
    const t = await app.newTenant();
    const res = await t.api('PUT', '/v1/messaging/templates/reward_issued/ru', {
      body: { subject: 'Ваш код {{ reward.code | shout }}', html: '<p>{% if reward.code %}{{ reward.code }}</p>', text: 'Ваш код: {{ reward.code }}' },
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.code, 'validation_failed');
    assert.deepEqual(res.body.errors.map((e: any) => e.field), ['subject', 'html']);
    assert.match(res.body.errors[0].detail, /undefined filter: shout/);
    assert.match(res.body.errors[1].detail, /not closed/);
    const incl = await t.api('PUT', '/v1/messaging/templates/reward_issued/ru', { body: { ...OVERRIDE, text: '{% include "/etc/passwd" %}' } });
    assert.equal(incl.status, 400);
    assert.deepEqual(incl.body.errors.map((e: any) => e.field), ['text']);
    const schema = await t.api('PUT', '/v1/messaging/templates/reward_issued/ru', { body: { subject: '', html: OVERRIDE.html, text: OVERRIDE.text, extra: 1 } });
    assert.equal(schema.status, 400);
    assert.deepEqual(schema.body.errors.map((e: any) => e.field).sort(), ['extra', 'subject']);
    assert.equal((await t.api('GET', '/v1/messaging/templates/reward_issued/ru')).body.customized, false);
    assert.equal((await eventsOf(t, 'message_template.updated')).length, 0);
  });

  test('overriding and resetting need an admin key; reading and previewing do not', async () => {
    const t = await app.newTenant();
    const write = await t.keyWith(['write']);
    const read = await t.keyWith(['read']);
    assert.equal((await t.api('PUT', '/v1/messaging/templates/birthday/en', { body: OVERRIDE, key: write })).status, 403);
    assert.equal((await t.api('DELETE', '/v1/messaging/templates/birthday/en', { key: write })).status, 403);
    assert.equal((await t.api('GET', '/v1/messaging/templates/birthday/en', { key: read })).status, 200);
    assert.equal((await t.api('POST', '/v1/messaging/templates/birthday/en/preview', { body: {}, key: write })).status, 200);
    assert.equal((await t.api('POST', '/v1/messaging/templates/birthday/en/preview', { body: {}, key: read })).status, 403);
  });
});

describe('preview', () => {
  test('with an empty body or none: the template in effect with the sample variables', async () => {
    const t = await app.newTenant();
    const res = await t.api('POST', '/v1/messaging/templates/points_expiring/ru/preview', { body: {} });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.subject, '250 баллов сгорят 12 марта 2027 г.');
    assert.match(res.body.html, /^<!DOCTYPE html>\n<html lang="ru"/);
    assert.match(res.body.text, /Здравствуйте, Анна!/);
    const noBody = await t.api('POST', '/v1/messaging/templates/points_expiring/ru/preview');
    assert.equal(noBody.status, 200, noBody.text);
    assert.equal(noBody.body.subject, res.body.subject);
  });

  test('a draft of one part, with variables merged over the sample; nothing is stored', async () => {
    const t = await app.newTenant();
    const res = await t.api('POST', '/v1/messaging/templates/birthday/pl/preview', {
      body: { subject: '{{ member.name }}, mamy {{ offer.points | plural: one: "# punkt", few: "# punkty", many: "# punktów", other: "# punktu" }} dla Ciebie', variables: { member: { name: 'Zofia' }, offer: { points: 22 } } },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.subject, 'Zofia, mamy 22 punkty dla Ciebie');
    // The html and text are the default's, rendered with the merged variables (the sample's program, the given points).
    assert.match(res.body.text, /^Cześć Zofia!\n\nCały zespół Kawiarnia Przystań/);
    assert.match(res.body.text, /22 punkty bonusowe/);
    assert.match(res.body.html, /Wypisz się z tych wiadomości/, 'birthday is marketing: the footer has the unsubscribe link');
    assert.equal((await t.api('GET', '/v1/messaging/templates/birthday/pl')).body.customized, false);
    assert.equal((await eventsOf(t, 'message_template.updated')).length, 0);
  });

  test('previews an override by default; a transactional preview has no unsubscribe link', async () => {
    const t = await app.newTenant();
    await t.api('PUT', '/v1/messaging/templates/reward_issued/en', { body: OVERRIDE });
    const res = await t.api('POST', '/v1/messaging/templates/reward_issued/en/preview', { body: { variables: { offer: { points: 3 } } } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.subject, 'A gift for Emma');
    assert.match(res.body.text, /^Dear Emma, 3 points from Harbour Coffee\./);
    assert.ok(!/unsubscribe/i.test(res.body.html) && !/unsubscribe/i.test(res.body.text));
  });

  test('a draft with bad Liquid is a 400 naming the field; an escaped name stays escaped', async () => {
    const t = await app.newTenant();
    const bad = await t.api('POST', '/v1/messaging/templates/win_back/bg/preview', { body: { text: '{% for x in %}' } });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field), ['text']);
    const xss = await t.api('POST', '/v1/messaging/templates/win_back/bg/preview', { body: { variables: { member: { name: '<script>alert(1)</script>' } } } });
    assert.equal(xss.status, 200, xss.text);
    assert.ok(!xss.body.html.includes('<script>') && xss.body.html.includes('&lt;script&gt;'));
  });
});
