/**
 * What other modules may know of a member's analytics: their RFM segment and whether they are on the at-risk list,
 * as of the newest published run (member_analytics). Campaign audiences read it through CampaignsService's
 * `targets` dependency (wired in app.ts), so the campaigns module never reads analytics tables itself; triggers and
 * exports will read it the same way.
 */
import type { Queryable } from '../../../platform/db/db.js';
import type { RfmSegment } from '../analytics.types.js';
import { atRiskMembers, targetOf, targetsOf } from './at-risk.store.js';

export interface MemberTargets {
  /** Null when the member has a row but no segment (RFM not computed for them). */
  segment: RfmSegment | null;
  at_risk: boolean;
}

/** One member: a primary-key read. Null when no published run has scored the member (no purchases, or no run yet). */
export async function memberTargets(q: Queryable, tenantId: string, memberId: string): Promise<MemberTargets | null> {
  const row = await targetOf(q, tenantId, memberId);
  return row ? { segment: row.segment as RfmSegment | null, at_risk: row.at_risk } : null;
}

/** A batch of members in one statement; members no published run has scored are absent from the map. */
export async function membersTargets(q: Queryable, tenantId: string, memberIds: string[]): Promise<Map<string, MemberTargets>> {
  const rows = await targetsOf(q, tenantId, memberIds);
  return new Map(rows.map((r) => [r.member_id, { segment: r.segment as RfmSegment | null, at_risk: r.at_risk }]));
}

/** The members on the newest published at-risk list, a page after `afterId` in member id order (win-back triggers). */
export function atRiskMemberIds(q: Queryable, tenantId: string, afterId: string | null, limit: number): Promise<string[]> {
  return atRiskMembers(q, tenantId, afterId, limit);
}

/** Both, as the object CampaignsService takes (`targets: analyticsTargets` in app.ts). */
export const analyticsTargets = { member: memberTargets, members: membersTargets };
