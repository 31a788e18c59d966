/**
 * Experience joined with behaviour (docs/analytics/at-risk.md → Experience): NPS, CSAT and CES of the run's lookback
 * by RFM segment, by the tier members hold now and by CLV decile, each beside the group's behaviour (members, CLV,
 * P(alive), share at risk). domain.md §1: NPS measures intent, not behaviour — always show it beside behaviour.
 *
 * The scores are the surveys module's pure formulas (surveys.scores.ts), fed the same kind of counts its results
 * use: NPS from the band stored with each answer (so 0-10, 1-10, 1-7 and 1-5 answers count together correctly);
 * CSAT and CES per scale, never a mean across two scales.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Queryable } from '../../../platform/db/db.js';
import { Nullable } from '../../../platform/http/schema.js';
import { cesScore, csatScore, npsScore, type CesScore, type CsatScore, type Distribution, type NpsScore } from '../../surveys/surveys.scores.js';
import { RFM_SEGMENTS, type ResultView, type RunScope, type StageRegistration } from '../analytics.types.js';
import { answerGroups, memberGroups, type AnswerGroupRow, type MemberGroupRow } from './experience.store.js';

// ── The result document ─────────────────────────────────────────────────────

const Int = (description: string) => Type.Integer({ minimum: 0, description });
const Pct = (description: string) => Nullable(Type.Number({ description: `${description} In percent, one decimal; null without answers.` }));
const Mean = Nullable(Type.Number({ description: 'Mean answer on this scale, two decimals; null without answers.' }));

const NpsSchema = Type.Object({
  n: Int('Answers.'), promoters: Int('Promoters.'), passives: Int('Passives.'), detractors: Int('Detractors.'),
  nps: Nullable(Type.Number({ description: '% promoters − % detractors, −100 to 100, one decimal.' })),
  promoters_pct: Pct('Promoters.'), passives_pct: Pct('Passives.'), detractors_pct: Pct('Detractors.'),
  margin_of_error: Nullable(Type.Number({ description: '95% margin of error in NPS points: 1.96·√(s²/n)·100, s² = (P + D) − (P − D)².' })),
}, { description: 'Over every NPS answer, whatever its scale: each answer\'s band was set on its own scale.' });

const Scale = Type.String({ description: 'The answers\' scale, e.g. "1-5".' });
const CsatSchema = Type.Array(Type.Object({
  scale: Scale, n: Int('Answers.'), satisfied: Int('Answers in the top two boxes of the scale.'), csat: Pct('Top-two-box share.'), mean: Mean,
}), { description: 'One entry per scale the answers were given on (smallest scale first).' });
const CesSchema = Type.Array(Type.Object({
  scale: Scale, n: Int('Answers.'), low_effort: Int('Answers 5-7.'), low_effort_pct: Pct('Share of low effort.'), mean: Mean,
}), { description: 'One entry per scale (CES is 1-7).' });

const groupFields = {
  members: Int('The run\'s members in the group (customers with a purchase up to as_of).'),
  respondents: Int('Of those, members who gave an NPS, CSAT or CES answer in the lookback.'),
  at_risk: Int('Of those, members on the at-risk list.'),
  clv_mean: Nullable(Type.Integer({ description: 'Mean predictive CLV, minor units of the run\'s currency; null without a model.' })),
  p_alive_mean: Nullable(Type.Number({ description: 'Mean P(alive), three decimals; null without a model.' })),
  nps: NpsSchema,
  csat: CsatSchema,
  ces: CesSchema,
};

export const ExperienceResultSchema = Type.Object({
  as_of: Type.String({ format: 'date' }),
  from: Type.String({ format: 'date', description: 'The first day of the lookback (tenant\'s time zone); answers up to and including as_of.' }),
  lookback_days: Type.Integer({ description: 'analytics settings → at_risk.lookback_days.' }),
  currency: Type.String(),
  excluded_answers: Int('Answers in the lookback of respondents the run has no row for (anonymous, or no purchase up to as_of): not in any group.'),
  overall: Type.Object(groupFields, { description: 'Every member of the run.' }),
  by_segment: Type.Array(Type.Object({ segment: Nullable(Type.String({ description: 'RFM segment key; null: not scored.' })), ...groupFields }),
    { description: 'In the order of the RFM table (champions first), then members without a segment.' }),
  by_tier: Type.Array(Type.Object({ tier: Nullable(Type.String({ description: 'The tier code the member holds now; null: none.' })), ...groupFields }),
    { description: 'Highest tier first, then members without a tier.' }),
  by_clv_decile: Type.Array(Type.Object({ clv_decile: Nullable(Type.Integer({ description: '10 = the top tenth of CLV; null: no model.' })), ...groupFields }),
    { description: 'Decile 10 first.' }),
}, { $id: 'AnalyticsExperience', description: 'NPS, CSAT and CES by RFM segment, tier and CLV decile, beside each group\'s behaviour.' });
export type ExperienceResult = Static<typeof ExperienceResultSchema>;

type CsatByScale = CsatScore & { scale: string };
type CesByScale = CesScore & { scale: string };
interface GroupScores {
  members: number; respondents: number; at_risk: number; clv_mean: number | null; p_alive_mean: number | null;
  nps: NpsScore; csat: CsatByScale[]; ces: CesByScale[];
}

// ── Folding the grouped rows ────────────────────────────────────────────────

/** What one group accumulates before the formulas run. */
class Acc {
  members = 0;
  respondents = 0;
  atRisk = 0;
  clvSum = 0;
  clvN = 0;
  pAliveSum = 0;
  pAliveN = 0;
  nps = { promoters: 0, passives: 0, detractors: 0 };
  /** Per scale ("1-5"): answers per value, and the answers in the scale's good band. */
  readonly csat = new Map<string, { dist: Map<number, number>; good: number }>();
  readonly ces = new Map<string, { dist: Map<number, number>; good: number }>();

  addMembers(r: MemberGroupRow): void {
    this.members += r.members;
    this.respondents += r.respondents;
    this.atRisk += r.at_risk;
    this.clvSum += r.clv_sum;
    this.clvN += r.clv_n;
    this.pAliveSum += r.p_alive_sum;
    this.pAliveN += r.p_alive_n;
  }

  addAnswers(r: AnswerGroupRow): void {
    if (r.question_type === 'nps') {
      if (r.band === 'promoter') this.nps.promoters += r.n;
      else if (r.band === 'passive') this.nps.passives += r.n;
      else if (r.band === 'detractor') this.nps.detractors += r.n;
      return;
    }
    const byScale = r.question_type === 'csat' ? this.csat : this.ces;
    const scale = `${r.scale_min ?? 1}-${r.scale_max ?? (r.question_type === 'ces' ? 7 : 5)}`;
    let s = byScale.get(scale);
    if (!s) byScale.set(scale, (s = { dist: new Map(), good: 0 }));
    s.dist.set(r.value_number, (s.dist.get(r.value_number) ?? 0) + r.n);
    if (r.band === (r.question_type === 'csat' ? 'satisfied' : 'low_effort')) s.good += r.n;
  }

  scores(): GroupScores {
    const perScale = <T>(m: Map<string, { dist: Map<number, number>; good: number }>, score: (d: Distribution, good: number) => T) =>
      [...m.entries()]
        .sort(([a], [b]) => scaleMax(a) - scaleMax(b) || a.localeCompare(b))
        .map(([scale, s]) => ({ scale, ...score(distribution(s.dist), s.good) }));
    return {
      members: this.members,
      respondents: this.respondents,
      at_risk: this.atRisk,
      clv_mean: this.clvN > 0 ? Math.round(this.clvSum / this.clvN) : null,
      p_alive_mean: this.pAliveN > 0 ? Math.round((this.pAliveSum / this.pAliveN) * 1000) / 1000 : null,
      nps: npsScore(this.nps),
      csat: perScale(this.csat, csatScore),
      ces: perScale(this.ces, cesScore),
    };
  }
}

const scaleMax = (scale: string): number => Number(scale.split('-')[1]);
const distribution = (m: Map<number, number>): Distribution => [...m.entries()].sort((a, b) => a[0] - b[0]).map(([value, count]) => ({ value, count }));

/** Accumulators keyed by one dimension's value. */
class Breakdown<K extends string | number | null> {
  readonly groups = new Map<K, Acc>();
  of(key: K): Acc {
    let a = this.groups.get(key);
    if (!a) this.groups.set(key, (a = new Acc()));
    return a;
  }
}

const SEGMENT_ORDER: string[] = Object.keys(RFM_SEGMENTS);
const nullsLast = <K>(order: (a: K, b: K) => number) => (a: K | null, b: K | null) => (a === null ? (b === null ? 0 : 1) : b === null ? -1 : order(a, b));

/** The result document from the grouped rows (pure: tested without a database too). */
export function buildExperience(scope: RunScope, from: string, members: MemberGroupRow[], answers: AnswerGroupRow[]): ExperienceResult {
  const overall = new Acc();
  const segments = new Breakdown<string | null>();
  const tiers = new Breakdown<string | null>();
  const deciles = new Breakdown<number | null>();
  const tierRank = new Map<string, number>();
  for (const r of members) {
    for (const acc of [overall, segments.of(r.segment), tiers.of(r.tier), deciles.of(r.clv_decile)]) acc.addMembers(r);
    if (r.tier !== null && r.tier_rank !== null) tierRank.set(r.tier, r.tier_rank);
  }
  let excluded = 0;
  for (const r of answers) {
    if (!r.scored) {
      excluded += r.n;
      continue;
    }
    for (const acc of [overall, segments.of(r.segment), tiers.of(r.tier), deciles.of(r.clv_decile)]) acc.addAnswers(r);
  }
  const segmentIndex = (s: string) => (SEGMENT_ORDER.includes(s) ? SEGMENT_ORDER.indexOf(s) : SEGMENT_ORDER.length);
  return {
    as_of: scope.asOf,
    from,
    lookback_days: scope.settings.at_risk.lookback_days,
    currency: scope.currency,
    excluded_answers: excluded,
    overall: overall.scores(),
    by_segment: [...segments.groups.entries()]
      .sort(([a], [b]) => nullsLast<string>((x, y) => segmentIndex(x) - segmentIndex(y) || x.localeCompare(y))(a, b))
      .map(([segment, acc]) => ({ segment, ...acc.scores() })),
    by_tier: [...tiers.groups.entries()]
      .sort(([a], [b]) => nullsLast<string>((x, y) => (tierRank.get(y) ?? 0) - (tierRank.get(x) ?? 0) || x.localeCompare(y))(a, b))
      .map(([tier, acc]) => ({ tier, ...acc.scores() })),
    by_clv_decile: [...deciles.groups.entries()]
      .sort(([a], [b]) => nullsLast<number>((x, y) => y - x)(a, b))
      .map(([clv_decile, acc]) => ({ clv_decile, ...acc.scores() })),
  };
}

/** The first day of the lookback: as_of − (lookback_days − 1), calendar arithmetic on the date alone. */
export function lookbackFrom(asOf: string, lookbackDays: number): string {
  const d = new Date(`${asOf}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - (lookbackDays - 1));
  return d.toISOString().slice(0, 10);
}

/** The experience stage: two grouped statements, folded into the document. Writes nothing; the pipeline stores it. */
export async function runExperience(q: Queryable, scope: RunScope): Promise<ExperienceResult> {
  const members = await memberGroups(q, scope);
  const answers = await answerGroups(q, scope);
  return buildExperience(scope, lookbackFrom(scope.asOf, scope.settings.at_risk.lookback_days), members, answers);
}

export const experienceStage: StageRegistration = { stage: 'experience', kind: 'experience', run: runExperience };

export const experienceView: ResultView = {
  kind: 'experience',
  path: '/v1/analytics/experience',
  summary: 'NPS, CSAT and CES by RFM segment, tier and CLV decile, beside each group\'s behaviour',
  schema: ExperienceResultSchema,
};
