/**
 * Calendar days (YYYY-MM-DD) as the analytics module uses them: the days a caller may ask about, and (below) the
 * arithmetic shared by the runs, behaviour and cohorts.
 */
import { errors } from '../../platform/errors.js';

/** The days a caller may name: the schema's `date` format admits year 0000, which PostgreSQL refuses. */
export const FIRST_DAY = '1900-01-01';
export const LAST_DAY = '2999-12-31';

/** A 400 naming `field` unless `day` (already a well-formed date) lies in FIRST_DAY…LAST_DAY. */
export function checkDay(field: string, day: string | undefined): void {
  if (day !== undefined && (day < FIRST_DAY || day > LAST_DAY)) throw errors.field(field, `must be a day from ${FIRST_DAY} to ${LAST_DAY}`);
}
