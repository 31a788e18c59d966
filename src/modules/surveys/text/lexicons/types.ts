/**
 * What the lexicon method (docs/surveys/text.md) knows about one language. Words are lowercase and normalised as
 * `normalise` in ../tokens.ts does (NFC, Romanian ş/ţ as ș/ț, Russian ё as е).
 *
 * Sentiment entries are stems matched as prefixes of a token ("disappoint" matches "disappointed"), or whole words
 * when written with a leading "=" ("=late" does not match "later"), or two-word phrases ("on time").
 */
export interface Lexicon {
  /** Stems of words that make feedback positive. */
  positive: string[];
  /** Stems of words that make feedback negative. */
  negative: string[];
  /** Stems that are negative only when negated ("doesn't work", "не работи"). */
  negativeWhenNegated: string[];
  /** Words that flip the first sentiment word among the next NEGATION_WINDOW content words of their clause. */
  negators: string[];
  /** "but" and its kin: what follows weighs double ("fast, but rude" is negative). */
  contrast: string[];
  /** Words left out of keywords. */
  stopwords: string[];
  /** Endings stripped (longest first) to group the forms of a word into one keyword; stems keep ≥ 4 letters. */
  suffixes: string[];
  /** Frequent function words that tell this language from its neighbours in short texts. */
  markers: string[];
}
