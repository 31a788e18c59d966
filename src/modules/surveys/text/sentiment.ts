/**
 * The sentiment of a free-text answer by a lexicon of stems per language (docs/surveys/text.md): positive words +1,
 * negative −1; a negator ("not", "не", "nu", "nie") flips the first sentiment word within the next NEGATION_WINDOW content
 * words (stopwords do not count); words that are
 * negative only when negated ("doesn't work") count −1 after a negator; after "but" (and its kin) words weigh
 * double, since the clause after it is the one a customer means. Score > 0 is positive, < 0 negative, 0 neutral.
 *
 * No maintained library covers all five languages (docs/surveys/text.md says which were looked at), so the method is
 * the same for each, and its accuracy is measured on text/labelled.fixture.ts by text.test.ts.
 */
import type { Language } from '../surveys.types.js';
import { LEXICONS, type Lexicon } from './lexicons/index.js';
import { tokenizeClauses } from './tokens.js';

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
  stopwords: Set<string>;
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
    stopwords: new Set(lex.stopwords),
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
  const state = { score: 0, weight: 1 };
  // A negation does not reach past the end of its clause: "не тот товар, обмен — кошмар".
  for (const clause of tokenizeClauses(text)) scoreClause(lex, clause, state);
  return state.score;
}

function scoreClause(lex: CompiledLexicon, tokens: string[], state: { score: number; weight: number }): void {
  // Content words (not stopwords) still to be flipped by the last negator: "nobody at the store could answer".
  let negationLeft = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (lex.contrast.has(t)) {
      // "but" weighs everything after it, to the end of the text.
      state.weight = CONTRAST_WEIGHT;
      negationLeft = 0;
      continue;
    }
    const negated = negationLeft > 0;
    const next = tokens[i + 1];
    const phrase = next !== undefined ? lex.phrases.get(`${t} ${next}`) : undefined;
    if (phrase !== undefined) {
      state.score += state.weight * (negated ? -phrase : phrase);
      negationLeft = 0;
      i++;
      continue;
    }
    if (isNegator(lex, t)) {
      // "no problem": the negator flips what follows it; a negator is itself no sentiment.
      negationLeft = NEGATION_WINDOW;
      continue;
    }
    const p = polarityOf(lex, t);
    if (p !== 0) {
      state.score += state.weight * (negated ? -p : p);
      // One negator flips one sentiment word: "not fast and not friendly" has two negators.
      negationLeft = 0;
    } else if (negated && lex.whenNegated.some((s) => t.startsWith(s))) {
      state.score -= state.weight;
      negationLeft = 0;
    } else if (negated && !lex.stopwords.has(t)) {
      negationLeft--;
    }
  }
}

export function sentimentOf(text: string, lang: Language): Sentiment {
  const s = sentimentScore(text, lang);
  return s > 0 ? 'positive' : s < 0 ? 'negative' : 'neutral';
}
