/** HTTP schemas of the at-risk list (docs/analytics/at-risk.md): the stage's result document, the list and its query. */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Uuid } from '../../../platform/http/schema.js';
import { RFM_SEGMENTS, type RiskReason } from '../analytics.types.js';

/** Every reason, in the order they are judged and shown. */
export const RISK_REASONS = ['low_p_alive', 'detractor', 'breached_case', 'falling_rate'] as const satisfies readonly RiskReason[];

const Money = (description: string) => Type.Integer({ description: `${description} Minor units of the run's currency.` });
const Count = (description: string) => Type.Integer({ minimum: 0, description });
const Reason = StringEnum(RISK_REASONS, {
  description: 'low_p_alive: P(alive) below the threshold; detractor: an NPS detractor answer in the lookback; breached_case: a case opened in the lookback whose first-response or resolution target was breached; falling_rate: purchase days in the recent window well below the member\'s own earlier rate.',
});

export const AtRiskResultSchema = Type.Object({
  as_of: Type.String({ format: 'date' }),
  currency: Type.String({ description: 'The currency of every money figure.' }),
  rule: Type.Object({
    min_clv_decile: Type.Integer({ description: 'Candidates: members in this CLV decile or above (10 = the top tenth).' }),
    p_alive_below: Type.Number(),
    rate_ratio_below: Type.Number(),
    recent_days: Type.Integer(),
    lookback_days: Type.Integer(),
    min_expected_days: Type.Number({ description: 'falling_rate is judged only for members whose own rate expects at least this many purchase days in the recent window.' }),
  }, { description: 'The settings the run used (analytics settings → at_risk).' }),
  candidates: Count('Members in the top CLV deciles.'),
  rate_judged: Count('Candidates with enough history for the falling_rate test (recent_rate_ratio set).'),
  at_risk: Count('Candidates with at least one reason: the at-risk list.'),
  value_at_risk: Money('The sum of the list\'s value at risk (each member\'s CLV if still active).'),
  by_reason: Type.Array(Type.Object({ reason: Reason, members: Count('Members with this reason (a member may have several).'), value_at_risk: Money('Their value at risk.') }),
    { description: 'Every reason, also those nobody has.' }),
  by_segment: Type.Array(Type.Object({ segment: Nullable(Type.String({ description: 'RFM segment key; null: not scored.' })), members: Count('Members on the list.'), value_at_risk: Money('Their value at risk.') }),
    { description: 'The list per RFM segment, the most money at risk first.' }),
}, { $id: 'AnalyticsAtRiskSummary', description: 'The at-risk stage of a run: how many members are on the list and why, and the money at risk.' });
export type AtRiskResult = Static<typeof AtRiskResultSchema>;

export const AtRiskMember = Type.Object({
  member_id: Uuid(),
  external_id: Nullable(Type.String()),
  email: Nullable(Type.String()),
  first_name: Nullable(Type.String()),
  last_name: Nullable(Type.String()),
  risk_reasons: Type.Array(Reason, { description: 'Why the member is on the list, in the order of `reason` (the name member scores and member_analytics use).' }),
  value_at_risk: Money('What the member brings over the CLV horizon if still active: CLV / P(alive). The list is ranked by it.'),
  clv: Nullable(Money('Predictive CLV over the horizon (the model\'s, already weighted by P(alive)).')),
  clv_decile: Nullable(Type.Integer({ description: '1-10, 10 = the top tenth of CLV.' })),
  p_alive: Nullable(Type.Number({ description: 'BG/NBD probability that the member is still a customer.' })),
  segment: Nullable(StringEnum(Object.keys(RFM_SEGMENTS) as Array<keyof typeof RFM_SEGMENTS>, { description: 'RFM segment.' })),
  last_purchase_on: Type.String({ format: 'date', description: 'The last purchase day up to as_of (tenant\'s time zone).' }),
  recency_days: Type.Integer({ description: 'Days from the last purchase to as_of.' }),
  recent_rate_ratio: Nullable(Type.Number({ description: 'Purchase days in the recent window / what the member\'s own earlier rate expects; null when not judged.' })),
}, { $id: 'AnalyticsAtRiskMember' });

export const AtRiskPage = Type.Object({
  run_id: Nullable(Uuid({ description: 'The run the list comes from; null when no run has been published yet (the list is then empty).' })),
  as_of: Nullable(Type.String({ format: 'date' })),
  currency: Nullable(Type.String()),
  data: Type.Array(Type.Ref(AtRiskMember)),
  next_cursor: Nullable(Type.String({ description: 'Pass as `cursor` to get the next page; null on the last page.' })),
}, { $id: 'AnalyticsAtRiskPage' });

const RunQuery = {
  run_id: Type.Optional(Uuid({ description: 'A succeeded run; default: the newest published run (the one member_analytics holds).' })),
  reason: Type.Optional(Reason),
};
export const AtRiskQuery = Obj({ ...RunQuery, ...PageQuery });
export const AtRiskCsvQuery = Obj(RunQuery);
