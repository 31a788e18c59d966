/**
 * The response page's pure parts: language choice and text fallback, show_if, reading the form, the renderer's
 * accessibility promises, the colours' contrast, the size of the biggest template's page, and that every language
 * has every word.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LANGUAGES, type Language, type SurveyDefinition } from '../surveys.types.js';
import { SURVEY_TEMPLATES } from '../surveys.templates.js';
import { CLI_ITEM_WORDING, CSI_ITEM_WORDING, STANDARD_TYPES, STANDARD_WORDING } from '../surveys.wording.js';
import { formFields, readForm } from './page.form.js';
import { PAGE_STRINGS, pageT } from './page.i18n.js';
import { availableLanguages, negotiate, parseAcceptLanguage, pickLanguage, resolveText } from './page.language.js';
import { bandOf, matchingFormValues, shownQuestions, visibleAnswers } from './page.questions.js';
import { PALETTE, renderMessagePage, renderSurveyPage } from './page.render.js';

const NPS_WITH_WHY: SurveyDefinition = {
  title: { en: 'Tell us', bg: 'Кажете ни' },
  questions: [
    { key: 'nps', type: 'nps' },
    { key: 'why', type: 'text', text: { en: 'Why?', bg: 'Защо?' }, show_if: { question: 'nps', band_in: ['detractor'] } },
    { key: 'more', type: 'text', text: { en: 'More?', bg: 'Още?' }, show_if: { question: 'why', value_in: ['x'] } },
  ],
};

describe('language', () => {
  test('Accept-Language: by q-value, then order; q=0 and junk dropped', () => {
    assert.deepEqual(parseAcceptLanguage('en;q=0.5, bg-BG, pl;q=0.8, ru;q=0, ???'), [
      { range: 'bg-bg', q: 1 }, { range: 'pl', q: 0.8 }, { range: 'en', q: 0.5 },
    ]);
    assert.equal(negotiate('de-DE,de;q=0.9,pl;q=0.8,en;q=0.7', LANGUAGES), 'pl');
    assert.equal(negotiate('de, fr', LANGUAGES), null);
    assert.equal(negotiate(undefined, LANGUAGES), null);
    assert.equal(negotiate('ro-RO', ['en', 'bg']), null);
  });

  test('the page language: ?lang=, then the member, then the browser, then the survey default; only available ones', () => {
    const available: Language[] = ['en', 'bg', 'pl'];
    assert.equal(pickLanguage({ query: 'pl', member: 'bg', acceptLanguage: 'en', available, surveyDefault: 'en' }), 'pl');
    assert.equal(pickLanguage({ query: 'ro', member: 'bg', acceptLanguage: 'en', available, surveyDefault: 'en' }), 'bg', 'an unavailable ?lang= is ignored');
    assert.equal(pickLanguage({ query: 'xx', member: null, acceptLanguage: 'pl-PL,en;q=0.5', available, surveyDefault: 'en' }), 'pl');
    assert.equal(pickLanguage({ member: 'ru', acceptLanguage: 'ro, bg;q=0.3', available, surveyDefault: 'en' }), 'bg');
    assert.equal(pickLanguage({ member: 'ru', acceptLanguage: 'ro', available, surveyDefault: 'en' }), 'en');
  });

  test('text fallback: the language, the survey default, the built-in wording, any', () => {
    const builtIn = STANDARD_WORDING.nps.text;
    assert.equal(resolveText({ en: 'E', bg: 'B' }, 'bg', 'en', builtIn), 'B');
    assert.equal(resolveText({ en: 'E' }, 'bg', 'en', builtIn), 'E');
    assert.equal(resolveText(undefined, 'pl', 'en', builtIn), builtIn.pl);
    assert.equal(resolveText({ ro: 'R' }, 'pl', 'en'), 'R');
    assert.equal(resolveText(undefined, 'pl', 'en'), '');
  });

  test('a survey is offered in a language only when all of its texts exist in it (or are built in)', () => {
    assert.deepEqual(availableLanguages({ questions: [{ key: 'nps', type: 'nps' }, { key: 'ces', type: 'ces' }] }, 'en'), [...LANGUAGES]);
    assert.deepEqual(availableLanguages(NPS_WITH_WHY, 'en'), ['en', 'bg']);
    assert.deepEqual(availableLanguages(NPS_WITH_WHY, 'ro'), ['en', 'bg', 'ro'], 'the default language always');
    const ownNps: SurveyDefinition = { questions: [{ key: 'nps', type: 'nps', text: { en: 'Recommend Acme?' } }] };
    assert.deepEqual(availableLanguages(ownNps, 'en'), ['en'], 'an own wording overrides the built-in one');
    for (const tpl of SURVEY_TEMPLATES) assert.deepEqual(availableLanguages(tpl.definition, 'en'), [...LANGUAGES], `${tpl.key} in every language`);
  });
});

describe('show_if', () => {
  test('bands by scale (the service\'s rules, as the page uses them)', () => {
    assert.deepEqual([0, 6, 7, 8, 9, 10].map((v) => bandOf({ key: 'n', type: 'nps' }, v)), ['detractor', 'detractor', 'passive', 'passive', 'promoter', 'promoter']);
    assert.deepEqual([1, 3, 4, 5].map((v) => bandOf({ key: 'n', type: 'nps', scale: '1-5' }, v)), ['detractor', 'detractor', 'passive', 'promoter']);
    assert.deepEqual([1, 2, 3, 4, 5].map((v) => bandOf({ key: 'c', type: 'csat' }, v)), ['dissatisfied', 'dissatisfied', 'neutral', 'satisfied', 'satisfied']);
    assert.deepEqual([1, 3, 4, 5, 7].map((v) => bandOf({ key: 'c', type: 'ces' }, v)), ['high_effort', 'high_effort', 'neutral', 'low_effort', 'low_effort']);
    assert.deepEqual([4, 5].map((v) => bandOf({ key: 'c', type: 'csi' }, v)), ['other', 'positive']);
    assert.deepEqual([6, 7].map((v) => bandOf({ key: 'c', type: 'csi', scale_max: 7, top_box: 2 }, v)), ['positive', 'positive']);
  });

  test('a question is shown when the answer it depends on meets its condition, and chains hide with their first link', () => {
    assert.deepEqual([...shownQuestions(NPS_WITH_WHY, {})], ['nps']);
    assert.deepEqual([...shownQuestions(NPS_WITH_WHY, { nps: 3 })], ['nps', 'why']);
    assert.deepEqual([...shownQuestions(NPS_WITH_WHY, { nps: 3, why: 'x' })], ['nps', 'why', 'more']);
    assert.deepEqual([...shownQuestions(NPS_WITH_WHY, { nps: 9, why: 'x' })], ['nps'], 'why is hidden, so more is too');
    assert.deepEqual(visibleAnswers(NPS_WITH_WHY, { nps: 9, why: 'x', more: 'y' }), { nps: 9 });
    const def: SurveyDefinition = {
      questions: [
        { key: 'r', type: 'rating', scale_max: 10 },
        { key: 'lo', type: 'text', text: { en: 'lo' }, show_if: { question: 'r', value_lte: 3 } },
        { key: 'mid', type: 'text', text: { en: 'mid' }, show_if: { question: 'r', value_gte: 4, value_lte: 6 } },
        { key: 'm', type: 'multiple_choice', options: [{ key: 'a', label: { en: 'A' } }, { key: 'b', label: { en: 'B' } }] },
        { key: 'if_b', type: 'text', text: { en: 'b' }, show_if: { question: 'm', value_in: ['b'] } },
      ],
    };
    assert.deepEqual([...shownQuestions(def, { r: 3, m: ['a', 'b'] })], ['r', 'lo', 'm', 'if_b']);
    assert.deepEqual([...shownQuestions(def, { r: 5, m: ['a'] })], ['r', 'mid', 'm']);
    assert.deepEqual(matchingFormValues(def.questions[2]!.show_if!, def.questions[0]!), ['4', '5', '6']);
    assert.deepEqual(matchingFormValues(def.questions[4]!.show_if!, def.questions[3]!), ['b']);
    assert.deepEqual(matchingFormValues(NPS_WITH_WHY.questions[1]!.show_if!, NPS_WITH_WHY.questions[0]!), ['0', '1', '2', '3', '4', '5', '6']);
  });

  test('property: the kept answers are exactly those of shown questions, and keeping is idempotent', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10 }), fc.constantFrom('x', 'y'), fc.string(), (nps, why, more) => {
      const kept = visibleAnswers(NPS_WITH_WHY, { nps, why, more });
      const shown = shownQuestions(NPS_WITH_WHY, kept);
      assert.deepEqual(Object.keys(kept).sort(), [...shown].sort());
      assert.deepEqual(visibleAnswers(NPS_WITH_WHY, kept), kept);
    }));
  });
});

describe('reading the form', () => {
  const def: SurveyDefinition = {
    questions: [
      { key: 'nps', type: 'nps' },
      { key: 'why', type: 'text', text: { en: 'Why?' }, max_length: 5, show_if: { question: 'nps', band_in: ['detractor'] } },
      { key: 'cli', type: 'cli' },
      { key: 'pick', type: 'multiple_choice', max_choices: 2, required: false, options: ['a', 'b', 'c'].map((k) => ({ key: k, label: { en: k } })) },
      { key: 'one', type: 'single_choice', options: [{ key: 'yes', label: { en: 'Yes' } }, { key: 'no', label: { en: 'No' } }] },
    ],
  };

  test('values are typed; answers to hidden questions are dropped; missing required answers are named', () => {
    const r = readForm(def, formFields('nps=9&why=because&cli.recommend=1&cli.buy=2&cli.try=6&pick=c&pick=a&one=no&lang=bg'));
    assert.deepEqual(r.answers, { nps: 9, 'cli.recommend': 1, 'cli.buy': 2, 'cli.try': 6, pick: ['a', 'c'], one: 'no' });
    assert.deepEqual(r.problems, {});
    const bad = readForm(def, formFields('nps=3&why=toolong&cli.recommend=7&cli.buy=2&pick=a&pick=b&pick=c&one=maybe'));
    assert.deepEqual(bad.problems, {
      why: { code: 'too_long', max: 5 }, cli: { code: 'invalid_choice' }, pick: { code: 'too_many_choices', max: 2 }, one: { code: 'invalid_choice' },
    });
    const missing = readForm(def, formFields('cli.recommend=1&cli.buy=1'));
    assert.deepEqual(missing.problems, { nps: { code: 'required' }, cli: { code: 'required' }, one: { code: 'required' } });
    const hiddenBad = readForm(def, formFields('nps=10&why=far+too+long&cli.recommend=1&cli.buy=1&cli.try=1&one=yes'));
    assert.deepEqual(hiddenBad.problems, {}, 'a hidden question is not judged');
    assert.equal(hiddenBad.answers.why, undefined);
    assert.equal(readForm(def, formFields('nps=3&why=a%0D%0Abc')).answers.why, 'a\nbc', 'CRLF counts as one character, as maxlength counts it');
    assert.equal(readForm(def, formFields('nps=1.5')).problems.nps?.code, 'invalid_choice');
  });
});

/** WCAG relative luminance and contrast ratio. */
function contrast(a: string, b: string): number {
  const lum = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe('the rendered page', () => {
  test('colours: text pairs at least 4.5:1, input borders at least 3:1', () => {
    const P = PALETTE;
    for (const [fg, bg] of [[P.text, P.background], [P.muted, P.background], [P.muted, P.panel], [P.text, P.panel], [P.onAccent, P.accent], [P.accent, P.background], [P.error, P.background]] as const) {
      assert.ok(contrast(fg, bg) >= 4.5, `${fg} on ${bg}: ${contrast(fg, bg).toFixed(2)}`);
    }
    assert.ok(contrast(P.border, P.background) >= 3);
  });

  test('accessible structure: lang, fieldset/legend per scale, ends labelled, required in text, problems linked and summarised', () => {
    const html = renderSurveyPage({
      definition: NPS_WITH_WHY, lang: 'bg', surveyDefault: 'en', action: '/s/tok', nonce: 'n0nce', embed: false,
      values: formFields('nps=2'), problems: { why: { code: 'required' } },
    });
    assert.match(html, /^<!doctype html>\n<html lang="bg">/);
    assert.match(html, /<meta name="viewport" content="width=device-width,initial-scale=1">/);
    assert.match(html, /<fieldset id="q-nps" class="q"><legend>Колко вероятно е да ни препоръчате на приятел или колега\? <span class="req">\(задължително\)<\/span><\/legend>/);
    assert.match(html, /<input type="radio" name="nps" value="0" id="f-nps"><span>0<span class="vh"> — Изобщо не е вероятно<\/span>/);
    assert.match(html, /<span>10 — Изключително вероятно<\/span>/);
    assert.match(html, /<input type="radio" name="nps" value="2" checked>/, 'the answer sent is kept');
    assert.match(html, /<div class="summary" id="summary" role="alert" tabindex="-1"><h2>Моля, проверете 1 отговор<\/h2><ul><li><a href="#f-why">Защо\?: Моля, отговорете на този въпрос.<\/a>/);
    assert.match(html, /<textarea id="f-why" name="why" maxlength="2000" rows="4" aria-describedby="e-why l-why" aria-invalid="true">/);
    assert.match(html, /<p class="err" id="e-why">/);
    assert.match(html, /data-show="\{&quot;q&quot;:&quot;nps&quot;,&quot;v&quot;:\[&quot;0&quot;/);
    assert.match(html, /<script nonce="n0nce">/);
    assert.match(html, /<style nonce="n0nce">/);
    assert.doesNotMatch(html, /https?:\/\//, 'nothing is fetched from anywhere');
    assert.doesNotMatch(html, / style="/, 'no style attributes (the CSP allows only the nonce\'d <style>)');
  });

  test('texts are escaped', () => {
    const html = renderSurveyPage({
      definition: { title: { en: '<b>"x"</b>' }, questions: [{ key: 'c', type: 'single_choice', options: [{ key: 'a"b', label: { en: '<img src=x>' } }] }] },
      lang: 'en', surveyDefault: 'en', action: '/s/a?b=1&c=2', nonce: 'n', embed: false,
    });
    assert.match(html, /<title>&lt;b&gt;&quot;x&quot;&lt;\/b&gt;<\/title>/);
    assert.match(html, /value="a&quot;b"/);
    assert.match(html, /&lt;img src=x&gt;/);
    assert.match(html, /action="\/s\/a\?b=1&amp;c=2"/);
  });

  test('the biggest template\'s page, with every problem shown, is well under 50 KB in every language', () => {
    for (const tpl of SURVEY_TEMPLATES) {
      for (const lang of LANGUAGES) {
        const problems = Object.fromEntries(tpl.definition.questions.map((q) => [q.key, { code: 'required' as const }]));
        const bytes = Buffer.byteLength(renderSurveyPage({ definition: tpl.definition, lang, surveyDefault: 'en', action: '/s/' + 'x'.repeat(60), nonce: 'x'.repeat(24), embed: false, problems }));
        assert.ok(bytes < 25_000, `${tpl.key} in ${lang}: ${bytes} bytes`);
      }
    }
  });

  test('message pages', () => {
    const t = pageT('pl');
    const html = renderMessagePage({ lang: 'pl', nonce: 'n', embed: true, heading: t('expired_title'), text: t('expired_body') });
    assert.match(html, /<html lang="pl">/);
    assert.match(html, /<body class="embed">/);
    assert.match(html, /<h1>Link do ankiety wygasł<\/h1>/);
  });
});

describe('wording and strings', () => {
  test('every standard question, block item and scale end is worded in every language', () => {
    for (const type of STANDARD_TYPES) {
      for (const lang of LANGUAGES) {
        const w = STANDARD_WORDING[type];
        for (const s of [w.text[lang], w.ends.low[lang], w.ends.high[lang]]) assert.ok(s && s.trim().length > 1, `${type} ${lang}`);
      }
    }
    for (const items of [CSI_ITEM_WORDING, CLI_ITEM_WORDING]) for (const texts of Object.values(items)) for (const lang of LANGUAGES) assert.ok(texts[lang].length > 3);
    // The wordings differ by language (nothing was left in English by mistake).
    for (const type of STANDARD_TYPES) assert.equal(new Set(Object.values(STANDARD_WORDING[type].text)).size, LANGUAGES.length, type);
  });

  test('the page strings: every language has every key (plurals by its own rules)', () => {
    const base = (k: string) => k.replace(/_(one|few|many|other)$/, '');
    const keys = new Set(Object.keys(PAGE_STRINGS.en).map(base));
    for (const lang of LANGUAGES) {
      assert.deepEqual(new Set(Object.keys(PAGE_STRINGS[lang]).map(base)), keys, lang);
      const plural = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
      for (const cat of plural) if (cat !== 'zero' && cat !== 'two') assert.ok(PAGE_STRINGS[lang][`errors_title_${cat}`], `${lang} errors_title_${cat}`);
    }
    assert.equal(pageT('ru')('errors_title', { count: 3 }), 'Проверьте, пожалуйста, 3 ответа');
    assert.equal(pageT('ru')('errors_title', { count: 5 }), 'Проверьте, пожалуйста, 5 ответов');
    assert.equal(pageT('pl')('errors_title', { count: 1 }), 'Sprawdź 1 odpowiedź');
  });
});
