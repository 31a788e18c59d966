/**
 * Free-text answers of a survey and period, analysed at query time: per language (detected, docs/surveys/text.md)
 * the number of answers, the share of positive, neutral and negative ones, and the top keywords.
 */
import { LANGUAGES, type Language } from '../surveys.types.js';
import { detectLanguage } from './detect.js';
import { KeywordCounter, type Keyword } from './keywords.js';
import { sentimentOf, type Sentiment } from './sentiment.js';

export interface TextAnswer { text: string; language: Language }

export interface LanguageTextResult {
  language: Language;
  answers: number;
  sentiment: Record<Sentiment, { count: number; share: number }>;
  keywords: Keyword[];
}

export function analyseTexts(answers: TextAnswer[], topKeywords: number): LanguageTextResult[] {
  const by = new Map<Language, { answers: number; counts: Record<Sentiment, number>; keywords: KeywordCounter }>();
  for (const a of answers) {
    if (!a.text.trim()) continue;
    const lang = detectLanguage(a.text, a.language) ?? a.language;
    let g = by.get(lang);
    if (!g) by.set(lang, (g = { answers: 0, counts: { positive: 0, neutral: 0, negative: 0 }, keywords: new KeywordCounter(lang) }));
    g.answers++;
    g.counts[sentimentOf(a.text, lang)]++;
    g.keywords.add(a.text);
  }
  const share = (count: number, n: number) => Math.round((count / n) * 1000) / 10;
  return LANGUAGES.filter((l) => by.has(l)).map((language) => {
    const g = by.get(language)!;
    const s = (k: Sentiment) => ({ count: g.counts[k], share: share(g.counts[k], g.answers) });
    return { language, answers: g.answers, sentiment: { positive: s('positive'), neutral: s('neutral'), negative: s('negative') }, keywords: g.keywords.top(topKeywords) };
  });
}
