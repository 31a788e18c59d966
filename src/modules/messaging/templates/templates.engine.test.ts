/** The template engine, the layout and the shipped defaults, without a database. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LOCALES, type Locale } from '../../../platform/http/schema.js';
import { TRIGGER_CATEGORY, TRIGGERS } from '../messaging.types.js';
import { defaultTemplate } from './templates.defaults.js';
import { checkTemplate, formatDate, formatNumber, renderTemplate } from './templates.engine.js';
import { sampleVariables, triggerVariables } from './templates.variables.js';

const render = (src: string, locale: Locale, variables: Record<string, unknown> = {}) =>
  renderTemplate({ subject: src, html: src, text: src }, locale, variables as never, { category: 'transactional' });

/** `{{ n | plural: … }}` in a subject (plain text, one line). */
async function plural(locale: Locale, n: number, forms: string): Promise<string> {
  return (await render(`{{ n | plural: ${forms} }}`, locale, { n })).subject;
}

const RU = 'one: "# балл", few: "# балла", many: "# баллов", other: "# балла"';
const PL = 'one: "# punkt", few: "# punkty", many: "# punktów", other: "# punktu"';
const RO = 'one: "# punct", few: "# puncte", other: "# de puncte"';

describe('plural', () => {
  test('Russian: one / few / many', async () => {
    const expected: Record<number, string> = { 1: '1 балл', 2: '2 балла', 5: '5 баллов', 11: '11 баллов', 21: '21 балл', 22: '22 балла', 25: '25 баллов' };
    for (const [n, s] of Object.entries(expected)) assert.equal(await plural('ru', Number(n), RU), s, `ru ${n}`);
    assert.equal(await plural('ru', 1250, RU), '1\u00a0250 баллов', 'the number is grouped like `number`');
    assert.match((await render('{{ n | plural: ' + RU + ' }}', 'ru', { n: 1250 })).text, /^1\u00a0250 баллов\n/);
  });

  test('Polish: one / few / many (21 is many, 22 few)', async () => {
    const expected: Record<number, string> = { 1: '1 punkt', 2: '2 punkty', 5: '5 punktów', 11: '11 punktów', 21: '21 punktów', 22: '22 punkty', 25: '25 punktów' };
    for (const [n, s] of Object.entries(expected)) assert.equal(await plural('pl', Number(n), PL), s, `pl ${n}`);
  });

  test('Romanian: one / few / other ("20 de puncte")', async () => {
    assert.equal(await plural('ro', 1, RO), '1 punct');
    assert.equal(await plural('ro', 2, RO), '2 puncte');
    assert.equal(await plural('ro', 19, RO), '19 puncte');
    assert.equal(await plural('ro', 20, RO), '20 de puncte');
  });

  test('English and Bulgarian: one / other', async () => {
    assert.equal(await plural('en', 1, 'one: "# point", other: "# points"'), '1 point');
    assert.equal(await plural('en', 2, 'one: "# point", other: "# points"'), '2 points');
    assert.equal(await plural('bg', 1, 'one: "# точка", other: "# точки"'), '1 точка');
    assert.equal(await plural('bg', 2, 'one: "# точка", other: "# точки"'), '2 точки');
  });

  test('a missing form falls back to other; a form without # is the word alone', async () => {
    assert.equal(await plural('ru', 5, 'one: "# балл", other: "# балла"'), '5 балла');
    assert.equal(await plural('en', 3, 'one: "point", other: "points"'), 'points');
    assert.equal(await plural('en', 1, 'one: "point", other: "points"'), 'point');
  });
});

describe('number and date', () => {
  test('numbers are grouped per language (a no-break space where the language groups with a space)', () => {
    assert.equal(formatNumber('en', 12500), '12,500');
    assert.equal(formatNumber('ru', 12500), '12\u00a0500');
    assert.equal(formatNumber('pl', 12500), '12\u00a0500');
    assert.equal(formatNumber('ro', 12500), '12.500');
    assert.equal(formatNumber('bg', 12500), '12\u00a0500');
  });

  test('YYYY-MM-DD in the long form of each language', () => {
    assert.equal(formatDate('en', '2027-03-12'), '12 March 2027');
    assert.equal(formatDate('ru', '2027-03-12'), '12 марта 2027 г.');
    assert.equal(formatDate('bg', '2027-03-12'), '12 март 2027 г.');
    assert.equal(formatDate('ro', '2027-03-12'), '12 martie 2027');
    assert.equal(formatDate('pl', '2027-03-12'), '12 marca 2027');
    assert.equal(formatDate('en', ''), '');
    assert.equal(formatDate('en', 'soon'), 'soon');
  });

  test("with a format, `date` is Liquid's strftime", async () => {
    assert.equal((await render('{{ d | date: "%d.%m.%Y" }} / {{ d | date }}', 'pl', { d: '2027-03-12' })).subject, '12.03.2027 / 12 marca 2027');
  });

  test('a sentence ending in a ru/bg date gets one full stop, not two', async () => {
    const r = await render('До {{ d | date }}.', 'ru', { d: '2027-03-12' });
    assert.equal(r.subject, 'До 12 марта 2027 г.');
    assert.match(r.text, /^До 12 марта 2027 г\.\n/);
  });
});

describe('escaping and safety', () => {
  test('HTML output escapes variables; the text part and the subject do not', async () => {
    const r = await renderTemplate(
      { subject: 'Hi {{ member.name }}', html: '<p>Hi {{ member.name }}</p>', text: 'Hi {{ member.name }}' },
      'en', { member: { name: '<script>alert(1)</script>' } } as never, { category: 'transactional' },
    );
    assert.ok(r.html.includes('<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;</p>'), r.html);
    assert.ok(!r.html.includes('<script>'));
    assert.equal(r.subject, 'Hi <script>alert(1)</script>');
    assert.match(r.text, /^Hi <script>alert\(1\)<\/script>\n/);
  });

  test('a member name is escaped in every default too, in every language', async () => {
    for (const locale of LOCALES) {
      const v = sampleVariables('birthday', locale);
      v.member.name = '<b onmouseover=x>';
      const r = await renderTemplate(defaultTemplate('birthday', locale), locale, v, { category: 'marketing' });
      assert.ok(r.html.includes('&lt;b onmouseover=x&gt;') && !r.html.includes('<b onmouseover'), locale);
    }
  });

  test('include, render and layout are refused; unknown filters and broken tags are named per field', () => {
    assert.deepEqual(checkTemplate({ subject: 'ok', html: '{% include "package.json" %}', text: 'fine' }).map((e) => e.field), ['html']);
    assert.match(checkTemplate({ html: '{% render "x" %}' })[0]!.detail, /render.*not available/);
    assert.match(checkTemplate({ text: '{% layout "x" %}' })[0]!.detail, /layout.*not available/);
    const errs = checkTemplate({ subject: '{{ n | nosuchfilter }}', html: '{% if x %}open', text: '{{ ok }}' });
    assert.deepEqual(errs.map((e) => e.field), ['subject', 'html']);
    assert.match(errs[0]!.detail, /undefined filter: nosuchfilter/);
    assert.match(errs[1]!.detail, /not closed/);
  });

  test('missing variables render empty', async () => {
    assert.equal((await render('[{{ nothing.here }}]', 'en')).subject, '[]');
  });
});

describe('the shipped defaults', () => {
  test('every trigger in every language renders with its sample variables: a full document, no leftover Liquid', async () => {
    for (const trigger of TRIGGERS) {
      for (const locale of LOCALES) {
        const what = `${trigger} ${locale}`;
        const src = defaultTemplate(trigger, locale);
        assert.deepEqual(checkTemplate(src, locale), [], what);
        const r = await renderTemplate(src, locale, sampleVariables(trigger, locale), { category: TRIGGER_CATEGORY[trigger] });
        assert.ok(r.subject.length > 3 && !r.subject.includes('\n'), `${what}: subject ${JSON.stringify(r.subject)}`);
        assert.ok(r.text.trim().length > 50, `${what}: text`);
        for (const part of [r.subject, r.html, r.text]) {
          assert.ok(!/{{|}}|{%|%}/.test(part), `${what}: leftover Liquid in ${part.slice(0, 200)}`);
          assert.ok(!/\.\.(?!\.)|г\.\./.test(part.replace(/\.\.\./g, '')), `${what}: a double full stop`);
        }
        assert.match(r.html, new RegExp(`^<!DOCTYPE html>\\n<html lang="${locale}"`), what);
        assert.match(r.html, /<\/html>\n$/, what);
        assert.ok(r.html.includes(sampleVariables(trigger, locale).program.name.replace(/«|»/g, (c) => c)), `${what}: the program's name`);
      }
    }
  });

  test('each default uses what its trigger fills: code, link, reply, points, dates', async () => {
    const en = async (trigger: (typeof TRIGGERS)[number]) =>
      renderTemplate(defaultTemplate(trigger, 'en'), 'en', sampleVariables(trigger, 'en'), { category: TRIGGER_CATEGORY[trigger] });
    assert.equal((await en('points_expiring')).subject, '250 points expire on 12 March 2027');
    assert.match((await en('reward_issued')).html, /CAFE-9X4M/);
    assert.match((await en('reward_issued')).text, /valid until 30 April 2027/);
    const survey = await en('survey_invitation');
    assert.match(survey.html, /<a class="button" href="https:\/\/example\.com\/s\/7f3a9c"/);
    assert.match(survey.text, /Take the survey:\nhttps:\/\/example\.com\/s\/7f3a9c/);
    const reply = await en('case_reply');
    assert.match(reply.html, /Thank you for letting us know\.<br \/>\nWe have refunded/, 'line breaks of the reply are kept in HTML');
    assert.match((await en('tier_at_risk')).text, /just €40\.00 more by 31 March 2027/);
    assert.match((await en('referral_converted')).subject, /^Oliver joined thanks to you$/);
    assert.match((await en('webhook_endpoint_disabled')).text, /failed since 7 March 2027 at 14:05 UTC/);
  });

  test('Russian and Polish defaults agree with the number', async () => {
    for (const [n, ru, pl] of [[1, '1 балл сгорит', '1 punkt wygasa'], [3, '3 балла сгорят', '3 punkty wygasają'], [250, '250 баллов сгорят', '250 punktów wygasa']] as const) {
      const vr = sampleVariables('points_expiring', 'ru');
      vr.points!.expiring = n;
      assert.ok((await renderTemplate(defaultTemplate('points_expiring', 'ru'), 'ru', vr, { category: 'transactional' })).subject.startsWith(ru), `ru ${n}`);
      const vp = sampleVariables('points_expiring', 'pl');
      vp.points!.expiring = n;
      assert.ok((await renderTemplate(defaultTemplate('points_expiring', 'pl'), 'pl', vp, { category: 'transactional' })).subject.startsWith(pl), `pl ${n}`);
    }
  });

  test('without a name the greeting is still a greeting, and optional blocks drop out cleanly', async () => {
    const v = sampleVariables('birthday', 'en');
    v.member = { first_name: null, last_name: null, name: '', email: null };
    v.offer = null;
    v.links.portal = null;
    const r = await renderTemplate(defaultTemplate('birthday', 'en'), 'en', v, { category: 'marketing' });
    assert.equal(r.subject, 'Happy birthday!');
    assert.match(r.text, /^Hello,\n\nEveryone at Harbour Coffee wishes you/);
    assert.ok(!/bonus|gift|Open my account/.test(r.text), r.text);
    assert.ok(!r.html.includes('class="button"'), 'no button without a link');
    assert.ok(!/\n{3,}/.test(r.text), 'no runs of blank lines');
    const ru = sampleVariables('win_back', 'ru');
    ru.member.name = '';
    assert.equal((await renderTemplate(defaultTemplate('win_back', 'ru'), 'ru', ru, { category: 'marketing' })).subject, 'Мы скучаем по вам');
  });

  test('every variable a default uses is one its trigger offers', () => {
    for (const trigger of TRIGGERS) {
      const offered = new Set(triggerVariables(trigger).map((v) => v.name));
      for (const locale of LOCALES) {
        const src = defaultTemplate(trigger, locale);
        const used = [...`${src.subject}${src.html}${src.text}`.matchAll(/\b(member|program|points|tier|reward|referral|survey|case|offer|endpoint|links)\.([a-z_]+)/g)].map((m) => `${m[1]}.${m[2]}`);
        for (const u of used) assert.ok(offered.has(u), `${trigger} ${locale} uses ${u}, which the trigger does not offer`);
      }
    }
  });
});

describe('the layout', () => {
  test('marketing carries the unsubscribe link in both parts, worded per language; transactional has none', async () => {
    const words: Record<Locale, string> = { en: 'Unsubscribe', bg: 'Отпишете се', ru: 'Отписаться', ro: 'Dezabonați-vă', pl: 'Wypisz się' };
    for (const locale of LOCALES) {
      const v = sampleVariables('win_back', locale);
      const m = await renderTemplate(defaultTemplate('win_back', locale), locale, v, { category: 'marketing' });
      const link = v.links.unsubscribe!;
      assert.ok(m.html.includes(`href="${link}"`) && m.html.includes(words[locale]), `${locale} html`);
      assert.ok(m.text.includes(`${words[locale]}`) && m.text.includes(link), `${locale} text`);
      const t = await renderTemplate(defaultTemplate('reward_issued', locale), locale, { ...sampleVariables('reward_issued', locale), links: { unsubscribe: link, portal: null } }, { category: 'transactional' });
      assert.ok(!t.html.includes(link) && !t.text.includes(link) && !t.html.includes(words[locale]), `${locale}: transactional has no unsubscribe`);
    }
  });

  test('responsive frame: 600 px table, media query, preheader, the program in the header, the title', async () => {
    const r = await renderTemplate(defaultTemplate('reward_issued', 'en'), 'en', sampleVariables('reward_issued', 'en'), { category: 'transactional' });
    assert.match(r.html, /<meta name="viewport" content="width=device-width,initial-scale=1">/);
    assert.match(r.html, /max-width:600px/);
    assert.match(r.html, /@media only screen and \(max-width:620px\)/);
    assert.match(r.html, /<title>Your reward is ready: Free coffee of your choice<\/title>/);
    assert.match(r.html, /mso-hide:all">Good news: Free coffee of your choice is yours\./, 'the preheader is the first line after the greeting');
    assert.match(r.html, /font-weight:700;color:#111827">Harbour Coffee<\/td>/);
  });

  test("the operators' message says who it went to and has no member links", async () => {
    const v = sampleVariables('webhook_endpoint_disabled', 'en');
    const r = await renderTemplate(defaultTemplate('webhook_endpoint_disabled', 'en'), 'en', { ...v, links: { portal: 'https://example.com/account', unsubscribe: null } }, { category: 'transactional', audience: 'operator' });
    assert.match(r.text, /notification address of Harbour Coffee in Patron/);
    assert.ok(!r.text.includes('Your account'));
  });
});
