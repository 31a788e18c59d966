/**
 * What the page needs to know about a question beyond its definition: its scale, its items, whether it is required,
 * the band of an answer, and whether it is shown given the answers so far (show_if). Pure functions.
 *
 * Conditional questions: without JavaScript the page shows every question, and a respondent may answer one whose
 * condition the other answers make false. The surveys service refuses answers to hidden questions, so the page drops
 * them (`visibleAnswers`) before it calls `respond`: the respondent is never blamed for the page's own layout.
 */
import { CLI_ITEMS, CSI_ITEMS, type AnswerInput, type AnswerValue, type Band, type Question, type ShowIf, type SurveyDefinition } from '../surveys.types.js';

export interface Scale {
  min: number;
  max: number;
}

/** The scale of a scored question; null for choices and text. */
export function scaleOf(q: Question): Scale | null {
  switch (q.type) {
    case 'nps': {
      const [min, max] = (q.scale ?? '0-10').split('-').map(Number) as [number, number];
      return { min, max };
    }
    case 'csat':
      return { min: 1, max: q.scale_max ?? 5 };
    case 'ces':
      return { min: 1, max: 7 };
    case 'csi':
      return { min: 1, max: q.scale_max ?? 5 };
    case 'cli':
      return { min: 1, max: 6 };
    case 'rating':
      return { min: 1, max: q.scale_max ?? 5 };
    default:
      return null;
  }
}

/** The sub-questions of a block (CSI, CLI); empty for every other question. */
export function itemsOf(q: Question): readonly string[] {
  if (q.type === 'csi') return CSI_ITEMS;
  if (q.type === 'cli') return CLI_ITEMS;
  return [];
}

/** The answer keys of a question: `<key>`, or `<key>.<item>` for each item of a block. */
export function answerKeysOf(q: Question): string[] {
  const items = itemsOf(q);
  return items.length > 0 ? items.map((i) => `${q.key}.${i}`) : [q.key];
}

/** Scored questions are required unless they say otherwise; text questions are optional unless they say otherwise. */
export function isRequired(q: Question): boolean {
  return q.required ?? q.type !== 'text';
}

/**
 * The band of a scored answer (survey_answers.band): NPS by its scale, CSAT top and bottom two boxes, CES 5-7 / 1-3,
 * CSI items in the top box. Null where a question type has no bands.
 */
export function bandOf(q: Question, value: number): Band | null {
  switch (q.type) {
    case 'nps': {
      const scale = q.scale ?? '0-10';
      // The 0-10 scale's thresholds (0-6 detractors, 7-8 passives, 9-10 promoters), kept in proportion on the shorter scales.
      const [detractorMax, passiveMax] = scale === '0-10' || scale === '1-10' ? [6, 8] : scale === '1-7' ? [4, 5] : [3, 4];
      return value <= detractorMax ? 'detractor' : value <= passiveMax ? 'passive' : 'promoter';
    }
    case 'csat': {
      const max = q.scale_max ?? 5;
      return value >= max - 1 ? 'satisfied' : value <= 2 ? 'dissatisfied' : 'neutral';
    }
    case 'ces':
      return value >= 5 ? 'low_effort' : value <= 3 ? 'high_effort' : 'neutral';
    case 'csi': {
      const max = q.scale_max ?? 5;
      return value > max - (q.top_box ?? 1) ? 'positive' : 'other';
    }
    default:
      return null;
  }
}

/** Does an answer meet a condition? A condition on a block names one of its items (`<key>.<item>`) or the block. */
function meets(cond: ShowIf, source: Question, value: AnswerValue): boolean {
  if (Array.isArray(value)) {
    // Multiple choice: shown when any chosen option is one of the values.
    return cond.value_in !== undefined && value.some((v) => cond.value_in!.includes(v));
  }
  if (cond.band_in !== undefined) {
    const band = typeof value === 'number' ? bandOf(source, value) : null;
    return band !== null && cond.band_in.includes(band);
  }
  if (cond.value_in !== undefined) return cond.value_in.some((v) => v === value || (typeof v === 'number' && typeof value === 'string' && String(v) === value));
  if (typeof value !== 'number') return false;
  if (cond.value_lte !== undefined && !(value <= cond.value_lte)) return false;
  if (cond.value_gte !== undefined && !(value >= cond.value_gte)) return false;
  return cond.value_lte !== undefined || cond.value_gte !== undefined;
}

/**
 * The keys of the questions shown for these answers. A question is shown when it has no condition, or when the
 * question its condition names is shown and answered in a way that meets it (so a chain of conditions hides with its
 * first link).
 */
export function shownQuestions(def: SurveyDefinition, answers: AnswerInput): Set<string> {
  const byKey = new Map(def.questions.map((q) => [q.key, q] as const));
  const shown = new Set<string>();
  for (const q of def.questions) {
    const cond = q.show_if;
    if (!cond) {
      shown.add(q.key);
      continue;
    }
    const [sourceKey] = cond.question.split('.');
    const source = byKey.get(sourceKey!);
    const value = answers[cond.question];
    if (source && shown.has(source.key) && value !== undefined && meets(cond, source, value)) shown.add(q.key);
  }
  return shown;
}

/** The answers without those to questions the other answers hide (see the header comment). */
export function visibleAnswers(def: SurveyDefinition, answers: AnswerInput): AnswerInput {
  const shown = shownQuestions(def, answers);
  const out: AnswerInput = {};
  for (const q of def.questions) {
    if (!shown.has(q.key)) continue;
    for (const k of answerKeysOf(q)) if (answers[k] !== undefined) out[k] = answers[k]!;
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
