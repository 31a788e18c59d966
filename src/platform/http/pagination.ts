/**
 * Cursor pagination: lists are ordered by a unique key (usually the time-ordered
 * id), and the cursor is that key of the last item, opaque to clients.
 */
import { errors } from '../errors.js';

export function encodeCursor(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T extends Record<string, unknown>>(cursor: string | undefined, check: (v: any) => v is T): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (check(value)) return value;
  } catch {
    /* fall through */
  }
  throw errors.field('cursor', 'is not a cursor returned by this list');
}

// Strict: a cursor that reaches SQL must cast to uuid, or a forged one would be a 422 (or worse) instead of a 400.
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isIdCursor = (v: any): v is { id: string } =>
  typeof v === 'object' && v !== null && typeof v.id === 'string' && UUID_RE.test(v.id);

/** A cursor of a list ordered by (a timestamp, id): consent history, tier history, survey responses. */
export const isAtIdCursor = (v: any): v is { at: string; id: string } =>
  isIdCursor(v) && typeof (v as any).at === 'string' && !Number.isNaN(Date.parse((v as any).at));

/**
 * Builds a page from `limit + 1` rows fetched in order: the extra row only tells
 * whether another page exists.
 */
export function page<R, I>(rows: R[], limit: number, toItem: (r: R) => I, cursorOf: (r: R) => Record<string, unknown>): { data: I[]; next_cursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return {
    data: kept.map(toItem),
    next_cursor: more && kept.length > 0 ? encodeCursor(cursorOf(kept[kept.length - 1]!)) : null,
  };
}
