/**
 * The response page over real HTTP and PostgreSQL: language choice, headers, the form's round trip (problems, the
 * redirect, the thank-you page, editing within the window), the error pages, the public link and its embed, the
 * body cap, and the templates (each one a valid survey that renders in every language).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../../test/helpers.js';
import type { SurveysService } from '../surveys.service.js';
import { SURVEY_TEMPLATES } from '../surveys.templates.js';
import type { SurveyDefinition } from '../surveys.types.js';
import { FORM_LIMIT } from './page.routes.js';

let app: TestApp;
let surveys: SurveysService;
before(async () => {
  app = await startTestApp();
  app.clock.set('2031-03-01T10:00:00Z');
  const s = app.patron.services;
  surveys = s.surveys;
});
after(() => app.close());

const NPS: SurveyDefinition = {
  title: { en: 'Quick question', bg: 'Бърз въпрос', pl: 'Szybkie pytanie' },
  thank_you: { en: 'Thanks a lot', bg: 'Много благодарим', pl: 'Wielkie dzięki' },
  questions: [
    { key: 'nps', type: 'nps' },
    { key: 'why', type: 'text', text: { en: 'Why?', bg: 'Защо?', pl: 'Dlaczego?' }, max_length: 200, show_if: { question: 'nps', band_in: ['detractor'] } },
  ],
};

async function liveSurvey(t: TestTenant, def: SurveyDefinition, opts: { public_link?: boolean } = {}): Promise<string> {
  return app.patron.db.tx(async (tx) => {
    const s = await surveys.create(tx, t.id, { name: 'Page test', touchpoint: 'purchase', default_language: 'en', definition: def as never, public_link: opts.public_link ?? false });
    await surveys.publish(tx, t.id, s.id);
    return s.id;
  });
}

async function invite(t: TestTenant, surveyId: string, locale: string): Promise<{ path: string; memberId: string; invitationId: string }> {
  const m = await t.api('POST', '/v1/members', { body: { first_name: 'Ana', locale } });
  assert.equal(m.status, 201, m.text);
  const inv = await app.patron.db.tx((tx) => surveys.invite(tx, t.id, surveyId, { member_id: m.body.id }));
  return { path: new URL(inv.url!).pathname, memberId: m.body.id, invitationId: inv.id };
}

async function page(path: string, opts: { method?: string; form?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(app.url + path, {
    method: opts.method ?? 'GET', redirect: 'manual',
    headers: { ...(opts.form !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...(opts.headers ?? {}) },
    body: opts.form,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const answersOf = async (tenantId: string, invitationId: string) =>
  (await app.patron.db.query(
    `SELECT a.question_key, a.value_number, a.value_text, a.band, a.language, r.channel FROM survey_answers a JOIN survey_responses r ON r.tenant_id = a.tenant_id AND r.id = a.response_id
      WHERE r.tenant_id = $1 AND r.invitation_id = $2 ORDER BY a.question_key`, [tenantId, invitationId])).rows;

describe('an invitation', () => {
  test('in the member\'s language, with safe headers; problems shown; answers stored; thanks; edit within the window; then answered', async () => {
    const t = await app.newTenant();
    const surveyId = await liveSurvey(t, NPS);
    const { path, invitationId } = await invite(t, surveyId, 'bg');

    const shown = await page(path, { headers: { 'accept-language': 'pl,en;q=0.5' } });
    assert.equal(shown.status, 200);
    assert.match(shown.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
    assert.match(shown.text, /<html lang="bg">/, 'the member\'s language wins over the browser\'s');
    assert.match(shown.text, /Колко вероятно е да ни препоръчате/);
    const csp = shown.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-[A-Za-z0-9+/=]+'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /form-action 'self'/);
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
    assert.ok(shown.text.includes(`<script nonce="${nonce}">`));
    assert.equal(shown.headers.get('cache-control'), 'no-store');
    assert.equal(shown.headers.get('referrer-policy'), 'no-referrer');
    assert.doesNotMatch(shown.text, /<nav/, 'no language switcher on an invitation');

    // A detractor who does not say why: fine (optional); a score out of range: a problem, shown in Bulgarian.
    const bad = await page(path, { method: 'POST', form: 'nps=11' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /role="alert"/);
    assert.match(bad.text, /Моля, изберете един от вариантите\./);
    assert.equal((await answersOf(t.id, invitationId)).length, 0, 'nothing stored');

    // A promoter who also typed a "why" (visible without JavaScript): the hidden question's answer is dropped.
    const sent = await page(`${path}?lang=bg`, { method: 'POST', form: 'nps=10&why=%D0%BC%D0%BD%D0%BE%D0%B3%D0%BE' });
    assert.equal(sent.status, 303, sent.text);
    assert.equal(sent.headers.get('location'), `${path}/thanks?lang=bg`);
    assert.deepEqual(await answersOf(t.id, invitationId), [{ question_key: 'nps', value_number: 10, value_text: null, band: 'promoter', language: 'bg', channel: 'invitation' }]);

    const thanks = await page(`${path}/thanks?lang=bg`);
    assert.equal(thanks.status, 200);
    assert.match(thanks.text, /<h1>Благодарим ви!<\/h1>/);
    assert.match(thanks.text, /Много благодарим/);
    assert.match(thanks.text, /Промяна на отговорите/, 'the edit link while the window is open');

    // Within the edit window: the earlier answers pre-filled; a change replaces them.
    const again = await page(path);
    assert.equal(again.status, 200);
    assert.match(again.text, /value="10" checked/);
    assert.match(again.text, /class="editing"/);
    assert.equal((await page(path, { method: 'POST', form: 'nps=3&why=%D0%B1%D0%B0%D0%B2%D0%BD%D0%BE' })).status, 303);
    assert.deepEqual((await answersOf(t.id, invitationId)).map((a) => [a.question_key, a.value_number ?? a.value_text, a.band]), [['nps', 3, 'detractor'], ['why', 'бавно', null]]);

    // After the window: a page saying so (and the thank-you page without the edit link).
    app.clock.advance(31 * 60_000);
    const late = await page(path);
    assert.equal(late.status, 409);
    assert.match(late.text, /<html lang="en">/);
    assert.match(late.text, /already answered/);
    const lateBg = await page(path, { headers: { 'accept-language': 'bg-BG' } });
    assert.match(lateBg.text, /Вече сте отговорили/);
    const lateThanks = await page(`${path}/thanks?lang=bg`);
    assert.equal(lateThanks.status, 200);
    assert.doesNotMatch(lateThanks.text, /Промяна на отговорите/);
    assert.equal((await page(path, { method: 'POST', form: 'nps=5' })).status, 409);
    app.clock.set('2031-03-01T10:00:00Z');
  });

  test('expired, unknown and tampered links are friendly pages in the browser\'s language', async () => {
    const t = await app.newTenant();
    const surveyId = await liveSurvey(t, NPS);
    const { path } = await invite(t, surveyId, 'pl');
    const unknown = await page('/s/not-a-token', { headers: { 'accept-language': 'ru-RU,ru;q=0.9' } });
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /<html lang="ru">/);
    assert.match(unknown.text, /Опрос не найден/);
    const tampered = await page(path.slice(0, -2) + (path.endsWith('AA') ? 'BB' : 'AA'));
    assert.equal(tampered.status, 404);
    app.clock.advance(15 * 86_400_000);
    const expired = await page(path, { headers: { 'accept-language': 'pl' } });
    assert.equal(expired.status, 410);
    assert.match(expired.text, /Link do ankiety wygasł/);
    assert.equal((await page(path, { method: 'POST', form: 'nps=9' })).status, 410);
    app.clock.set('2031-03-01T10:00:00Z');
  });
});

describe('review 6 on the page', () => {
  test('an invitation page is never framed, even with ?embed=1 (C5)', async () => {
    const t = await app.newTenant();
    const { path } = await invite(t, await liveSurvey(t, NPS), 'en');
    const res = await page(`${path}?embed=1`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.doesNotMatch(res.text, /<body class="embed">/);
  });

  test('a NUL character in an answer is a 422 form page naming the question, not a 500 (B6)', async () => {
    const t = await app.newTenant();
    const { path, invitationId } = await invite(t, await liveSurvey(t, NPS), 'en');
    const res = await page(path, { method: 'POST', form: 'nps=3&why=a%00b' });
    assert.equal(res.status, 422, res.text);
    assert.match(res.text, /Please remove the unsupported character from your answer\./);
    assert.deepEqual(await answersOf(t.id, invitationId), []);
  });

  test('an optional question keyed constructor may be left blank (B5)', async () => {
    const t = await app.newTenant();
    const def: SurveyDefinition = { questions: [{ key: 'nps', type: 'nps' }, { key: 'constructor', type: 'text', text: { en: 'Anything else?' } }] };
    const { path, invitationId } = await invite(t, await liveSurvey(t, def), 'en');
    const res = await page(path, { method: 'POST', form: 'nps=9' });
    assert.equal(res.status, 303, res.text);
    assert.deepEqual((await answersOf(t.id, invitationId)).map((a: any) => [a.question_key, a.value_number]), [['nps', 9]]);
  });

  test('after the member is erased their link is over: a 410 page, nothing stored (B2)', async () => {
    const t = await app.newTenant();
    const { path, memberId, invitationId } = await invite(t, await liveSurvey(t, NPS), 'en');
    assert.equal((await t.api('POST', `/v1/members/${memberId}/erase`)).status, 200);
    assert.equal((await page(path)).status, 410);
    assert.equal((await page(path, { method: 'POST', form: 'nps=1&why=call+me+555-1234' })).status, 410);
    assert.deepEqual(await answersOf(t.id, invitationId), []);
    assert.equal((await t.api('GET', `/v1/survey-invitations/${invitationId}`)).body.status, 'expired');
  });

  test('a blocked member\'s link is a 410 page (B2)', async () => {
    const t = await app.newTenant();
    const { path, memberId } = await invite(t, await liveSurvey(t, NPS), 'en');
    const blocked = await t.api('POST', `/v1/members/${memberId}/block`, { body: { reason: 'fraud' } });
    assert.ok(blocked.status < 300, blocked.text);
    assert.equal((await page(path)).status, 410);
  });
});

describe('the public link', () => {
  test('the browser\'s language, ?lang=, a switcher; anonymous answers; the embed may be framed; closed is 410', async () => {
    const t = await app.newTenant();
    const surveyId = await liveSurvey(t, NPS, { public_link: true });
    const path = `/s/p/${t.id}/${surveyId}`;
    const pl = await page(path, { headers: { 'accept-language': 'de-DE,pl;q=0.8,en;q=0.5' } });
    assert.equal(pl.status, 200);
    assert.match(pl.text, /<html lang="pl">/);
    assert.match(pl.text, /Szybkie pytanie/);
    assert.match(pl.text, /<nav aria-label="Język"><ul class="langs"><li><a href="[^"]+\?lang=en" lang="en"/);
    assert.doesNotMatch(pl.text, /lang=ro/, 'only languages the survey has every text in');
    const ro = await page(`${path}?lang=ro`, { headers: { 'accept-language': 'pl' } });
    assert.match(ro.text, /<html lang="pl">/, 'a language the survey lacks is not offered');
    const en = await page(`${path}?lang=en&utm_source=shop`, { headers: { 'accept-language': 'pl' } });
    assert.match(en.text, /<html lang="en">/);

    const sent = await page(`${path}?lang=pl`, { method: 'POST', form: 'nps=2&why=za+drogo' });
    assert.equal(sent.status, 303);
    assert.equal(sent.headers.get('location'), `${path}/thanks?lang=pl`);
    const thanks = await page(sent.headers.get('location')!);
    assert.match(thanks.text, /Wielkie dzięki/);
    const rows = (await app.patron.db.query(`SELECT channel, language, member_id FROM survey_responses WHERE tenant_id = $1 AND survey_id = $2`, [t.id, surveyId])).rows;
    assert.deepEqual(rows, [{ channel: 'public_link', language: 'pl', member_id: null }]);

    const embed = await page(`${path}?embed=1`);
    assert.match(embed.headers.get('content-security-policy') ?? '', /frame-ancestors \*/);
    assert.equal(embed.headers.get('x-frame-options'), null);
    assert.match(embed.text, /<body class="embed">/);
    assert.match(embed.text, /action="[^"]*embed=1"/);
    assert.equal((await page(`${path}?embed=1`, { method: 'POST', form: 'nps=9' })).headers.get('location'), `${path}/thanks?lang=en&embed=1`);
    const channels = (await app.patron.db.query(`SELECT channel FROM survey_responses WHERE tenant_id = $1 AND survey_id = $2 ORDER BY channel`, [t.id, surveyId])).rows.map((r) => r.channel);
    assert.deepEqual(channels, ['embed', 'public_link']);

    await app.patron.db.tx((tx) => surveys.close(tx, t.id, surveyId));
    const closed = await page(path, { headers: { 'accept-language': 'bg' } });
    assert.equal(closed.status, 410);
    assert.match(closed.text, /Анкетата е затворена/);
  });

  test('a survey without a public link, another tenant\'s id, a malformed id: 404 pages; a huge body: 413; JSON: 415', async () => {
    const t = await app.newTenant();
    const other = await app.newTenant();
    const privateId = await liveSurvey(t, NPS);
    const publicId = await liveSurvey(t, NPS, { public_link: true });
    assert.equal((await page(`/s/p/${t.id}/${privateId}`)).status, 404);
    assert.equal((await page(`/s/p/${other.id}/${publicId}`)).status, 404, 'the survey is looked up in the tenant the link names');
    const malformed = await page(`/s/p/nope/${publicId}`);
    assert.equal(malformed.status, 404);
    assert.match(malformed.headers.get('content-type') ?? '', /text\/html/);
    const huge = await page(`/s/p/${t.id}/${publicId}`, { method: 'POST', form: `why=${'x'.repeat(FORM_LIMIT + 10)}` });
    assert.equal(huge.status, 413);
    assert.match(huge.headers.get('content-type') ?? '', /text\/html/);
    const json = await page(`/s/p/${t.id}/${publicId}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, form: 'nps=1' });
    assert.equal(json.status, 415);
    assert.equal((await app.patron.db.query(`SELECT count(*)::int AS n FROM survey_responses WHERE tenant_id = $1`, [t.id])).rows[0].n, 0);
  });

  test('answers from one address are limited when rate limits are on', async () => {
    const limited = await startTestApp({ env: { RATE_LIMIT_ENABLED: 'true' } });
    try {
      const res: number[] = [];
      for (let i = 0; i < 32; i++) res.push((await fetch(`${limited.url}/s/p/${crypto.randomUUID()}/${crypto.randomUUID()}`, { method: 'POST', body: 'nps=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status);
      assert.deepEqual([...new Set(res.slice(0, 30))], [404]);
      assert.equal(res[31], 429);
      const limitedPage = await fetch(`${limited.url}/s/p/${crypto.randomUUID()}/${crypto.randomUUID()}`, { method: 'POST', body: 'nps=1', headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'ro' } });
      assert.equal(limitedPage.status, 429);
      assert.ok(Number(limitedPage.headers.get('retry-after')) >= 1);
      assert.match(await limitedPage.text(), /Prea multe încercări/);
      assert.equal((await fetch(`${limited.url}/s/p/${crypto.randomUUID()}/${crypto.randomUUID()}`)).status, 404, 'showing a survey is not limited by answering');
    } finally {
      await limited.close();
    }
  });
});

describe('templates', () => {
  test('GET /v1/survey-templates lists the five; each is a valid survey that renders in every language', async () => {
    const t = await app.newTenant();
    const res = await t.api('GET', '/v1/survey-templates');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.data.map((x: { key: string }) => x.key), ['relationship_nps', 'post_purchase_csat', 'ces_after_support', 'csi_cli', 'case_follow_up']);
    assert.deepEqual(res.body.data, JSON.parse(JSON.stringify(SURVEY_TEMPLATES)));
    for (const tpl of res.body.data) {
      // As the docs say: the template's fields, sent to POST /v1/surveys, make a draft.
      const made = await t.api('POST', '/v1/surveys', { body: { name: tpl.name, touchpoint: tpl.touchpoint, trigger: tpl.trigger, default_language: tpl.default_language, definition: tpl.definition, public_link: true } });
      assert.equal(made.status, 201, `${tpl.key}: ${made.text}`);
      const id = made.body.id;
      assert.equal((await t.api('POST', `/v1/surveys/${id}/publish`)).status, 200);
      const links = await t.api('GET', `/v1/surveys/${id}/links`);
      assert.equal(new URL(links.body.public_url).pathname, `/s/p/${t.id}/${id}`, 'the links the API hands out are the page\'s');
      for (const lang of ['en', 'bg', 'ru', 'ro', 'pl']) {
        const p = await page(`/s/p/${t.id}/${id}?lang=${lang}`);
        assert.equal(p.status, 200, `${tpl.key} ${lang}`);
        assert.match(p.text, new RegExp(`<html lang="${lang}">`), `${tpl.key} in ${lang}`);
        assert.ok(Buffer.byteLength(p.text) < 50_000);
      }
    }
  });
});
