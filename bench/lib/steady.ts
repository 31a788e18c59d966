/**
 * The steady phase of the delivery benchmarks (webhooks, messages): items numbered from `first` are committed at
 * `rate` a second for `seconds` seconds, in batches every 100 ms; `commitOf(n)` is when the batch holding item n
 * committed, the start of that item's latency.
 */
export interface SteadyLoad {
  /** The number after the last item committed. */
  next: number;
  commitOf(n: number): number;
}

/** `commit(from, to)` commits items [from, to) and returns the time of its commit (ms since the epoch). */
export async function steadyLoad(commit: (from: number, to: number) => Promise<number>, first: number, rate: number, seconds: number): Promise<SteadyLoad> {
  const perTick = Math.max(1, Math.round(rate / 10));
  const commitAt = new Map<number, number>(); // first item of a batch → its commit time
  let next = first;
  const end = Date.now() + seconds * 1000;
  let tick = Date.now();
  while (Date.now() < end) {
    const from = next;
    next += perTick;
    commitAt.set(from, await commit(from, next));
    tick += 100;
    const wait = tick - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const starts = [...commitAt.keys()].sort((a, b) => a - b);
  return {
    next,
    commitOf(n: number): number {
      // The batch holding item n: the last start at or below it (binary search).
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= n) lo = mid;
        else hi = mid - 1;
      }
      return commitAt.get(starts[lo]!)!;
    },
  };
}
