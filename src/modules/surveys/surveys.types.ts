/**
 * Surveys as data: the shape of a survey definition and of the answers it collects. One engine renders and scores
 * every survey from these types (the response page, the API, the results), the way Formbricks keeps surveys as data.
 *
 * This file is the contract between the surveys module, the response page, the results and the cases module.
 */

import { LOCALES, type Locale } from '../../platform/http/schema.js';

/** A survey's languages are the platform's locales (a member's locale picks the language of the page). */
export const LANGUAGES = LOCALES;
export type Language = Locale;

/** A text in any of the five languages; a missing language falls back to the survey's default language. */
export type Texts = Partial<Record<Language, string>>;

export const TOUCHPOINTS = ['purchase', 'delivery', 'support_case', 'onboarding', 'store_visit', 'custom'] as const;
export type Touchpoint = (typeof TOUCHPOINTS)[number];

export const NPS_SCALES = ['0-10', '1-10', '1-7', '1-5'] as const;
export type NpsScale = (typeof NPS_SCALES)[number];

/**
 * Show a question only when an earlier answer matches ("ask why only of detractors"). Exactly one of the
 * conditions: the earlier answer's band, a set of values, or a range.
 */
export interface ShowIf {
  question: string;
  band_in?: Band[];
  value_in?: Array<number | string>;
  value_lte?: number;
  value_gte?: number;
}

interface QuestionBase {
  /** Unique in the survey: [a-z][a-z0-9_]{0,39}. Answers, results and the CSV are keyed by it. */
  key: string;
  /** The question; standard questions (nps, csat, ces, csi, cli) have a default wording in every language. */
  text?: Texts;
  /** A hint under the question ("0 = not at all likely"). */
  help?: Texts;
  required?: boolean; // default true for scored questions, false for text
  show_if?: ShowIf;
}

export interface NpsQuestion extends QuestionBase { type: 'nps'; scale?: NpsScale } // default '0-10'
export interface CsatQuestion extends QuestionBase { type: 'csat'; scale_max?: 5 | 7 | 10 } // 1..scale_max, default 5
export interface CesQuestion extends QuestionBase { type: 'ces' } // 1-7, agreement with "…made it easy…"
/** Customer Secure Index block: three items (satisfied, rebuy, recommend) on 1..scale_max; top `top_box` values are positive. */
export interface CsiQuestion extends QuestionBase {
  type: 'csi';
  scale_max?: 5 | 7 | 10; // default 5
  top_box?: number; // default 1 (only the top value is positive)
  items?: Partial<Record<CsiItem, Texts>>;
}
/** Customer Loyalty Index block: three items (recommend, buy, try) on 1-6, 1 = very likely. */
export interface CliQuestion extends QuestionBase { type: 'cli'; items?: Partial<Record<CliItem, Texts>> }
export interface RatingQuestion extends QuestionBase { type: 'rating'; scale_max?: 5 | 10 } // 1..scale_max, default 5
export interface ChoiceOption { key: string; label: Texts }
export interface SingleChoiceQuestion extends QuestionBase { type: 'single_choice'; options: ChoiceOption[] }
export interface MultipleChoiceQuestion extends QuestionBase { type: 'multiple_choice'; options: ChoiceOption[]; max_choices?: number }
export interface TextQuestion extends QuestionBase { type: 'text'; max_length?: number } // default 2000

export type Question =
  | NpsQuestion | CsatQuestion | CesQuestion | CsiQuestion | CliQuestion
  | RatingQuestion | SingleChoiceQuestion | MultipleChoiceQuestion | TextQuestion;
/** Every question type, once: the definition checks, the HTTP schemas and the results read this list. */
export const QUESTION_TYPES = ['nps', 'csat', 'ces', 'csi', 'cli', 'rating', 'single_choice', 'multiple_choice', 'text'] as const satisfies readonly Question['type'][];
export type QuestionType = (typeof QUESTION_TYPES)[number];

export const CSI_ITEMS = ['satisfied', 'rebuy', 'recommend'] as const;
export type CsiItem = (typeof CSI_ITEMS)[number];
export const CLI_ITEMS = ['recommend', 'buy', 'try'] as const;
export type CliItem = (typeof CLI_ITEMS)[number];

/** What a survey version holds (survey_versions.definition). */
export interface SurveyDefinition {
  title?: Texts;
  intro?: Texts;
  thank_you?: Texts;
  questions: Question[];
}

/**
 * The band of a scored answer, computed when it is stored (survey_answers.band):
 *  - NPS by its scale (domain.md): detractor / passive / promoter;
 *  - CSAT: satisfied (top two boxes) / dissatisfied (bottom two boxes) / neutral;
 *  - CES (1-7): low_effort (5-7) / high_effort (1-3) / neutral (4);
 *  - CSI items: positive (in the top box) / other.
 */
export type Band =
  | 'detractor' | 'passive' | 'promoter'
  | 'dissatisfied' | 'neutral' | 'satisfied'
  | 'high_effort' | 'low_effort'
  | 'positive' | 'other';

/** An answer as given to `respond`: a number for scales, an option key, option keys, or text. Blocks take `<key>.<item>`. */
export type AnswerValue = number | string | string[];
export type AnswerInput = Record<string, AnswerValue>;

/** One stored answer (a survey_answers row, as modules see it). */
export interface StoredAnswer {
  question_key: string; // '<key>' or '<key>.<item>' for CSI/CLI items
  question_type: QuestionType;
  scale_min: number | null;
  scale_max: number | null;
  value_number: number | null;
  value_text: string | null;
  value_choices: string[] | null;
  band: Band | null;
}

/**
 * What the surveys module tells other modules (the cases module) after a response is stored or edited, inside the
 * response's transaction.
 */
export interface SurveyResponded {
  tenantId: string;
  /**
   * follow_up: the survey is Patron's case follow-up ("Was your problem solved?"), whose answers confirm or reopen the
   * case in response.source. Every other survey's answers (the tenant's own after_case_closed surveys included) go
   * through the case open rules.
   */
  survey: { id: string; name: string; touchpoint: Touchpoint; version: number; follow_up: boolean };
  response: {
    id: string;
    member_id: string | null;
    invitation_id: string | null;
    channel: 'invitation' | 'public_link' | 'embed' | 'api';
    language: Language;
    tier_code: string | null;
    submitted_at: Date;
    /** What the invitation was for (an order, a closed case), when it came from one. */
    source: { type: 'transaction' | 'case'; id: string } | null;
  };
  answers: StoredAnswer[];
  /** True when this is an edit (within the edit window) of an earlier response. */
  edited: boolean;
}
