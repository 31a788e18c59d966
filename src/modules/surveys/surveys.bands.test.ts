/** The band rules (domain.md) and the definition and answer checks, as pure functions. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bandOf, cesBand, csatBand, csiBand, npsBand } from './surveys.bands.js';
import { answersOf, checkAnswers, definitionErrors } from './surveys.definition.js';
import type { NpsScale, SurveyDefinition } from './surveys.types.js';

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('bands', () => {
  test('NPS bands by scale: 0-10 0-6/7-8/9-10, 1-10 1-6/7-8/9-10, 1-7 1-5/6/7, 1-5 1-3/4/5', () => {
    const expect: Record<NpsScale, [number[], number[], number[]]> = {
      '0-10': [range(0, 6), [7, 8], [9, 10]],
      '1-10': [range(1, 6), [7, 8], [9, 10]],
      '1-7': [range(1, 5), [6], [7]],
      '1-5': [range(1, 3), [4], [5]],
    };
    for (const [scale, [d, p, pr]] of Object.entries(expect) as Array<[NpsScale, [number[], number[], number[]]]>) {
      for (const v of d) assert.equal(npsBand(scale, v), 'detractor', `${scale} ${v}`);
      for (const v of p) assert.equal(npsBand(scale, v), 'passive', `${scale} ${v}`);
      for (const v of pr) assert.equal(npsBand(scale, v), 'promoter', `${scale} ${v}`);
    }
  });

  test('CSAT: top two boxes satisfied, bottom two dissatisfied', () => {
    assert.deepEqual(range(1, 5).map((v) => csatBand(5, v)), ['dissatisfied', 'dissatisfied', 'neutral', 'satisfied', 'satisfied']);
    assert.deepEqual(range(1, 7).map((v) => csatBand(7, v)), ['dissatisfied', 'dissatisfied', 'neutral', 'neutral', 'neutral', 'satisfied', 'satisfied']);
  });

  test('CES 1-7: 5-7 low effort, 1-3 high effort, 4 neutral', () => {
    assert.deepEqual(range(1, 7).map(cesBand), ['high_effort', 'high_effort', 'high_effort', 'neutral', 'low_effort', 'low_effort', 'low_effort']);
  });

  test('CSI items: positive in the top box', () => {
    assert.deepEqual(range(1, 5).map((v) => csiBand(5, 1, v)), ['other', 'other', 'other', 'other', 'positive']);
    assert.deepEqual(range(1, 7).map((v) => csiBand(7, 2, v)), ['other', 'other', 'other', 'other', 'other', 'positive', 'positive']);
    assert.equal(bandOf({ key: 'c', type: 'csi', scale_max: 10, top_box: 3 }, 8), 'positive');
    assert.equal(bandOf({ key: 'c', type: 'csi', scale_max: 10, top_box: 3 }, 7), 'other');
  });

  test('no band for CLI, rating, choices and text', () => {
    assert.equal(bandOf({ key: 'l', type: 'cli' }, 1), null);
    assert.equal(bandOf({ key: 'r', type: 'rating' }, 5), null);
  });
});

describe('definition checks', () => {
  test('every problem at once, as dotted fields', () => {
    const errs = definitionErrors({
      questions: [
        { key: 'nps', type: 'nps', scale: '0-9' },
        { key: 'nps', type: 'csat' },
        { key: 'Bad key', type: 'rating' },
        { key: 'why', type: 'text', text: { en: 'Why?' }, show_if: { question: 'later', band_in: ['detractor'] } },
        { key: 'how', type: 'text', text: { en: 'How?' }, show_if: { question: 'nps', band_in: ['satisfied'] } },
        { key: 'pick', type: 'single_choice', text: { en: 'Pick' }, options: [{ key: 'a', label: { en: 'A' } }, { key: 'a', label: { bg: 'Б' } }] },
        { key: 'later', type: 'nps' },
      ],
    }, 'en');
    const fields = errs.map((e) => e.field);
    for (const f of [
      'definition.questions[0].scale', 'definition.questions[1].key', 'definition.questions[2].key', 'definition.questions[2].text',
      'definition.questions[3].show_if.question', 'definition.questions[4].show_if.band_in[0]', 'definition.questions[5].options[1].key',
      'definition.questions[5].options[1].label.en',
    ]) assert.ok(fields.includes(f), `${f} in ${JSON.stringify(errs)}`);
  });

  test('at least one question; a valid definition has no errors', () => {
    assert.deepEqual(definitionErrors({ questions: [] }, 'en').map((e) => e.field), ['definition.questions']);
    assert.deepEqual(definitionErrors({ questions: [{ key: 'nps', type: 'nps' }, { key: 'why', type: 'text', text: { bg: 'Защо?' }, show_if: { question: 'nps', band_in: ['detractor'] } }] }, 'bg'), []);
  });
});

describe('answer checks', () => {
  const def: SurveyDefinition = {
    questions: [
      { key: 'nps', type: 'nps' },
      { key: 'why', type: 'text', text: { en: 'Why?' }, show_if: { question: 'nps', band_in: ['detractor'] } },
      { key: 'csi', type: 'csi', required: false },
      { key: 'cli', type: 'cli' },
      { key: 'topics', type: 'multiple_choice', text: { en: 'Topics' }, options: [{ key: 'price', label: { en: 'Price' } }, { key: 'staff', label: { en: 'Staff' } }], required: false },
    ],
  };

  test('bands, blocks and choices become rows; the rows give the answers back', () => {
    const answers = { nps: 3, why: 'slow', 'csi.satisfied': 5, 'cli.recommend': 1, 'cli.buy': 2, 'cli.try': 6, topics: ['price'] };
    const r = checkAnswers(def, answers);
    assert.deepEqual(r.errors, []);
    assert.equal(r.rows.find((a) => a.question_key === 'nps')!.band, 'detractor');
    assert.equal(r.rows.find((a) => a.question_key === 'csi.satisfied')!.band, 'positive');
    assert.deepEqual(answersOf(r.rows), answers);
  });

  test('hidden, unknown, out of scale, missing required items', () => {
    const r = checkAnswers(def, { nps: 9, why: 'hidden', 'cli.recommend': 7, 'cli.buy': 1, extra: 1, topics: ['nope'] });
    const fields = r.errors.map((e) => e.field).sort();
    assert.deepEqual(fields, ['answers.cli.recommend', 'answers.cli.try', 'answers.extra', 'answers.topics', 'answers.why']);
  });
});
