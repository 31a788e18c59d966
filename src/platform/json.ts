/**
 * Free-form JSON from clients (member attributes, event properties) must fit in jsonb and be safe to walk:
 * checked without recursion, so a value nested thousands deep is a 400, not a stack overflow.
 */

/** Why `value` cannot be stored as given (too deep, a NUL character jsonb refuses, a number JSON cannot carry), or null. */
export function storableJsonError(value: unknown, maxDepth: number): string | null {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return 'numbers must be finite (JSON cannot carry 1e400 or NaN)';
    } else if (v !== null && typeof v === 'object') {
      if (depth >= maxDepth) return `must not nest deeper than ${maxDepth} levels`;
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
        stack.push({ v: x, depth: depth + 1 });
      }
    }
  }
  return null;
}
