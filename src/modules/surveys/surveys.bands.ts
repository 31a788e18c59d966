/**
 * The bands of scored answers (docs/surveys.md, domain.md), as pure functions: the band is computed once when an
 * answer is stored (survey_answers.band) and every score is an aggregate over it, so a band rule lives only here.
 */
import type { Band, CsatQuestion, CsiQuestion, NpsQuestion, NpsScale, Question } from './surveys.types.js';

/** Detractor / passive / promoter by NPS scale: the highest detractor and the highest passive value. */
const NPS_BANDS: Record<NpsScale, { min: number; max: number; detractorMax: number; passiveMax: number }> = {
  '0-10': { min: 0, max: 10, detractorMax: 6, passiveMax: 8 },
  '1-10': { min: 1, max: 10, detractorMax: 6, passiveMax: 8 },
  '1-7': { min: 1, max: 7, detractorMax: 5, passiveMax: 6 },
  '1-5': { min: 1, max: 5, detractorMax: 3, passiveMax: 4 },
};

export function npsBand(scale: NpsScale, value: number): Band {
  const b = NPS_BANDS[scale];
  return value <= b.detractorMax ? 'detractor' : value <= b.passiveMax ? 'passive' : 'promoter';
}

/** CSAT on 1..max: the top two boxes are satisfied, the bottom two dissatisfied, the rest neutral. */
export function csatBand(max: number, value: number): Band {
  return value >= max - 1 ? 'satisfied' : value <= 2 ? 'dissatisfied' : 'neutral';
}

/** CES on 1-7 (agreement with "…made it easy…"): 5-7 low effort, 1-3 high effort, 4 neutral. */
export function cesBand(value: number): Band {
  return value >= 5 ? 'low_effort' : value <= 3 ? 'high_effort' : 'neutral';
}

/** A CSI item on 1..max: positive when in the top `topBox` values. */
export function csiBand(max: number, topBox: number, value: number): Band {
  return value > max - topBox ? 'positive' : 'other';
}

/** The scale of a scored question (or a block's items), null for choices and text. */
export function scaleOf(q: Question): { min: number; max: number } | null {
  switch (q.type) {
    case 'nps': { const b = NPS_BANDS[q.scale ?? '0-10']; return { min: b.min, max: b.max }; }
    case 'csat': return { min: 1, max: q.scale_max ?? 5 };
    case 'ces': return { min: 1, max: 7 };
    case 'csi': return { min: 1, max: q.scale_max ?? 5 };
    case 'cli': return { min: 1, max: 6 };
    case 'rating': return { min: 1, max: q.scale_max ?? 5 };
    default: return null;
  }
}

/** The band of a numeric answer to `q` (CSI: of one of its items), null when the question type has none. */
export function bandOf(q: Question, value: number): Band | null {
  switch (q.type) {
    case 'nps': return npsBand((q as NpsQuestion).scale ?? '0-10', value);
    case 'csat': return csatBand((q as CsatQuestion).scale_max ?? 5, value);
    case 'ces': return cesBand(value);
    case 'csi': return csiBand((q as CsiQuestion).scale_max ?? 5, (q as CsiQuestion).top_box ?? 1, value);
    default: return null;
  }
}

/** The bands an answer to `q` can have (a show_if.band_in may name only these). */
export function bandsOf(q: Question): Band[] {
  switch (q.type) {
    case 'nps': return ['detractor', 'passive', 'promoter'];
    case 'csat': return ['dissatisfied', 'neutral', 'satisfied'];
    case 'ces': return ['high_effort', 'neutral', 'low_effort'];
    case 'csi': return ['positive', 'other'];
    default: return [];
  }
}


/** Every band, for schemas. */
export const BAND_VALUES = ['detractor', 'passive', 'promoter', 'dissatisfied', 'neutral', 'satisfied', 'high_effort', 'low_effort', 'positive', 'other'] as const satisfies readonly Band[];
