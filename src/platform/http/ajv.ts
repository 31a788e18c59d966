/**
 * The Ajv set-up of every request schema: all errors at once, unknown fields
 * kept (so they are reported), formats, and `verbose` for the `x-message` of a
 * pattern. The HTTP server uses it, and so does any module that checks records
 * against the same schemas outside a request (imports).
 */
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** `body`: JSON is typed, nothing is coerced. `other`: query strings and path params are text, coerced to the schema. */
export function makeAjv(part: 'body' | 'other'): Ajv {
  const ajv = new Ajv({
    allErrors: true, // report every bad field, not only the first
    removeAdditional: false, // unknown fields are an error, never silently dropped
    useDefaults: true,
    coerceTypes: part === 'body' ? false : 'array',
    strict: false,
    verbose: true, // errors carry their schema, for the `x-message` of a pattern
  });
  addFormats(ajv);
  // RFC 3339 allows a leap second (23:59:60), which no JavaScript Date can hold: a timestamp must also be one
  // Date.parse understands, or it would reach the services as NaN.
  const dateTime = ajv.formats['date-time'] as { validate: (s: string) => boolean } | ((s: string) => boolean);
  const rfc3339 = typeof dateTime === 'function' ? dateTime : dateTime.validate;
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => rfc3339(s) && !Number.isNaN(Date.parse(s)) });
  return ajv;
}
