/** Ids are UUID v7, made in the application: time-ordered (good for indexes and cursors) and unique across nodes. */
import crypto from 'node:crypto';

// RFC 9562 UUID v7 with the monotonic counter of its method 1 (as the `uuid`
// package's v7() keeps it): 48 bits of Unix milliseconds, a 31-bit counter
// that starts at a random value each millisecond and counts up within it (so
// ids made in one process sort in the order they were made), and 42 random
// bits. Made here rather than with `uuid` because bulk paths (imports) make
// millions of ids, and drawing 16 random bytes from the OS per id dominated
// their cost: random bytes come from a 4 KiB pool instead.
const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let at = POOL_BYTES;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const state = { msecs: -Infinity, seq: 0 };

export const newId = (): string => {
  if (at + 10 > pool.length) {
    pool = crypto.randomFillSync(new Uint8Array(POOL_BYTES));
    at = 0;
  }
  const r = at;
  at += 10;
  const now = Date.now();
  if (now > state.msecs) {
    state.msecs = now;
    state.seq = ((pool[r]! & 0x7f) << 24) | (pool[r + 1]! << 16) | (pool[r + 2]! << 8) | pool[r + 3]!;
  } else {
    state.seq = (state.seq + 1) | 0;
    if (state.seq === 0) state.msecs++;
  }
  const ms = state.msecs;
  const seq = state.seq;
  return (
    HEX[(ms / 0x10000000000) & 0xff]! + HEX[(ms / 0x100000000) & 0xff]! + HEX[(ms / 0x1000000) & 0xff]! + HEX[(ms / 0x10000) & 0xff]! + '-' +
    HEX[(ms / 0x100) & 0xff]! + HEX[ms & 0xff]! + '-' +
    HEX[0x70 | ((seq >>> 28) & 0x0f)]! + HEX[(seq >>> 20) & 0xff]! + '-' +
    HEX[0x80 | ((seq >>> 14) & 0x3f)]! + HEX[(seq >>> 6) & 0xff]! + '-' +
    HEX[((seq << 2) & 0xff) | (pool[r + 4]! & 0x03)]! + HEX[pool[r + 5]!]! + HEX[pool[r + 6]!]! + HEX[pool[r + 7]!]! + HEX[pool[r + 8]!]! + HEX[pool[r + 9]!]!
  );
};

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID_RE.test(s);
