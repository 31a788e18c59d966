/**
 * Unit tests of the Ajv -> `errors[]` translation. The errors come from a real
 * Ajv configured like the server's (allErrors, verbose), so a change in how
 * Ajv reports a keyword shows up here and not as a vague message in the API.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ajvToFieldErrors, pointerToField } from './problem.js';
import { Nullable, Obj, StringEnum } from './schema.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function errorsOf(schema: object, value: unknown, context?: string) {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, coerceTypes: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  assert.equal(validate(value), false, 'the sample must be invalid');
  return ajvToFieldErrors(validate.errors as any, context);
}

describe('pointerToField', () => {
  test('turns JSON pointers into dotted fields with [index] for arrays', () => {
    assert.equal(pointerToField(''), '');
    assert.equal(pointerToField('/email'), 'email');
    assert.equal(pointerToField('/consent/email'), 'consent.email');
    assert.equal(pointerToField('/lines/0/sku'), 'lines[0].sku');
    assert.equal(pointerToField('/0'), '[0]');
    assert.equal(pointerToField('/lines/12'), 'lines[12]');
    assert.equal(pointerToField('/matrix/1/2'), 'matrix[1][2]');
  });

  test('unescapes ~1 and ~0 (RFC 6901)', () => {
    assert.equal(pointerToField('/a~1b'), 'a/b');
    assert.equal(pointerToField('/a~0b/c'), 'a~b.c');
    // ~01 is "~1" literally, not "/"
    assert.equal(pointerToField('/x~01'), 'x~1');
  });
});

describe('ajvToFieldErrors', () => {
  const Line = Obj({ sku: Type.String({ minLength: 1 }), qty: Type.Integer({ minimum: 1 }) });
  const Body = Obj({
    name: Type.String({ minLength: 1, maxLength: 5 }),
    email: Type.Optional(Nullable(Type.String({ format: 'email' }))),
    phone: Type.Optional(Type.String({ pattern: '^\\+[0-9]+$', 'x-message': 'must be an E.164 number' })),
    locale: Type.Optional(StringEnum(['en', 'bg'])),
    consent: Type.Optional(Obj({ email: Type.Boolean() })),
    lines: Type.Optional(Type.Array(Line)),
  });

  test('names every bad field once, with a readable detail', () => {
    const errs = errorsOf(Body, {
      email: 5,
      phone: '0888',
      locale: 'fr',
      consent: {},
      lines: [{ sku: '', qty: 0 }, { sku: 'a', qty: 1, extra: true }],
      unknown: 1,
    });
    const byField = Object.fromEntries(errs.map((e) => [e.field, e.detail]));
    assert.equal(errs.length, Object.keys(byField).length, 'one entry per field');
    assert.deepEqual(Object.keys(byField).sort(), [
      'consent.email', 'email', 'lines[0].qty', 'lines[0].sku', 'lines[1].extra', 'locale', 'name', 'phone', 'unknown',
    ]);
    assert.equal(byField.name, 'is required');
    assert.equal(byField.unknown, 'is not a known field');
    assert.equal(byField['lines[1].extra'], 'is not a known field');
    assert.equal(byField['consent.email'], 'is required');
    assert.equal(byField.email, 'must be of type string or null', 'a nullable union gives one sentence, not one per branch');
    assert.equal(byField.phone, 'must be an E.164 number', 'x-message replaces the raw pattern');
    assert.equal(byField.locale, 'must be one of: en, bg');
    assert.match(byField['lines[0].sku']!, /fewer than 1 characters/);
    assert.match(byField['lines[0].qty']!, />= 1/);
  });

  test('a format error names the format', () => {
    assert.deepEqual(errorsOf(Body, { name: 'ab', email: 'not-an-email' }), [{ field: 'email', detail: 'must be a valid email' }]);
  });

  test('an error on the whole document names the part it came from', () => {
    assert.deepEqual(errorsOf(Body, 'text', 'body'), [{ field: '(body)', detail: 'must be of type object' }]);
    assert.deepEqual(errorsOf(Body, 'text'), [{ field: '(body)', detail: 'must be of type object' }]);
    assert.deepEqual(errorsOf(Type.Object({ limit: Type.Integer() }), [], 'querystring'), [{ field: '(querystring)', detail: 'must be of type object' }]);
    assert.deepEqual(errorsOf(Type.Object({ limit: Type.Integer({ maximum: 500 }) }), { limit: 501 }, 'querystring'), [{ field: 'limit', detail: 'must be <= 500' }]);
  });

  test('a whole number is called one', () => {
    assert.deepEqual(errorsOf(Obj({ n: Type.Integer() }), { n: 1.5 }), [{ field: 'n', detail: 'must be a whole number' }]);
  });

  test('a const or an unmatched union gets a sentence too', () => {
    assert.deepEqual(errorsOf(Obj({ v: Type.Literal(2) }), { v: 3 }), [{ field: 'v', detail: 'must be 2' }]);
    const Either = Obj({ v: Type.Union([Obj({ a: Type.String() }), Obj({ b: Type.String() })]) });
    assert.deepEqual(errorsOf(Either, { v: {} }), [
      { field: 'v.a', detail: 'is required' },
      { field: 'v.b', detail: 'is required' },
      { field: 'v', detail: 'does not match any allowed form' },
    ]);
    assert.deepEqual(errorsOf(Either, { v: 3 }), [{ field: 'v', detail: 'must be of type object' }]);
  });
});
