/**
 * The sentiment of a free-text answer by a lexicon of stems per language (docs/surveys/text.md): positive words +1,
 * negative −1; a negator ("not", "не", "nu", "nie") flips the words in the next NEGATION_WINDOW tokens; words that are
 * negative only when negated ("doesn't work") count −1 after a negator; after "but" (and its kin) words weigh
 * double, since the clause after it is the one a customer means. Score > 0 is positive, < 0 negative, 0 neutral.
 *
 * No maintained library covers all five languages (docs/surveys/text.md says which were looked at), so the method is
 * the same for each, and its accuracy is measured on text/labelled.fixture.ts by text.test.ts.
 */
import type { Language } from '../surveys.types.js';
import { LEXICONS, type Lexicon } from './lexicons/index.js';
import { tokenize } from './tokens.js';

export type Sentiment = 'positive' | 'neutral' | 'negative';

export const NEGATION_WINDOW = 3;
const CONTRAST_WEIGHT = 2;

interface CompiledLexicon {
  exact: Map<string, number>;
  stems: Array<[string, number]>;
  phrases: Map<string, number>;
  whenNegated: string[];
  negators: Set<string>;
  contrast: Set<string>;
}

function compile(lex: Lexicon): CompiledLexicon {
  const exact = new Map<string, number>();
  const stems: Array<[string, number]> = [];
  const phrases = new Map<string, number>();
  const add = (entry: string, polarity: number) => {
    if (entry.includes(' ')) phrases.set(entry, polarity);
    else if (entry.startsWith('=')) exact.set(entry.slice(1), polarity);
    else stems.push([entry, polarity]);
  };
  for (const e of lex.positive) add(e, 1);
  for (const e of lex.negative) add(e, -1);
  // Longest stem first: "nemulțum" (−) must win over a shorter positive stem it might contain.
  stems.sort((a, b) => b[0].length - a[0].length);
  return {
    exact, stems, phrases,
    whenNegated: lex.negativeWhenNegated,
    negators: new Set(lex.negators.map((n) => n.replace(/^=/, ''))),
    contrast: new Set(lex.contrast),
  };
}

const COMPILED = new Map<Language, CompiledLexicon>();
function lexicon(lang: Language): CompiledLexicon {
  let c = COMPILED.get(lang);
  if (!c) COMPILED.set(lang, (c = compile(LEXICONS[lang])));
  return c;
}

function polarityOf(lex: CompiledLexicon, token: string): number {
  const exact = lex.exact.get(token);
  if (exact !== undefined) return exact;
  for (const [stem, p] of lex.stems) if (token.startsWith(stem)) return p;
  return 0;
}

const isNegator = (lex: CompiledLexicon, token: string): boolean =>
  lex.negators.has(token) || (token.endsWith("n't") && lex.negators.has("n't"));

/** The lexicon score of a text: the sum of its sentiment words' polarities after negation and contrast. */
export function sentimentScore(text: string, lang: Language): number {
  const lex = lexicon(lang);
  const tokens = tokenize(text);
  let score = 0;
  let negatedUntil = -1;
  let weight = 1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (lex.contrast.has(t)) {
      weight = CONTRAST_WEIGHT;
      negatedUntil = -1;
      continue;
    }
    const negated = i <= negatedUntil;
    const next = tokens[i + 1];
    const phrase = next !== undefined ? lex.phrases.get(`${t} ${next}`) : undefined;
    if (phrase !== undefined) {
      score += weight * (negated ? -phrase : phrase);
      i++;
      continue;
    }
    if (isNegator(lex, t)) {
      // "no problem": the negator flips what follows it; a negator is itself no sentiment.
      negatedUntil = i + NEGATION_WINDOW;
      continue;
    }
    const p = polarityOf(lex, t);
    if (p !== 0) {
      score += weight * (negated ? -p : p);
      // One negator flips one sentiment word: "not fast and not friendly" has two negators.
      if (negated) negatedUntil = -1;
    } else if (negated && lex.whenNegated.some((s) => t.startsWith(s))) {
      score -= weight;
      negatedUntil = -1;
    }
  }
  return score;
}

export function sentimentOf(text: string, lang: Language): Sentiment {
  const s = sentimentScore(text, lang);
  return s > 0 ? 'positive' : s < 0 ? 'negative' : 'neutral';
}
