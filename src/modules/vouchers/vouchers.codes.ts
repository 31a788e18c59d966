/**
 * Voucher codes: normalisation (codes compare case-insensitively, so they are stored upper case) and generation from
 * a pattern with crypto randomness.
 *
 * A pattern is literal characters (letters, digits, `-`, `_`) and placeholders:
 *   `#`  a digit 0-9                                  (3.32 bits)
 *   `?`  a letter, without I and O                    (4.58 bits)
 *   `*`  a digit 2-9 or a letter without I and O      (5 bits)
 * Letters and digits that read alike (0/O, 1/I) are left out where they could be mistaken for each other. A pattern
 * must carry at least 40 bits of randomness: with fewer, a few million guesses would find codes of a large batch.
 */
import crypto from 'node:crypto';

export const DIGITS = '0123456789';
export const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
export const ALNUM = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
const SLOTS: Record<string, string> = { '#': DIGITS, '?': LETTERS, '*': ALNUM };

export const MIN_BITS = 40;
export const MAX_CODE_LENGTH = 64;
/** The pattern when none is given: 12 characters of 5 bits (60 bits), in groups of four. */
export const DEFAULT_PATTERN = '****-****-****';

const LITERAL = /^[A-Z0-9_-]$/;
/** What an imported or typed code may hold. */
export const CODE_RE = /^[A-Z0-9_-]{3,64}$/;

/** Upper case, surrounding blanks removed: how a code is stored and looked up. */
export function normaliseCode(code: string): string {
  return code.trim().toUpperCase();
}

export interface ParsedPattern {
  /** Per position: the alphabet to draw from, or the literal character. */
  parts: Array<{ alphabet: string } | { literal: string }>;
  bits: number;
}

/** The pattern parsed, or what is wrong with it (for a 400 naming the field). */
export function parsePattern(pattern: string): ParsedPattern | { error: string } {
  const p = pattern.toUpperCase();
  if (p.length < 1 || p.length > MAX_CODE_LENGTH) return { error: `must be 1 to ${MAX_CODE_LENGTH} characters` };
  const parts: ParsedPattern['parts'] = [];
  let bits = 0;
  for (const ch of p) {
    const alphabet = SLOTS[ch];
    if (alphabet) {
      parts.push({ alphabet });
      bits += Math.log2(alphabet.length);
    } else if (LITERAL.test(ch)) {
      parts.push({ literal: ch });
    } else {
      return { error: `may hold letters, digits, - and _ and the placeholders # (digit), ? (letter), * (letter or digit); got ${JSON.stringify(ch)}` };
    }
  }
  if (bits < MIN_BITS) {
    return { error: `has ${bits.toFixed(1)} bits of randomness; at least ${MIN_BITS} are needed so that codes cannot be guessed (e.g. 8 * or 12 #)` };
  }
  return { parts, bits };
}

/** Random bytes drawn in large blocks (one system call for thousands of codes). */
class ByteSource {
  private buf = Buffer.alloc(0);
  private pos = 0;

  next(): number {
    if (this.pos >= this.buf.length) {
      this.buf = crypto.randomBytes(65536);
      this.pos = 0;
    }
    return this.buf[this.pos++]!;
  }

  /** A uniform index below n (n <= 256): bytes at or above the largest multiple of n are drawn again (no bias). */
  below(n: number): number {
    const limit = 256 - (256 % n);
    for (;;) {
      const b = this.next();
      if (b < limit) return b % n;
    }
  }
}

/** `count` codes from a parsed pattern (duplicates among them are possible and left to the database to find). */
export function generateCodes(pattern: ParsedPattern, count: number): string[] {
  const src = new ByteSource();
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    let code = '';
    for (const part of pattern.parts) code += 'literal' in part ? part.literal : part.alphabet[src.below(part.alphabet.length)];
    out[i] = code;
  }
  return out;
}
