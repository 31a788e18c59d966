/**
 * What the page needs to know about a question beyond its definition: its scale, its items, whether it is required,
 * the band of an answer, and whether it is shown given the answers so far (show_if). Pure functions; the rules
 * themselves (scales, bands, visibility) are the surveys service's (surveys.bands.ts, surveys.definition.ts), so the
 * page and `respond` can never disagree about which questions are asked.
 *
 * Conditional questions: without JavaScript the page shows every question, and a respondent may answer one whose
 * condition the other answers make false. The surveys service refuses answers to hidden questions, so the page drops
 * them (`visibleAnswers`) before it calls `respond`: the respondent is never blamed for the page's own layout.
 */
import { scaleOf } from '../surveys.bands.js';
import { answerKeysOf, isVisible } from '../surveys.definition.js';
import type { AnswerInput, AnswerValue, Question, ShowIf, SurveyDefinition } from '../surveys.types.js';

export { scaleOf, bandOf } from '../surveys.bands.js';
export { answerKeysOf, isRequired, itemsOf } from '../surveys.definition.js';

/** Does an answer to `source` meet `cond`? The service's own rule (isVisible), for that one answer. */
function meets(cond: ShowIf, source: Question, value: AnswerValue): boolean {
  const probe: Question = { key: '_', type: 'text', show_if: cond };
  return isVisible(probe, { [source.key]: value }, new Map([[source.key, { ...source, show_if: undefined }]]));
}

/**
 * The keys of the questions shown for these answers. A question is shown when it has no condition, or when the
 * question its condition names is shown and answered in a way that meets it (so a chain of conditions hides with its
 * first link).
 */
export function shownQuestions(def: SurveyDefinition, answers: AnswerInput): Set<string> {
  const byKey = new Map(def.questions.map((q) => [q.key, q] as const));
  return new Set(def.questions.filter((q) => isVisible(q, answers, byKey)).map((q) => q.key));
}

/** The answers without those to questions the other answers hide (see the header comment). */
export function visibleAnswers(def: SurveyDefinition, answers: AnswerInput): AnswerInput {
  const shown = shownQuestions(def, answers);
  const out: AnswerInput = {};
  for (const q of def.questions) {
    if (!shown.has(q.key)) continue;
    // Own properties only: a question keyed `constructor` must not read Object.prototype's.
    for (const k of answerKeysOf(q)) if (Object.hasOwn(answers, k)) out[k] = answers[k]!;
  }
  return out;
}

/**
 * The answer values of `source` that meet `cond`, as form values (strings), for the page's script, which shows and
 * hides questions without knowing bands or scales. For a text source: the listed values.
 */
export function matchingFormValues(cond: ShowIf, source: Question): string[] {
  const scale = scaleOf(source);
  if (scale) {
    const out: string[] = [];
    for (let v = scale.min; v <= scale.max; v++) if (meets(cond, source, v)) out.push(String(v));
    return out;
  }
  if (source.type === 'single_choice' || source.type === 'multiple_choice') {
    return source.options.filter((o) => meets(cond, source, source.type === 'multiple_choice' ? [o.key] : o.key)).map((o) => o.key);
  }
  return (cond.value_in ?? []).map(String);
}
