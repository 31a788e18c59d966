/**
 * The demo sets its program up through the services with the bodies an admin would send to the API: each is checked
 * here against the route's schema (with the route's defaults) and the service's own checks first, so the demo can
 * never hold data the API would have refused.
 */
import type { TSchema } from '@sinclair/typebox';
import type { ValidateFunction } from 'ajv';
import { errors, type FieldError } from '../platform/errors.js';
import { makeAjv } from '../platform/http/ajv.js';
import { ajvToFieldErrors } from '../platform/http/problem.js';
import { mergeFieldErrors } from '../platform/http/validation.js';

const ajv = makeAjv('body');
const validators = new WeakMap<TSchema, ValidateFunction>();

/**
 * A request body as the route would take it: its schema and the service's own checks, in one 400 naming every bad
 * field. `refs`: the shared schemas (with an $id) the body's schema points at, as the route plugin adds them.
 */
export function body<T>(schema: TSchema, input: T, check: (b: unknown) => FieldError[] = () => [], refs: TSchema[] = []): T {
  for (const ref of refs) if (ref.$id && !ajv.getSchema(ref.$id)) ajv.addSchema(ref);
  let validate = validators.get(schema);
  if (!validate) validators.set(schema, (validate = ajv.compile(schema)));
  const schemaErrs = validate(input) ? [] : ajvToFieldErrors(validate.errors as never, 'body');
  const all = mergeFieldErrors(check(input), schemaErrs);
  if (all.length) throw errors.validation(all);
  return input;
}
