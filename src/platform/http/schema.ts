/**
 * Schema helpers shared by every route file. Request and response schemas are
 * TypeBox (JSON Schema), so they validate requests, serialise responses and
 * generate the OpenAPI document from one source.
 */
import { Type, type TSchema, type TObject, type TProperties, type ObjectOptions } from '@sinclair/typebox';

/** A request object: unknown fields are rejected (a 400 naming them). */
export const Obj = <T extends TProperties>(props: T, opts: ObjectOptions = {}): TObject<T> =>
  Type.Object(props, { additionalProperties: false, ...opts });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Uuid = (opts: Record<string, unknown> = {}) => Type.String({ format: 'uuid', ...opts });

export const Timestamp = (opts: Record<string, unknown> = {}) => Type.String({ format: 'date-time', ...opts });

export const IdParams = Obj({ id: Uuid({ description: 'Patron id' }) });

export const LOCALES = ['en', 'bg', 'ru', 'ro', 'pl'] as const;
export type Locale = (typeof LOCALES)[number];
/** A string restricted to `values`, as a plain JSON Schema enum (one clear error message). */
export const StringEnum = <const T extends readonly string[]>(values: T, opts: Record<string, unknown> = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts });

export const LocaleSchema = StringEnum(LOCALES, { description: 'One of en, bg, ru, ro, pl.' });

export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Items per page (1-500, default 50).' }),
  cursor: Type.Optional(Type.String({ maxLength: 500, description: 'The next_cursor of the previous page.' })),
};

/** `{ data: [...], next_cursor }`, the shape of every list. */
export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    data: Type.Array(item),
    next_cursor: Nullable(Type.String({ description: 'Pass as `cursor` to get the next page; null on the last page.' })),
  });

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    instance: Type.Optional(Type.String()),
    request_id: Type.Optional(Type.String()),
    errors: Type.Array(Type.Object({ field: Type.String(), detail: Type.String() })),
  },
  { $id: 'Problem', description: 'An RFC 9457 problem document (application/problem+json).' },
);

/** Standard error responses to document on a route, by status. */
export const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, { description: problemDescription(s), content: { 'application/problem+json': { schema: Type.Ref(ProblemSchema) } } }]));

function problemDescription(status: number): string {
  return (
    {
      400: 'Bad input: every offending field is listed in `errors`.',
      401: 'Missing or invalid API key.',
      403: 'The key lacks the scope this route needs.',
      404: 'Not found (also for objects of another tenant).',
      409: 'Conflict (duplicate, or Idempotency-Key reused with another body or still in flight).',
      410: 'Gone: it existed but is over (an expired invitation, a closed survey).',
      413: 'Body too large.',
      415: 'Unsupported Content-Type.',
      422: 'Valid input that cannot be processed in the current state.',
      429: 'Rate limited: see Retry-After.',
    } as Record<number, string>
  )[status] ?? 'Error';
}
