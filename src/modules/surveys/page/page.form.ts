/**
 * The response form as the browser posts it (application/x-www-form-urlencoded) → the answers `respond` takes, and
 * the problems to show next to each question. Pure: the routes parse the body, this reads it.
 *
 * Field names: a scale or single choice `<key>=<value>`; a block item `<key>.<item>=<value>`; a multiple choice
 * repeats `<key>`; a text `<key>`. Anything else in the body (the page's own fields, a field a browser extension
 * added) is ignored. Answers to questions the other answers hide are dropped, not refused (see page.questions.ts).
 */
import type { AnswerInput, Question, SurveyDefinition } from '../surveys.types.js';
import { answerKeysOf, isRequired, scaleOf, shownQuestions, visibleAnswers } from './page.questions.js';

export const DEFAULT_TEXT_MAX = 2000;

/** What is wrong with an answer, as the page says it (page.i18n.ts words each in every language). */
export type AnswerProblem =
  | { code: 'required' }
  | { code: 'invalid_choice' }
  | { code: 'too_many_choices'; max: number }
  | { code: 'too_long'; max: number }
  /** A character the database cannot store (U+0000), which no keyboard types: refused here, not a 500. */
  | { code: 'invalid_text' };

export interface ParsedForm {
  /** The answers to the questions shown, as `respond` takes them. */
  answers: AnswerInput;
  /** Problems by question key (a block's problem is its own, whichever item it is in). */
  problems: Record<string, AnswerProblem>;
}

/** Form fields by name, every value of a repeated name kept (URLSearchParams.getAll). */
export type FormFields = Map<string, string[]>;

export function formFields(body: string): FormFields {
  const out: FormFields = new Map();
  for (const [k, v] of new URLSearchParams(body)) out.set(k, [...(out.get(k) ?? []), v]);
  return out;
}

const textMax = (q: Question) => (q.type === 'text' ? q.max_length ?? DEFAULT_TEXT_MAX : 0);

export function readForm(def: SurveyDefinition, fields: FormFields): ParsedForm {
  const raw: AnswerInput = {};  // read back with Object.hasOwn only (a key may be `constructor`)
  const problems: Record<string, AnswerProblem> = {};
  const first = (name: string) => (fields.get(name) ?? []).map((v) => v.trim()).find((v) => v !== '');

  for (const q of def.questions) {
    const scale = scaleOf(q);
    if (scale) {
      for (const k of answerKeysOf(q)) {
        const v = first(k);
        if (v === undefined) continue;
        const n = /^-?\d{1,3}$/.test(v) ? Number(v) : NaN;
        if (Number.isInteger(n) && n >= scale.min && n <= scale.max) raw[k] = n;
        else problems[q.key] = { code: 'invalid_choice' };
      }
    } else if (q.type === 'single_choice') {
      const v = first(q.key);
      if (v === undefined) continue;
      if (q.options.some((o) => o.key === v)) raw[q.key] = v;
      else problems[q.key] = { code: 'invalid_choice' };
    } else if (q.type === 'multiple_choice') {
      const chosen = [...new Set((fields.get(q.key) ?? []).map((v) => v.trim()).filter((v) => v !== ''))];
      if (chosen.length === 0) continue;
      if (!chosen.every((v) => q.options.some((o) => o.key === v))) problems[q.key] = { code: 'invalid_choice' };
      else if (q.max_choices !== undefined && chosen.length > q.max_choices) problems[q.key] = { code: 'too_many_choices', max: q.max_choices };
      // In the order of the options, not of the browser's fields.
      else raw[q.key] = q.options.map((o) => o.key).filter((k) => chosen.includes(k));
    } else {
      const v = first(q.key);
      if (v === undefined) continue;
      // Line ends as the browser sends them (CRLF) count once, as the textarea's maxlength counts them.
      const text = v.replace(/\r\n/g, '\n');
      if (text.includes('\u0000')) problems[q.key] = { code: 'invalid_text' };
      else if ([...text].length > textMax(q)) problems[q.key] = { code: 'too_long', max: textMax(q) };
      else raw[q.key] = text;
    }
  }

  const answers = visibleAnswers(def, raw);
  const shown = shownQuestions(def, answers);
  for (const q of def.questions) {
    if (!shown.has(q.key)) {
      delete problems[q.key]; // a hidden question's bad answer is dropped with it
      continue;
    }
    if (problemOf(problems, q.key) || !isRequired(q)) continue;
    if (answerKeysOf(q).some((k) => !Object.hasOwn(answers, k))) problems[q.key] = { code: 'required' };
  }
  return { answers, problems };
}

/** The problem of one question, read as an own property (a key may be `constructor`). */
export const problemOf = (problems: Record<string, AnswerProblem>, key: string): AnswerProblem | undefined => (Object.hasOwn(problems, key) ? problems[key] : undefined);

/** The form values to pre-fill from earlier answers (editing within the edit window), keyed like the fields. */
export function formValuesOf(answers: AnswerInput): FormFields {
  const out: FormFields = new Map();
  for (const [k, v] of Object.entries(answers)) out.set(k, Array.isArray(v) ? v : [String(v)]);
  return out;
}
