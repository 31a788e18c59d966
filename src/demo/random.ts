/**
 * A small seeded pseudo-random generator for the demo data: the same seed
 * gives the same members on every machine and every run (Math.random cannot be
 * seeded). sfc32, seeded through cyrb128 from a string; plenty for demo data,
 * not for anything secret.
 */

/** cyrb128: hashes a string into four 32-bit seeds. */
function cyrb128(str: string): [number, number, number, number] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(private readonly seed: string) {
    [this.a, this.b, this.c, this.d] = cyrb128(seed);
    for (let i = 0; i < 15; i++) this.uint32(); // mix the seed in
  }

  /** The next 32-bit unsigned integer (sfc32). */
  uint32(): number {
    this.a >>>= 0; this.b >>>= 0; this.c >>>= 0; this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by relative weight: `weighted([['bg', 55], ['en', 15]])`. */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** A string of `n` decimal digits (leading zeros allowed). */
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }

  /** A derived generator: the same label always gives the same stream, independent of how much this one was used. */
  fork(label: string): Rng {
    return new Rng(`${this.seed}/${label}`);
  }
}

/**
 * A UUID v7 for a moment in time, with the random bits taken from `rng`: the
 * ids sort like the times they stand for, and the same seed gives the same ids.
 */
export function uuidV7At(at: Date, rng: Rng): string {
  const ms = at.getTime();
  const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
  const timeHi = Math.floor(ms / 0x10000); // top 32 of 48 bits
  const timeLo = ms % 0x10000; // bottom 16 bits
  const randA = rng.uint32() & 0x0fff;
  const randB1 = (rng.uint32() & 0x3fff) | 0x8000; // variant 10
  const randB2 = rng.uint32();
  const randB3 = rng.uint32() & 0xffff;
  return `${hex(timeHi, 8)}-${hex(timeLo, 4)}-${hex(0x7000 | randA, 4)}-${hex(randB1, 4)}-${hex(randB2, 8)}${hex(randB3, 4)}`;
}
