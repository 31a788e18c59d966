/**
 * The cohort matrix as stored and served (cohorts.ts has the same shape as types): the schema of the 'cohorts'
 * result document, for the OpenAPI document.
 */
import { Type } from '@sinclair/typebox';

const Month = (description: string) => Type.String({ pattern: '^\\d{4}-\\d{2}$', description: `${description} YYYY-MM, tenant's time zone.` });
const Count = (description: string) => Type.Integer({ minimum: 0, description });
const Revenue = (description: string) => Type.Integer({ description: `${description} Minor units of \`currency\`, net of returns.` });

const Cell = Type.Object({
  offset: Count('Months since the cohort\'s month (0: the month of the first purchase).'),
  month: Month('The month.'),
  customers: Count('Members of the cohort with at least one purchase in the month.'),
  percent: Type.Number({ minimum: 0, maximum: 100, description: 'customers / the cohort\'s customers × 100, one decimal.' }),
  revenue: Revenue('Their revenue in the month.'),
  partial: Type.Boolean({ description: 'The month of as_of, not yet over.' }),
});

export const CohortsSchema = Type.Object({
  as_of: Type.String({ format: 'date', description: 'The run\'s last day: orders dated up to and including it.' }),
  time_zone: Type.String({ description: 'The tenant\'s time zone the months follow.' }),
  currency: Type.String({ description: 'The program currency of every revenue figure.' }),
  last_month: Month('The month of as_of, where the matrix stops.'),
  last_month_partial: Type.Boolean({ description: 'as_of is not the last day of its month: that month\'s cells are partial.' }),
  customers: Count('Members with a purchase up to as_of.'),
  revenue: Revenue('Their revenue up to as_of.'),
  cohorts: Type.Array(Type.Object({
    month: Month('The month of the first purchase.'),
    customers: Count('Members whose first purchase was in the month.'),
    revenue: Revenue('Their revenue from the first purchase up to as_of.'),
    cells: Type.Array(Cell, { description: 'Offsets 0 to the as_of month, every month present.' }),
  }), { description: 'Oldest cohort first.' }),
}, {
  $id: 'AnalyticsCohorts',
  description: 'Monthly first-purchase cohorts of members (docs/analytics/cohorts.md). Orders: purchases, not voided, not wholly returned; money net of returns, in the program currency.',
});
