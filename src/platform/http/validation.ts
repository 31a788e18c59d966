/**
 * Routes whose bodies are checked in two layers, the schema and the service's own rules, run with
 * `attachValidation` and report both layers in one 400, before any write: a rejected request is never stored
 * under its Idempotency-Key.
 */
import type { FastifyRequest } from 'fastify';
import { errors, type FieldError } from '../errors.js';
import { ajvToFieldErrors } from './problem.js';

/** Throws one 400 with every bad field of the schema and of `check`; the service's word wins on a field both name. */
export function rejectBadBody(req: FastifyRequest, check: (body: unknown) => FieldError[]): void {
  const failed = req.validationError as (Error & { validation?: any[]; validationContext?: string }) | undefined;
  if (failed && !failed.validation) throw failed;
  const schemaErrs = failed?.validation ? ajvToFieldErrors(failed.validation, failed.validationContext) : [];
  if (failed && failed.validationContext !== 'body') throw errors.validation(schemaErrs);
  const all = mergeFieldErrors(check(req.body), schemaErrs);
  if (all.length) throw errors.validation(all);
}

/** The service's errors, then the schema's on fields the service does not report on: the service's word wins. */
export function mergeFieldErrors(own: FieldError[], schemaErrs: FieldError[]): FieldError[] {
  // The schema's error on a field the service reports on (or on a field inside it, or around it: a nullable
  // object's `anyOf`) says the same thing less precisely.
  const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`) || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);
  return [...own, ...schemaErrs.filter((e) => !own.some((o) => related(o.field, e.field)))];
}
