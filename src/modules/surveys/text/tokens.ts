/** Tokens of a free-text answer, shared by language detection, sentiment and keywords. */

/**
 * Lowercase, NFC, and the spellings that vary in the wild made one: Romanian ş/ţ (cedilla, from old keyboards) as
 * ș/ț (comma), Russian ё as е (most Russians type е), the typographic apostrophe as '.
 */
export function normalise(text: string): string {
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(/ş/g, 'ș')
    .replace(/ţ/g, 'ț')
    .replace(/ё/g, 'е')
    .replace(/[’`]/g, "'");
}

/** Words: runs of letters, with inner apostrophes and hyphens kept only for English contractions ("didn't"). */
export function tokenize(text: string): string[] {
  return normalise(text).match(/\p{L}+(?:'\p{L}+)?/gu) ?? [];
}

/** Words per clause: punctuation (. , ; : ! ? dashes, brackets) ends a clause, and with it a negation's scope. */
export function tokenizeClauses(text: string): string[][] {
  return text.split(/[.,;:!?()[\]{}…\u2013\u2014]+|\s-\s/u).map(tokenize).filter((c) => c.length > 0);
}
