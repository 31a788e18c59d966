/**
 * A tenant's analytics settings (docs/analytics.md → Settings): the churn rule, the CLV model's margin, discount,
 * horizon, time unit and penalty, the at-risk rule, the nightly run and how long runs are kept. Stored as one document
 * (analytics_settings); a field left out takes its default, group by group. Pure: defaults, limits and the checks the
 * schema cannot make.
 */
import type { FieldError } from '../../platform/errors.js';
import { DEFAULT_ANALYTICS_SETTINGS, type AnalyticsSettings } from './analytics.types.js';

/** What a PUT may send: every group and every field in it optional. */
export type AnalyticsSettingsInput = {
  [K in keyof AnalyticsSettings]?: AnalyticsSettings[K] extends object ? Partial<AnalyticsSettings[K]> : AnalyticsSettings[K];
};

/** The ranges the schema enforces (analytics.schema.ts), named once for the docs and the tests. */
export const SETTINGS_LIMITS = {
  gapMultiple: { min: 0.5, max: 20 },
  churnDays: { min: 1, max: 3650 },
  horizonMonths: { min: 1, max: 120 },
  l2Penalty: { max: 100 },
  recentDays: { min: 7, max: 730 },
  lookbackDays: { min: 1, max: 3650 },
  keepRunsDays: { min: 7, max: 3650 },
} as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The stored (or sent) document over the defaults: each group is merged field by field, so a document written
 * before a field existed reads with that field's default, and a PUT of `{"clv": {"margin": 0.4}}` keeps the other
 * CLV fields at their defaults.
 */
export function withDefaults(stored: AnalyticsSettingsInput | null | undefined): AnalyticsSettings {
  const s = stored ?? {};
  const d = DEFAULT_ANALYTICS_SETTINGS;
  return {
    churn: { ...d.churn, ...(isObject(s.churn) ? s.churn : {}) },
    clv: { ...d.clv, ...(isObject(s.clv) ? s.clv : {}) },
    at_risk: { ...d.at_risk, ...(isObject(s.at_risk) ? s.at_risk : {}) },
    nightly: typeof s.nightly === 'boolean' ? s.nightly : d.nightly,
    keep_runs_days: typeof s.keep_runs_days === 'number' ? s.keep_runs_days : d.keep_runs_days,
  };
}

/** Problems of a settings body that span fields (the schema checks each field on its own). */
export function settingsErrors(body: unknown): FieldError[] {
  if (!isObject(body)) return [];
  const errs: FieldError[] = [];
  const churn = isObject(body.churn) ? body.churn : undefined;
  if (churn?.rule === 'fixed_days' && (churn.days === undefined || churn.days === null)) {
    errs.push({ field: 'churn.days', detail: "is required when churn.rule is 'fixed_days': the days without a purchase after which a customer counts as lost" });
  }
  return errs;
}
