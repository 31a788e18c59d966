/**
 * The upsert keys already seen in one import file, with the line of each, to
 * reject a later duplicate. A file may hold millions of rows and the job runs
 * under a small heap, so keys are kept as 64-bit hashes in typed arrays (about
 * 24 bytes a key, outside the JS heap) rather than as strings in a Map.
 *
 * Two different keys share a 64-bit hash with a probability of about
 * n² / 2^65 (3·10^-8 for a million keys): negligible next to a file's own
 * mistakes, and the cost of a collision is one row wrongly reported as a
 * duplicate, never a lost or merged record.
 */
export class KeySet {
  private capacity: number;
  private size = 0;
  /** Per slot: hash high, hash low, line + 1 (0 = empty slot). */
  private hi: Uint32Array;
  private lo: Uint32Array;
  private lines: Float64Array;

  constructor(initialCapacity = 1 << 14) {
    this.capacity = initialCapacity;
    this.hi = new Uint32Array(this.capacity);
    this.lo = new Uint32Array(this.capacity);
    this.lines = new Float64Array(this.capacity);
  }

  get count(): number {
    return this.size;
  }

  /** Records `key` at `line`; returns the line it was first seen on, or null when new. */
  add(key: string, line: number): number | null {
    const [h, l] = hash64(key);
    const mask = this.capacity - 1;
    let i = (l ^ Math.imul(h, 0x9e3779b1)) & mask;
    for (;;) {
      const stored = this.lines[i]!;
      if (stored === 0) break;
      if (this.hi[i] === h && this.lo[i] === l) return stored - 1;
      i = (i + 1) & mask;
    }
    this.hi[i] = h;
    this.lo[i] = l;
    this.lines[i] = line + 1;
    this.size++;
    if (this.size * 2 > this.capacity) this.grow();
    return null;
  }

  private grow(): void {
    const { hi, lo, lines } = this;
    this.capacity *= 2;
    this.hi = new Uint32Array(this.capacity);
    this.lo = new Uint32Array(this.capacity);
    this.lines = new Float64Array(this.capacity);
    const mask = this.capacity - 1;
    for (let j = 0; j < lines.length; j++) {
      if (lines[j] === 0) continue;
      let i = (lo[j]! ^ Math.imul(hi[j]!, 0x9e3779b1)) & mask;
      while (this.lines[i] !== 0) i = (i + 1) & mask;
      this.hi[i] = hi[j]!;
      this.lo[i] = lo[j]!;
      this.lines[i] = lines[j]!;
    }
  }
}

/** Two independent 32-bit hashes (murmur3-style mixing over UTF-16 code units). */
function hash64(s: string): [number, number] {
  let h1 = 0x811c9dc5 ^ s.length;
  let h2 = 0x27d4eb2f ^ Math.imul(s.length, 0x85ebca6b);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x5bd1e995);
    h1 ^= h1 >>> 15;
    h2 = Math.imul(h2 ^ c, 0xcc9e2d51);
    h2 = (h2 << 13) | (h2 >>> 19);
    h2 = Math.imul(h2, 5) + 0xe6546b64;
  }
  h1 = fmix(h1);
  h2 = fmix(h2 ^ h1);
  return [h1 >>> 0, h2 >>> 0];
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
