/**
 * The top keywords of a language's answers: tokens without the language's stopwords, grouped by a light stem (the
 * lexicon's endings stripped, longest first, keeping at least MIN_STEM letters) so "delivery" and "deliveries" or
 * "доставката" and "доставка" count as one; a group is shown as its most frequent form.
 */
import type { Language } from '../surveys.types.js';
import { LEXICONS } from './lexicons/index.js';
import { tokenize } from './tokens.js';

const MIN_STEM = 4;
const MIN_TOKEN = 3;

const STOPWORDS = new Map<Language, Set<string>>();
const stopwords = (lang: Language): Set<string> => {
  let s = STOPWORDS.get(lang);
  if (!s) STOPWORDS.set(lang, (s = new Set(LEXICONS[lang].stopwords)));
  return s;
};
const SUFFIXES = new Map<Language, string[]>();
const suffixes = (lang: Language): string[] => {
  let s = SUFFIXES.get(lang);
  if (!s) SUFFIXES.set(lang, (s = [...LEXICONS[lang].suffixes].sort((a, b) => b.length - a.length)));
  return s;
};

export function stem(token: string, lang: Language): string {
  for (const suffix of suffixes(lang)) {
    if (token.endsWith(suffix) && token.length - suffix.length >= MIN_STEM) return token.slice(0, -suffix.length);
  }
  return token;
}

export interface Keyword { term: string; count: number }

/** Counts keywords over many texts; `count` is the number of texts that use the keyword (not occurrences). */
export class KeywordCounter {
  private readonly groups = new Map<string, { texts: number; forms: Map<string, number> }>();

  constructor(private readonly lang: Language) {}

  add(text: string): void {
    const stop = stopwords(this.lang);
    const seen = new Set<string>();
    for (const t of tokenize(text)) {
      if (t.length < MIN_TOKEN || stop.has(t)) continue;
      const key = stem(t, this.lang);
      let g = this.groups.get(key);
      if (!g) this.groups.set(key, (g = { texts: 0, forms: new Map() }));
      g.forms.set(t, (g.forms.get(t) ?? 0) + 1);
      if (!seen.has(key)) {
        seen.add(key);
        g.texts++;
      }
    }
  }

  top(n: number): Keyword[] {
    const out: Keyword[] = [];
    for (const g of this.groups.values()) {
      const [term] = [...g.forms.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]!;
      out.push({ term, count: g.texts });
    }
    return out.sort((a, b) => b.count - a.count || a.term.localeCompare(b.term)).slice(0, n);
  }
}
