/**
 * The checks of a survey definition (every problem at once, as dotted fields such as questions[2].show_if.question)
 * and of a response's answers against it: which questions are visible, which values each may take, and the stored
 * rows (with bands) the answers become. Pure functions: the service calls them, the tests exercise them directly.
 */
import type { FieldError } from '../../platform/errors.js';
import { bandOf, bandsOf, scaleOf } from './surveys.bands.js';
import { isStandardType } from './surveys.wording.js';
import {
  CLI_ITEMS, CSI_ITEMS, LANGUAGES, NPS_SCALES, QUESTION_TYPES,
  type AnswerInput, type AnswerValue, type Language, type Question, type QuestionType, type ShowIf, type StoredAnswer, type SurveyDefinition,
} from './surveys.types.js';

export const KEY_RE = /^[a-z][a-z0-9_]{0,39}$/;
export const DEFINITION_LIMITS = {
  questions: 50, options: 30, title: 200, text: 500, help: 500, option: 200, intro: 2000, thankYou: 2000, textAnswer: 5000,
};
/**
 * Types whose question may leave out its text (the page then shows the standard wording, surveys.wording.ts). A
 * rating has a standard wording too, but a rating question must still bring its own text: letting it fall back
 * changes what the API accepts, which is a product decision not taken yet.
 */
const mayOmitText = (type: QuestionType): boolean => isStandardType(type) && type !== 'rating';
const FIELDS: Record<string, readonly string[]> = {
  nps: ['scale'], csat: ['scale_max'], ces: [], csi: ['scale_max', 'top_box', 'items'], cli: ['items'], rating: ['scale_max'],
  single_choice: ['options'], multiple_choice: ['options', 'max_choices'], text: ['max_length'],
};
const BASE_FIELDS = ['key', 'type', 'text', 'help', 'required', 'show_if'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Whether a question must be answered when it is shown: scored questions and choices by default, text not. */
export const isRequired = (q: Question): boolean => q.required ?? q.type !== 'text';

function textsErrors(errs: FieldError[], field: string, v: unknown, max: number, need: Language | null): void {
  if (v === undefined) {
    if (need) errs.push({ field, detail: `is required (at least in the survey's default language, ${need})` });
    return;
  }
  if (!isObject(v)) { errs.push({ field, detail: `must be an object of texts by language (${LANGUAGES.join(', ')})` }); return; }
  for (const [lang, text] of Object.entries(v)) {
    if (!(LANGUAGES as readonly string[]).includes(lang)) errs.push({ field: `${field}.${lang}`, detail: `is not a language of Patron (${LANGUAGES.join(', ')})` });
    else if (typeof text !== 'string' || text.trim().length === 0 || [...text].length > max) errs.push({ field: `${field}.${lang}`, detail: `must be a text of 1 to ${max} characters` });
  }
  if (need && v[need] === undefined) errs.push({ field: `${field}.${need}`, detail: `is required: ${need} is the survey's default language, the fallback of every text` });
}

export const NUL_DETAIL = 'must not contain the NUL character (\\u0000)';

/** The path of the first string (or key) holding U+0000 in a JSON value, `definition.questions[0].text.en`; null when none. */
export function nulField(value: unknown, field: string): string | null {
  const stack: Array<{ v: unknown; f: string }> = [{ v: value, f: field }];
  while (stack.length > 0) {
    const { v, f } = stack.pop()!;
    if (typeof v === 'string') { if (v.includes('\u0000')) return f; }
    else if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, f: `${f}[${i}]` }));
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\u0000')) return f;
        stack.push({ v: x, f: `${f}.${k}` });
      }
    }
  }
  return null;
}

/** Every problem of a definition; `defaultLanguage` is the language every custom text must have. */
export function definitionErrors(def: unknown, defaultLanguage: Language, field = 'definition'): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObject(def)) return [{ field, detail: 'must be an object {title?, intro?, thank_you?, questions}' }];
  // jsonb refuses U+0000 anywhere in a text: say so by field instead of failing the insert.
  const nul = nulField(def, field);
  if (nul) return [{ field: nul, detail: NUL_DETAIL }];
  for (const k of Object.keys(def)) if (!['title', 'intro', 'thank_you', 'questions'].includes(k)) errs.push({ field: `${field}.${k}`, detail: 'is not a known field' });
  textsErrors(errs, `${field}.title`, def.title, DEFINITION_LIMITS.title, null);
  textsErrors(errs, `${field}.intro`, def.intro, DEFINITION_LIMITS.intro, null);
  textsErrors(errs, `${field}.thank_you`, def.thank_you, DEFINITION_LIMITS.thankYou, null);
  const qs = def.questions;
  if (!Array.isArray(qs) || qs.length === 0) {
    errs.push({ field: `${field}.questions`, detail: 'must be a list of at least one question' });
    return errs;
  }
  if (qs.length > DEFINITION_LIMITS.questions) errs.push({ field: `${field}.questions`, detail: `must have at most ${DEFINITION_LIMITS.questions} questions` });
  const earlier = new Map<string, Question>();
  qs.forEach((raw, i) => {
    const f = `${field}.questions[${i}]`;
    if (!isObject(raw)) { errs.push({ field: f, detail: 'must be an object' }); return; }
    const type = raw.type as string;
    if (!(QUESTION_TYPES as readonly string[]).includes(type)) {
      errs.push({ field: `${f}.type`, detail: `must be one of ${QUESTION_TYPES.join(', ')}` });
      return;
    }
    for (const k of Object.keys(raw)) if (!BASE_FIELDS.includes(k) && !FIELDS[type]!.includes(k)) errs.push({ field: `${f}.${k}`, detail: `is not a field of a ${type} question` });
    const key = raw.key;
    if (typeof key !== 'string' || !KEY_RE.test(key)) errs.push({ field: `${f}.key`, detail: 'must be a lowercase letter, then up to 39 of a-z, 0-9, _' });
    else if (earlier.has(key) || qs.slice(0, i).some((o) => isObject(o) && o.key === key)) errs.push({ field: `${f}.key`, detail: `is used by an earlier question: keys are unique in a survey` });
    textsErrors(errs, `${f}.text`, raw.text, DEFINITION_LIMITS.text, mayOmitText(type as QuestionType) ? null : defaultLanguage);
    textsErrors(errs, `${f}.help`, raw.help, DEFINITION_LIMITS.help, null);
    if (raw.required !== undefined && typeof raw.required !== 'boolean') errs.push({ field: `${f}.required`, detail: 'must be true or false' });
    switch (type) {
      case 'nps':
        if (raw.scale !== undefined && !(NPS_SCALES as readonly unknown[]).includes(raw.scale)) errs.push({ field: `${f}.scale`, detail: `must be one of ${NPS_SCALES.join(', ')}` });
        break;
      case 'csat': case 'csi':
        if (raw.scale_max !== undefined && ![5, 7, 10].includes(raw.scale_max as number)) errs.push({ field: `${f}.scale_max`, detail: 'must be 5, 7 or 10' });
        if (type === 'csi' && raw.top_box !== undefined) {
          const max = (raw.scale_max as number | undefined) ?? 5;
          if (!isInt(raw.top_box) || raw.top_box < 1 || raw.top_box >= max) errs.push({ field: `${f}.top_box`, detail: `must be a whole number from 1 to ${max - 1}: how many of the top values count as positive` });
        }
        break;
      case 'rating':
        if (raw.scale_max !== undefined && ![5, 10].includes(raw.scale_max as number)) errs.push({ field: `${f}.scale_max`, detail: 'must be 5 or 10' });
        break;
      case 'text':
        if (raw.max_length !== undefined && (!isInt(raw.max_length) || raw.max_length < 1 || raw.max_length > DEFINITION_LIMITS.textAnswer)) errs.push({ field: `${f}.max_length`, detail: `must be a whole number from 1 to ${DEFINITION_LIMITS.textAnswer}` });
        break;
      case 'single_choice': case 'multiple_choice': {
        const opts = raw.options;
        if (!Array.isArray(opts) || opts.length < 2 || opts.length > DEFINITION_LIMITS.options) { errs.push({ field: `${f}.options`, detail: `must be a list of 2 to ${DEFINITION_LIMITS.options} options` }); break; }
        const seen = new Set<string>();
        opts.forEach((o, j) => {
          const of = `${f}.options[${j}]`;
          if (!isObject(o)) { errs.push({ field: of, detail: 'must be an object {key, label}' }); return; }
          for (const k of Object.keys(o)) if (k !== 'key' && k !== 'label') errs.push({ field: `${of}.${k}`, detail: 'is not a known field' });
          if (typeof o.key !== 'string' || !KEY_RE.test(o.key)) errs.push({ field: `${of}.key`, detail: 'must be a lowercase letter, then up to 39 of a-z, 0-9, _' });
          else if (seen.has(o.key)) errs.push({ field: `${of}.key`, detail: 'is used by an earlier option: option keys are unique in a question' });
          else seen.add(o.key);
          textsErrors(errs, `${of}.label`, o.label, DEFINITION_LIMITS.option, defaultLanguage);
        });
        if (type === 'multiple_choice' && raw.max_choices !== undefined && (!isInt(raw.max_choices) || raw.max_choices < 1 || raw.max_choices > opts.length)) errs.push({ field: `${f}.max_choices`, detail: `must be a whole number from 1 to ${opts.length} (the number of options)` });
        break;
      }
      case 'csi': case 'cli': break;
    }
    if ((type === 'csi' || type === 'cli') && raw.items !== undefined) {
      const names: readonly string[] = type === 'csi' ? CSI_ITEMS : CLI_ITEMS;
      if (!isObject(raw.items)) errs.push({ field: `${f}.items`, detail: `must be an object of item texts (${names.join(', ')})` });
      else for (const [item, t] of Object.entries(raw.items)) {
        if (!names.includes(item)) errs.push({ field: `${f}.items.${item}`, detail: `is not an item of ${type} (${names.join(', ')})` });
        else textsErrors(errs, `${f}.items.${item}`, t, DEFINITION_LIMITS.text, null);
      }
    }
    if (raw.show_if !== undefined) showIfErrors(errs, `${f}.show_if`, raw.show_if, earlier);
    if (typeof key === 'string' && KEY_RE.test(key) && !earlier.has(key)) earlier.set(key, raw as unknown as Question);
  });
  return errs;
}

function showIfErrors(errs: FieldError[], f: string, s: unknown, earlier: Map<string, Question>): void {
  if (!isObject(s)) { errs.push({ field: f, detail: 'must be an object {question, band_in | value_in | value_gte / value_lte}' }); return; }
  for (const k of Object.keys(s)) if (!['question', 'band_in', 'value_in', 'value_lte', 'value_gte'].includes(k)) errs.push({ field: `${f}.${k}`, detail: 'is not a known field' });
  const ref = typeof s.question === 'string' ? earlier.get(s.question) : undefined;
  if (!ref) { errs.push({ field: `${f}.question`, detail: 'must be the key of an EARLIER question' }); return; }
  if (ref.type === 'text' || ref.type === 'csi' || ref.type === 'cli') { errs.push({ field: `${f}.question`, detail: `must be a question with one answer to test (not ${ref.type})` }); return; }
  const kinds = ['band_in', 'value_in', 'range'].filter((k) => (k === 'range' ? s.value_lte !== undefined || s.value_gte !== undefined : s[k] !== undefined));
  if (kinds.length !== 1) { errs.push({ field: f, detail: 'must have exactly one condition: band_in, value_in, or value_gte / value_lte' }); return; }
  const scale = scaleOf(ref);
  if (s.band_in !== undefined) {
    const can = bandsOf(ref);
    if (can.length === 0) errs.push({ field: `${f}.band_in`, detail: `cannot be used: a ${ref.type} answer has no band` });
    else if (!Array.isArray(s.band_in) || s.band_in.length === 0) errs.push({ field: `${f}.band_in`, detail: `must be a list of bands of ${ref.key} (${can.join(', ')})` });
    else s.band_in.forEach((b, j) => { if (!can.includes(b as never)) errs.push({ field: `${f}.band_in[${j}]`, detail: `is not a band ${ref.key} can have (${can.join(', ')})` }); });
  }
  if (s.value_in !== undefined) {
    if (!Array.isArray(s.value_in) || s.value_in.length === 0) errs.push({ field: `${f}.value_in`, detail: 'must be a non-empty list of values' });
    else s.value_in.forEach((v, j) => {
      const vf = `${f}.value_in[${j}]`;
      if (scale) { if (!isInt(v) || v < scale.min || v > scale.max) errs.push({ field: vf, detail: `is not a value of ${ref.key} (${scale.min}-${scale.max})` }); }
      else if (ref.type === 'single_choice' || ref.type === 'multiple_choice') { if (!ref.options.some((o) => o.key === v)) errs.push({ field: vf, detail: `is not an option of ${ref.key}` }); }
    });
  }
  for (const k of ['value_gte', 'value_lte'] as const) {
    if (s[k] === undefined) continue;
    if (!scale) errs.push({ field: `${f}.${k}`, detail: `cannot be used: ${ref.key} is not on a scale` });
    else if (!isInt(s[k]) || (s[k] as number) < scale.min || (s[k] as number) > scale.max) errs.push({ field: `${f}.${k}`, detail: `must be a value of ${ref.key} (${scale.min}-${scale.max})` });
  }
}

/** Whether `q` is shown, given the answers so far (a condition on an unanswered question hides it). */
export function isVisible(q: Question, answers: AnswerInput, byKey: Map<string, Question>): boolean {
  const s: ShowIf | undefined = q.show_if;
  if (!s) return true;
  const ref = byKey.get(s.question);
  const v = answerOf(answers, s.question);
  if (!ref || v === undefined) return false;
  if (!isVisible(ref, answers, byKey)) return false;
  if (s.band_in) return typeof v === 'number' && s.band_in.includes(bandOf(ref, v) as never);
  if (s.value_in) return Array.isArray(v) ? v.some((x) => s.value_in!.includes(x)) : s.value_in.includes(v);
  if (typeof v !== 'number') return false;
  return (s.value_gte === undefined || v >= s.value_gte) && (s.value_lte === undefined || v <= s.value_lte);
}

/**
 * The answer given for `key`, read as an own property only: a key like `constructor` or `toString` must not find
 * Object.prototype's member and count as answered.
 */
export const answerOf = (answers: AnswerInput, key: string): AnswerValue | undefined => (Object.hasOwn(answers, key) ? answers[key] : undefined);

/** The sub-questions of a block (CSI, CLI); empty for every other question. */
export function itemsOf(q: Pick<Question, 'type'>): readonly string[] {
  if (q.type === 'csi') return CSI_ITEMS;
  if (q.type === 'cli') return CLI_ITEMS;
  return [];
}

/** The answer keys of a question: `<key>`, or `<key>.<item>` for each item of a block. */
export function answerKeysOf(q: Pick<Question, 'key' | 'type'>): string[] {
  const items = itemsOf(q);
  return items.length > 0 ? items.map((i) => `${q.key}.${i}`) : [q.key];
}

/**
 * Checks `answers` against `def` and returns the rows to store (with bands), or every problem at once as
 * `answers.<key>` (`answers.<key>.<item>` for CSI/CLI items).
 */
export function checkAnswers(def: SurveyDefinition, answers: AnswerInput): { errors: FieldError[]; rows: StoredAnswer[] } {
  const errs: FieldError[] = [];
  const rows: StoredAnswer[] = [];
  const byKey = new Map(def.questions.map((q) => [q.key, q]));
  const known = new Set<string>();
  for (const q of def.questions) for (const k of answerKeysOf(q)) known.add(k);
  for (const k of Object.keys(answers)) if (!known.has(k)) errs.push({ field: `answers.${k}`, detail: 'is not a question of this survey' });
  for (const q of def.questions) {
    const keys = answerKeysOf(q);
    const given = keys.filter((k) => answerOf(answers, k) !== undefined);
    const visible = isVisible(q, answers, byKey);
    if (!visible) {
      for (const k of given) errs.push({ field: `answers.${k}`, detail: `is not asked: ${q.key} is shown only when ${q.show_if!.question} matches its condition` });
      continue;
    }
    if (isRequired(q)) for (const k of keys) if (answerOf(answers, k) === undefined) errs.push({ field: `answers.${k}`, detail: 'is required' });
    for (const k of given) {
      const row = answerRow(q, k, answerOf(answers, k)!);
      if (typeof row === 'string') errs.push({ field: `answers.${k}`, detail: row });
      else rows.push(row);
    }
  }
  return { errors: errs, rows };
}

/** One stored row of an answer, or why the value is wrong. */
function answerRow(q: Question, key: string, v: AnswerValue): StoredAnswer | string {
  const base = { question_key: key, question_type: q.type, scale_min: null, scale_max: null, value_number: null, value_text: null, value_choices: null, band: null };
  const scale = scaleOf(q);
  if (scale) {
    if (!isInt(v) || v < scale.min || v > scale.max) return `must be a whole number from ${scale.min} to ${scale.max}`;
    return { ...base, scale_min: scale.min, scale_max: scale.max, value_number: v, band: bandOf(q, v) };
  }
  if (q.type === 'single_choice') {
    if (typeof v !== 'string' || !q.options.some((o) => o.key === v)) return `must be one of the option keys (${q.options.map((o) => o.key).join(', ')})`;
    return { ...base, value_choices: [v] };
  }
  if (q.type === 'multiple_choice') {
    if (!Array.isArray(v) || v.length === 0 || new Set(v).size !== v.length) return 'must be a non-empty list of distinct option keys';
    const bad = v.filter((x) => !q.options.some((o) => o.key === x));
    if (bad.length) return `has unknown option keys: ${bad.join(', ')}`;
    if (q.max_choices !== undefined && v.length > q.max_choices) return `may have at most ${q.max_choices} choices`;
    return { ...base, value_choices: v };
  }
  // Free text.
  const max = q.type === 'text' ? q.max_length ?? 2000 : 2000;
  if (typeof v !== 'string' || v.trim().length === 0) return 'must be a non-empty text';
  if ([...v].length > max) return `must be at most ${max} characters`;
  // jsonb (and text) refuse U+0000: a 400 naming the answer, not the database's error.
  if (v.includes('\u0000')) return NUL_DETAIL;
  return { ...base, value_text: v };
}

/** Stored rows back to the answers they were given as (the response page pre-fills an edit with them). */
export function answersOf(rows: Pick<StoredAnswer, 'question_key' | 'question_type' | 'value_number' | 'value_text' | 'value_choices'>[]): AnswerInput {
  const out: AnswerInput = {};
  for (const r of rows) {
    if (r.value_number !== null) out[r.question_key] = r.value_number;
    else if (r.question_type === 'single_choice' && r.value_choices) out[r.question_key] = r.value_choices[0]!;
    else if (r.value_choices) out[r.question_key] = r.value_choices;
    else if (r.value_text !== null) out[r.question_key] = r.value_text;
  }
  return out;
}
