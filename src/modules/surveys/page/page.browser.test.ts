/**
 * The response page in real Chromium (playwright-core, the system's /usr/bin/chromium): a Bulgarian member answers
 * an NPS survey as a detractor with the KEYBOARD only (Tab, Space, arrows, Enter) and says why; a Polish member
 * answers as a promoter with taps on a phone-sized screen, and the "why" question stays hidden. The stored answers
 * (values, bands, language) are read back from the database; no request leaves loopback; the page is under 50 KB.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { startTestApp, type TestApp, type TestTenant } from '../../../../test/helpers.js';
import type { SurveysService } from '../surveys.service.js';
import type { SurveyDefinition } from '../surveys.types.js';

const CHROMIUM = '/usr/bin/chromium';
const missing = fs.existsSync(CHROMIUM) ? null : `Chromium is not installed at ${CHROMIUM}: the browser test needs it (apt-get install chromium).`;
// A developer machine without Chromium skips (and says why); CI must not pass while testing none of the page's
// accessibility claims, so there a missing Chromium fails.
const skip = missing ?? false;
if (missing !== null && process.env.CI === 'true') {
  test('Chromium is installed (CI=true)', () => assert.fail(missing));
}

const NPS: SurveyDefinition = {
  title: { en: 'Your opinion', bg: 'Вашето мнение', pl: 'Twoja opinia' },
  questions: [
    { key: 'nps', type: 'nps' },
    {
      key: 'why', type: 'text', max_length: 500, show_if: { question: 'nps', band_in: ['detractor'] },
      text: { en: 'What should we improve?', bg: 'Какво да подобрим?', pl: 'Co powinniśmy poprawić?' },
    },
  ],
};

let app: TestApp;
let browser: Browser;
let surveys: SurveysService;
let t: TestTenant;
let surveyId: string;

before(async () => {
  if (skip) return;
  app = await startTestApp();
  app.clock.set('2031-05-01T09:00:00Z');
  const s = app.patron.services;
  surveys = s.surveys;
  t = await app.newTenant();
  surveyId = await app.patron.db.tx(async (tx) => {
    const made = await surveys.create(tx, t.id, { name: 'Browser NPS', touchpoint: 'purchase', default_language: 'en', definition: NPS as never });
    await surveys.publish(tx, t.id, made.id);
    return made.id;
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});
after(async () => {
  await browser?.close();
  await app?.close();
});

async function invitation(locale: string): Promise<{ url: string; invitationId: string }> {
  const m = await t.api('POST', '/v1/members', { body: { first_name: 'Member', locale } });
  assert.equal(m.status, 201, m.text);
  const inv = await app.patron.db.tx((tx) => surveys.invite(tx, t.id, surveyId, { member_id: m.body.id }));
  return { url: inv.url!, invitationId: inv.id };
}

/** A page that records every request it makes and the bytes each document response took on the wire. */
async function openRecorded(opts: { locale: string; phone?: boolean }): Promise<{ page: Page; requests: string[]; documents: Request[] }> {
  const context = await browser.newContext({
    locale: opts.locale,
    ...(opts.phone ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await context.newPage();
  const requests: string[] = [];
  const documents: Request[] = [];
  page.on('request', (r) => {
    requests.push(r.url());
    if (r.resourceType() === 'document') documents.push(r);
  });
  return { page, requests, documents };
}

async function transferred(r: Request): Promise<number> {
  const sizes = await r.sizes();
  return sizes.responseHeadersSize + sizes.responseBodySize;
}

const storedAnswers = async (invitationId: string) =>
  (await app.patron.db.query(
    `SELECT a.question_key, a.value_number, a.value_text, a.band, a.language, r.channel
       FROM survey_answers a JOIN survey_responses r ON r.tenant_id = a.tenant_id AND r.id = a.response_id
      WHERE r.tenant_id = $1 AND r.invitation_id = $2 ORDER BY a.question_key`, [t.id, invitationId])).rows;

describe('the response page in Chromium', { skip }, () => {
  test('a Bulgarian detractor answers with the keyboard only', async () => {
    const { url, invitationId } = await invitation('bg');
    // The browser asks for English: the invitation still speaks the member's language.
    const { page, requests, documents } = await openRecorded({ locale: 'en-US' });
    await page.goto(url);
    assert.equal(await page.getAttribute('html', 'lang'), 'bg');
    assert.match(await page.locator('#q-nps legend').innerText(), /Колко вероятно е да ни препоръчате на приятел или колега\?/);
    assert.match(await page.locator('#q-nps legend').innerText(), /задължително/, 'required is said in words');
    assert.match(await page.locator('.ends').innerText(), /0 — Изобщо не е вероятно[\s\S]*10 — Изключително вероятно/);
    assert.equal(await page.locator('#q-why').isHidden(), true, 'the "why" question waits for a detractor\'s score');

    // Tab into the radio group, Space picks 0, two arrows move the choice to 2.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name), 'nps');
    const outline = await page.evaluate(() => getComputedStyle((document.activeElement as HTMLElement).nextElementSibling!).outlineStyle);
    assert.equal(outline, 'solid', 'the focused scale point shows an outline');
    await page.keyboard.press('Space');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('input[name=nps]:checked').getAttribute('value'), '2');
    assert.equal(await page.locator('#q-why').isVisible(), true, 'a detractor is asked why');
    assert.match(await page.locator('label[for=f-why]').innerText(), /Какво да подобрим\?/);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-why');
    await page.keyboard.type('Доставката закъсня.');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'BUTTON');
    await Promise.all([page.waitForURL(/\/thanks/), page.keyboard.press('Enter')]);

    assert.equal(await page.getAttribute('html', 'lang'), 'bg');
    assert.equal(await page.locator('h1').innerText(), 'Благодарим ви!');
    assert.deepEqual(await storedAnswers(invitationId), [
      { question_key: 'nps', value_number: 2, value_text: null, band: 'detractor', language: 'bg', channel: 'invitation' },
      { question_key: 'why', value_number: null, value_text: 'Доставката закъсня.', band: null, language: 'bg', channel: 'invitation' },
    ]);

    const origin = new URL(app.url).origin;
    assert.deepEqual(requests.filter((r) => !r.startsWith(origin + '/')), [], 'no request left Patron on loopback');
    const size = await transferred(documents[0]!);
    assert.ok(size > 1000 && size < 50_000, `the survey page took ${size} bytes`);
    await page.context().close();
  });

  test('a Polish promoter answers by touch on a phone; the "why" question stays hidden', async () => {
    const { url, invitationId } = await invitation('pl');
    const { page, requests, documents } = await openRecorded({ locale: 'bg-BG', phone: true });
    await page.goto(url);
    assert.equal(await page.getAttribute('html', 'lang'), 'pl');
    assert.match(await page.locator('#q-nps legend').innerText(), /Jak bardzo prawdopodobne jest, że polecisz nas znajomemu lub współpracownikowi\?/);
    assert.match(await page.locator('.ends').innerText(), /0 — Bardzo mało prawdopodobne[\s\S]*10 — Bardzo prawdopodobne/);

    // Big enough to tap: every scale point and the button at least 44 px, and nothing wider than the screen.
    for (const box of await page.locator('.pt > span').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()))) {
      assert.ok(box.width >= 44 && box.height >= 44, `a scale point is ${box.width}×${box.height}`);
    }
    assert.ok((await page.locator('button').boundingBox())!.height >= 44);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling');

    await page.locator('label.pt', { hasText: /^9$/ }).tap();
    assert.equal(await page.locator('#q-why').isHidden(), true);
    await Promise.all([page.waitForURL(/\/thanks/), page.locator('button[type=submit]').tap()]);
    assert.equal(await page.getAttribute('html', 'lang'), 'pl');
    assert.equal(await page.locator('h1').innerText(), 'Dziękujemy!');
    assert.deepEqual(await storedAnswers(invitationId), [
      { question_key: 'nps', value_number: 9, value_text: null, band: 'promoter', language: 'pl', channel: 'invitation' },
    ]);

    const origin = new URL(app.url).origin;
    assert.deepEqual(requests.filter((r) => !r.startsWith(origin + '/')), [], 'no request left Patron on loopback');
    assert.ok((await transferred(documents[0]!)) < 50_000);
    await page.context().close();
  });

  test('without an answer, the error summary is announced and focused, and links to the question', async () => {
    const { url } = await invitation('pl');
    const { page } = await openRecorded({ locale: 'pl-PL' });
    await page.goto(url);
    await page.locator('button[type=submit]').click();
    await page.waitForSelector('#summary');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'summary');
    assert.equal(await page.getAttribute('#summary', 'role'), 'alert');
    assert.match(await page.locator('#summary').innerText(), /Sprawdź 1 odpowiedź[\s\S]*Odpowiedz na to pytanie\./);
    assert.equal(await page.getAttribute('#q-nps', 'aria-describedby'), 'e-nps');
    await page.locator('#summary a').click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-nps');
    await page.context().close();
  });
});
