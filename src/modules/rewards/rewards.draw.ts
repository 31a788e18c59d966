/**
 * The sweepstakes draw, as a pure function anyone can re-run: given the revealed seed and the entrant list of a draw
 * (GET /v1/rewards/{id}/draws), `drawWinners` gives the same winners. docs/program/rewards.md states the algorithm in
 * words; this file is its reference implementation.
 *
 * The seed is made when the sweepstakes is created and only its SHA-256 is published until the draw, so it cannot be
 * chosen once the entrants are known.
 */
import crypto from 'node:crypto';

export const DRAW_ALGORITHM = 'patron-draw-v1';

/** One entry: a reward redemption of N entries appears N times, in reward redemption id order. */
export type Entrant = readonly [rewardRedemptionId: string, memberId: string];

export interface Winner {
  position: number;
  /** Index of the winning entry in the entrant list. */
  entry: number;
  reward_redemption_id: string;
  member_id: string;
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

/** 32 random bytes, hex. */
export function newSeed(): string {
  return crypto.randomBytes(32).toString('hex');
}

/** The commitment published before the draw: SHA-256 of the seed's hex text. */
export const seedCommitment = (seed: string): string => sha256(seed);

/** SHA-256 of the entrant list: one "<reward_redemption_id> <member_id>\n" line per entry, in order. */
export function entrantsDigest(entrants: readonly Entrant[]): string {
  const h = crypto.createHash('sha256');
  for (const [r, m] of entrants) h.update(`${r} ${m}\n`, 'utf8');
  return h.digest('hex');
}

/**
 * Random integers from the seed: the bytes of SHA-256("<seed>:0"), SHA-256("<seed>:1"), … read 6 at a time as
 * big-endian 48-bit numbers; `below(n)` rejects the numbers at or above the largest multiple of n (no modulo bias).
 */
class SeededStream {
  private block = Buffer.alloc(0);
  private at = 0;
  private counter = 0;
  constructor(private readonly seed: string) {}

  private next48(): number {
    if (this.at + 6 > this.block.length) {
      this.block = crypto.createHash('sha256').update(`${this.seed}:${this.counter++}`, 'utf8').digest();
      this.at = 0;
      // 32 bytes hold five 6-byte numbers; the last 2 bytes of each block are not used.
    }
    const v = this.block.readUIntBE(this.at, 6);
    this.at += 6;
    return v;
  }

  below(n: number): number {
    const range = 2 ** 48;
    const limit = range - (range % n);
    for (;;) {
      const v = this.next48();
      if (v < limit) return v % n;
    }
  }
}

/**
 * Picks `count` winners, each a distinct member: repeatedly take a uniformly random entry from the entries not yet
 * taken (index j of the remaining list; the last remaining entry then moves into slot j); an entry of a member who
 * has already won is passed over. Stops at `count` winners or when no entry is left.
 */
export function drawWinners(seed: string, entrants: readonly Entrant[], count: number): Winner[] {
  const stream = new SeededStream(seed);
  const pool = entrants.map((_, i) => i);
  const won = new Set<string>();
  const winners: Winner[] = [];
  while (winners.length < count && pool.length > 0) {
    const j = stream.below(pool.length);
    const entry = pool[j]!;
    pool[j] = pool[pool.length - 1]!;
    pool.pop();
    const [rewardRedemptionId, memberId] = entrants[entry]!;
    if (won.has(memberId)) continue;
    won.add(memberId);
    winners.push({ position: winners.length + 1, entry, reward_redemption_id: rewardRedemptionId, member_id: memberId });
  }
  return winners;
}
