/**
 * Which of the five languages a free-text answer is in (docs/surveys/text.md).
 *
 * franc-min alone is unreliable on the one-line answers surveys get (it called "Доставка опоздала на три дня, очень
 * плохо" Bulgarian), so its vote is one of three signals:
 *  1. the script decides the candidates: Cyrillic → bg / ru, Latin → en / ro / pl;
 *  2. letters only one candidate uses (ru ы э ё, bg ъ ѝ; ro ă â î ș ț, pl ą ć ę ł ń ó ś ź ż) and frequent function
 *     words of each language (the lexicons' `markers`) score the candidates;
 *  3. franc-min, restricted to the candidates, adds its vote on texts long enough for trigrams to mean something.
 * A tie (or a text with no letters) falls back to the language the response was given in, when it is a candidate.
 */
import { franc } from 'franc-min';
import type { Language } from '../surveys.types.js';
import { LEXICONS } from './lexicons/index.js';
import { tokenize } from './tokens.js';

const ISO3: Record<Language, string> = { en: 'eng', bg: 'bul', ru: 'rus', ro: 'ron', pl: 'pol' };
const FROM_ISO3 = new Map(Object.entries(ISO3).map(([k, v]) => [v, k as Language]));

const CYRILLIC: Language[] = ['bg', 'ru'];
const LATIN: Language[] = ['en', 'ro', 'pl'];

/** Letters that only one language of its script uses. */
const OWN_LETTERS: Partial<Record<Language, RegExp>> = {
  // Bulgarian writes ь only before о (шофьор): anywhere else it is Russian.
  ru: /[ыэё]|ь(?!о)/gu,
  bg: /[ъѝ]/gu,
  ro: /[ăâîșşțţ]/gu,
  pl: /[ąćęłńóśźż]|rz|cz|sz/gu,
};
/**
 * Word endings typical of one language, worth one point each: Russian past tense (-ал, -ил, -ла, -ло), genitive
 * (-ого, -его), reflexive (-ся) and present (-ает, -яет, -ует); Bulgarian first-person aorist (купих, чаках) and
 * definite articles (приложението, цените).
 */
const OWN_ENDINGS: Partial<Record<Language, RegExp>> = {
  ru: /^(?!много$|дали$|било$|била$).{2,}(ого|его|ому|ему|ся|ал|ил|ял|ла|ло|ает|яет|ует)$/u,
  bg: /^.{3,}(ах|ях|ех|их|ието|ето|ото|ите)$/u,
};
const ENDING_WEIGHT = 1;
const LETTER_WEIGHT = 3;
const MARKER_WEIGHT = 2;
const FRANC_WEIGHT = 0.5;
/** Below this many letters franc's trigram statistics are noise. */
const FRANC_MIN_LETTERS = 20;

const MARKERS: Record<Language, Set<string>> = Object.fromEntries(
  Object.entries(LEXICONS).map(([lang, lex]) => [lang, new Set(lex.markers)]),
) as Record<Language, Set<string>>;

export function detectLanguage(text: string, fallback: Language | null): Language | null {
  const cyrillic = (text.match(/\p{Script=Cyrillic}/gu) ?? []).length;
  const latin = (text.match(/\p{Script=Latin}/gu) ?? []).length;
  if (cyrillic === 0 && latin === 0) return fallback;
  const candidates = cyrillic >= latin ? CYRILLIC : LATIN;

  const lower = text.toLowerCase();
  const tokens = tokenize(text);
  const score = new Map<Language, number>(candidates.map((c) => [c, 0]));
  for (const c of candidates) {
    const own = OWN_LETTERS[c];
    let s = own ? (lower.match(own) ?? []).length * LETTER_WEIGHT : 0;
    const ending = OWN_ENDINGS[c];
    for (const t of tokens) {
      if (MARKERS[c].has(t)) s += MARKER_WEIGHT;
      if (ending?.test(t)) s += ENDING_WEIGHT;
    }
    score.set(c, s);
  }
  if (cyrillic + latin >= FRANC_MIN_LETTERS) {
    const vote = FROM_ISO3.get(franc(text, { only: candidates.map((c) => ISO3[c]), minLength: 1 }));
    if (vote) score.set(vote, (score.get(vote) ?? 0) + FRANC_WEIGHT);
  }

  const ranked = [...score.entries()].sort((a, b) => b[1] - a[1]);
  const [first, second] = ranked;
  if (first && first[1] > 0 && (!second || first[1] > second[1])) return first[0];
  // A tie: the language the respondent chose is the best guess, when it writes in this script.
  if (fallback && candidates.includes(fallback)) return fallback;
  return first && first[1] > 0 ? first[0] : fallback;
}
