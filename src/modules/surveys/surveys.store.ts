/** SQL of the surveys module: surveys, their versions, settings, invitations, responses and answers. */
import type { Queryable } from '../../platform/db/db.js';
import type { Language, StoredAnswer, SurveyDefinition, Touchpoint } from './surveys.types.js';

export type SurveyStatus = 'draft' | 'live' | 'closed';
export type SurveyTrigger =
  | { type: 'after_purchase'; days: number }
  | { type: 'after_case_closed'; days: number }
  | { type: 'relationship'; every_days: number };

export interface SurveyRow {
  id: string;
  name: string;
  touchpoint: Touchpoint;
  touchpoint_label: string | null;
  status: SurveyStatus;
  current_version: number;
  default_language: Language;
  trigger: SurveyTrigger | null;
  reward_event: string | null;
  public_link: boolean;
  invitation_ttl_days: number;
  system_key: string | null;
  published_at: Date | null;
  closed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A survey row with the definition of its current version. */
export type SurveyWithDefinition = SurveyRow & { definition: SurveyDefinition };

export interface VersionRow {
  survey_id: string;
  version: number;
  definition: SurveyDefinition;
  created_at: Date;
}

export interface SettingsRow {
  min_days_between_invitations: number;
  edit_window_minutes: number;
  link_secret: Buffer;
  updated_at: Date;
}

export type InvitationStatus = 'scheduled' | 'pending' | 'responded' | 'expired' | 'skipped';
export type InvitationTrigger = 'api' | 'after_purchase' | 'after_case_closed' | 'relationship';

export interface InvitationRow {
  id: string;
  survey_id: string;
  member_id: string;
  trigger: InvitationTrigger;
  source_type: 'transaction' | 'case' | null;
  source_id: string | null;
  status: InvitationStatus;
  skip_reason: string | null;
  send_at: Date;
  sent_at: Date | null;
  expires_at: Date | null;
  responded_at: Date | null;
  created_at: Date;
}

export type Channel = 'invitation' | 'public_link' | 'embed' | 'api';

export interface ResponseRow {
  id: string;
  survey_id: string;
  version: number;
  invitation_id: string | null;
  member_id: string | null;
  channel: Channel;
  language: Language;
  touchpoint: Touchpoint;
  tier_code: string | null;
  metadata: Record<string, unknown>;
  submitted_at: Date;
  updated_at: Date;
  editable_until: Date;
}

export interface AnswerRow extends StoredAnswer {
  response_id: string;
}

const SURVEY_COLS = `id, name, touchpoint, touchpoint_label, status, current_version, default_language, trigger, reward_event, public_link,
  invitation_ttl_days, system_key, published_at, closed_at, created_at, updated_at`;
/** SURVEY_COLS of `s`, with its current version's definition joined from `v` (see WITH_CURRENT). */
const SURVEY_DEF_COLS = `${SURVEY_COLS.split(',').map((c) => `s.${c.trim()}`).join(', ')}, v.definition`;
const WITH_CURRENT = 'surveys s JOIN survey_versions v ON v.tenant_id = s.tenant_id AND v.survey_id = s.id AND v.version = s.current_version';
const INV_COLS = 'id, survey_id, member_id, trigger, source_type, source_id, status, skip_reason, send_at, sent_at, expires_at, responded_at, created_at';
const RESP_COLS = 'id, survey_id, version, invitation_id, member_id, channel, language, touchpoint, tier_code, metadata, submitted_at, updated_at, editable_until';
const ANSWER_COLS = 'response_id, question_key, question_type, scale_min, scale_max, value_number, value_text, value_choices, band';

// ── Surveys and versions ───────────────────────────────────────────────────────

/** Inserts a survey; null when a system survey of that key exists already. */
export async function insertSurvey(q: Queryable, tenantId: string, s: SurveyRow): Promise<SurveyRow | null> {
  const { rows } = await q.query<SurveyRow>(
    `INSERT INTO surveys (tenant_id, id, name, touchpoint, touchpoint_label, status, current_version, default_language, trigger, reward_event,
       public_link, invitation_ttl_days, system_key, published_at, closed_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
     ON CONFLICT DO NOTHING RETURNING ${SURVEY_COLS}`,
    [tenantId, s.id, s.name, s.touchpoint, s.touchpoint_label, s.status, s.current_version, s.default_language, s.trigger === null ? null : JSON.stringify(s.trigger),
      s.reward_event, s.public_link, s.invitation_ttl_days, s.system_key, s.published_at, s.closed_at, s.created_at, s.updated_at],
  );
  return rows[0] ?? null;
}

export async function updateSurvey(q: Queryable, tenantId: string, s: SurveyRow): Promise<SurveyRow> {
  const { rows } = await q.query<SurveyRow>(
    `UPDATE surveys SET name = $3, touchpoint = $4, touchpoint_label = $5, status = $6, current_version = $7, default_language = $8, trigger = $9,
       reward_event = $10, public_link = $11, invitation_ttl_days = $12, published_at = $13, closed_at = $14, updated_at = $15
     WHERE tenant_id = $1 AND id = $2 RETURNING ${SURVEY_COLS}`,
    [tenantId, s.id, s.name, s.touchpoint, s.touchpoint_label, s.status, s.current_version, s.default_language, s.trigger === null ? null : JSON.stringify(s.trigger),
      s.reward_event, s.public_link, s.invitation_ttl_days, s.published_at, s.closed_at, s.updated_at],
  );
  return rows[0]!;
}

export async function getSurvey(q: Queryable, tenantId: string, id: string, lock = false): Promise<SurveyRow | null> {
  const { rows } = await q.query<SurveyRow>(`SELECT ${SURVEY_COLS} FROM surveys WHERE tenant_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return rows[0] ?? null;
}

/** A survey with its current version's definition, in one statement (`lock`: the survey row only). */
export async function getSurveyWithDefinition(q: Queryable, tenantId: string, id: string, lock = false): Promise<SurveyWithDefinition | null> {
  const { rows } = await q.query<SurveyWithDefinition>(`SELECT ${SURVEY_DEF_COLS} FROM ${WITH_CURRENT} WHERE s.tenant_id = $1 AND s.id = $2${lock ? ' FOR UPDATE OF s' : ''}`, [tenantId, id]);
  return rows[0] ?? null;
}

export async function systemSurvey(q: Queryable, tenantId: string, key: string): Promise<SurveyRow | null> {
  const { rows } = await q.query<SurveyRow>(`SELECT ${SURVEY_COLS} FROM surveys WHERE tenant_id = $1 AND system_key = $2`, [tenantId, key]);
  return rows[0] ?? null;
}

/** A page of surveys, each with its current version's definition (one statement, not one more per survey). */
export async function listSurveys(q: Queryable, tenantId: string, f: { status?: string; touchpoint?: string; afterId?: string; limit: number }): Promise<SurveyWithDefinition[]> {
  const { rows } = await q.query<SurveyWithDefinition>(
    `SELECT ${SURVEY_DEF_COLS} FROM ${WITH_CURRENT} WHERE s.tenant_id = $1 AND ($2::text IS NULL OR s.status = $2) AND ($3::text IS NULL OR s.touchpoint = $3)
       AND ($4::uuid IS NULL OR s.id > $4) ORDER BY s.id LIMIT $5`,
    [tenantId, f.status ?? null, f.touchpoint ?? null, f.afterId ?? null, f.limit],
  );
  return rows;
}

/** Live surveys with a trigger of this type (the order hook's and the job's work lists). */
export async function liveSurveysTriggered(q: Queryable, tenantId: string, type: SurveyTrigger['type']): Promise<SurveyRow[]> {
  const { rows } = await q.query<SurveyRow>(`SELECT ${SURVEY_COLS} FROM surveys WHERE tenant_id = $1 AND status = 'live' AND trigger_type = $2 ORDER BY id`, [tenantId, type]);
  return rows;
}

export async function insertVersion(q: Queryable, tenantId: string, v: VersionRow): Promise<void> {
  await q.query('INSERT INTO survey_versions (tenant_id, survey_id, version, definition, created_at) VALUES ($1, $2, $3, $4, $5)',
    [tenantId, v.survey_id, v.version, JSON.stringify(v.definition), v.created_at]);
}

export async function replaceVersion(q: Queryable, tenantId: string, surveyId: string, version: number, def: SurveyDefinition): Promise<void> {
  await q.query('UPDATE survey_versions SET definition = $4 WHERE tenant_id = $1 AND survey_id = $2 AND version = $3', [tenantId, surveyId, version, JSON.stringify(def)]);
}

export async function getVersion(q: Queryable, tenantId: string, surveyId: string, version: number): Promise<VersionRow | null> {
  const { rows } = await q.query<VersionRow>('SELECT survey_id, version, definition, created_at FROM survey_versions WHERE tenant_id = $1 AND survey_id = $2 AND version = $3', [tenantId, surveyId, version]);
  return rows[0] ?? null;
}

export async function listVersions(q: Queryable, tenantId: string, surveyId: string): Promise<VersionRow[]> {
  const { rows } = await q.query<VersionRow>('SELECT survey_id, version, definition, created_at FROM survey_versions WHERE tenant_id = $1 AND survey_id = $2 ORDER BY version', [tenantId, surveyId]);
  return rows;
}

// ── Settings ───────────────────────────────────────────────────────────────────

export async function getSettings(q: Queryable, tenantId: string): Promise<SettingsRow | null> {
  const { rows } = await q.query<SettingsRow>('SELECT min_days_between_invitations, edit_window_minutes, link_secret, updated_at FROM survey_settings WHERE tenant_id = $1', [tenantId]);
  return rows[0] ?? null;
}

/**
 * The tenant's settings, created (with a new link secret from `newSecret`) on first use. After that one read: the
 * secret is drawn and the insert run only while there is no row.
 */
export async function ensureSettings(q: Queryable, tenantId: string, newSecret: () => Buffer, now: Date): Promise<SettingsRow> {
  const found = await getSettings(q, tenantId);
  if (found) return found;
  // Two first uses at once: the other one's row wins, and both read it.
  await q.query('INSERT INTO survey_settings (tenant_id, link_secret, updated_at) VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO NOTHING', [tenantId, newSecret(), now]);
  return (await getSettings(q, tenantId))!;
}

export async function updateSettings(q: Queryable, tenantId: string, s: { min_days_between_invitations: number; edit_window_minutes: number; updated_at: Date }): Promise<SettingsRow> {
  const { rows } = await q.query<SettingsRow>(
    `UPDATE survey_settings SET min_days_between_invitations = $2, edit_window_minutes = $3, updated_at = $4 WHERE tenant_id = $1
     RETURNING min_days_between_invitations, edit_window_minutes, link_secret, updated_at`,
    [tenantId, s.min_days_between_invitations, s.edit_window_minutes, s.updated_at],
  );
  return rows[0]!;
}

// ── Invitations ────────────────────────────────────────────────────────────────

/** Inserts an invitation; null when one for the same survey and cause exists (a hook run twice invites once). */
export async function insertInvitation(q: Queryable, tenantId: string, i: InvitationRow): Promise<InvitationRow | null> {
  const { rows } = await q.query<InvitationRow>(
    `INSERT INTO survey_invitations (tenant_id, ${INV_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT DO NOTHING RETURNING ${INV_COLS}`,
    [tenantId, i.id, i.survey_id, i.member_id, i.trigger, i.source_type, i.source_id, i.status, i.skip_reason, i.send_at, i.sent_at, i.expires_at, i.responded_at, i.created_at],
  );
  return rows[0] ?? null;
}

export async function invitationBySource(q: Queryable, tenantId: string, surveyId: string, sourceType: string, sourceId: string): Promise<InvitationRow | null> {
  const { rows } = await q.query<InvitationRow>(`SELECT ${INV_COLS} FROM survey_invitations WHERE tenant_id = $1 AND survey_id = $2 AND source_type = $3 AND source_id = $4`, [tenantId, surveyId, sourceType, sourceId]);
  return rows[0] ?? null;
}

export async function getInvitation(q: Queryable, tenantId: string, id: string, lock = false): Promise<InvitationRow | null> {
  const { rows } = await q.query<InvitationRow>(`SELECT ${INV_COLS} FROM survey_invitations WHERE tenant_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return rows[0] ?? null;
}

export async function listInvitations(q: Queryable, tenantId: string, f: { surveyId?: string; memberId?: string; status?: string; afterId?: string; limit: number }): Promise<InvitationRow[]> {
  const { rows } = await q.query<InvitationRow>(
    `SELECT ${INV_COLS} FROM survey_invitations WHERE tenant_id = $1 AND ($2::uuid IS NULL OR survey_id = $2) AND ($3::uuid IS NULL OR member_id = $3)
       AND ($4::text IS NULL OR status = $4) AND ($5::uuid IS NULL OR id > $5) ORDER BY id LIMIT $6`,
    [tenantId, f.surveyId ?? null, f.memberId ?? null, f.status ?? null, f.afterId ?? null, f.limit],
  );
  return rows;
}

export async function updateInvitation(q: Queryable, tenantId: string, id: string, ch: Partial<Pick<InvitationRow, 'status' | 'skip_reason' | 'sent_at' | 'expires_at' | 'responded_at'>>): Promise<InvitationRow> {
  const { rows } = await q.query<InvitationRow>(
    `UPDATE survey_invitations SET status = COALESCE($3, status), skip_reason = COALESCE($4, skip_reason), sent_at = COALESCE($5, sent_at),
       expires_at = COALESCE($6, expires_at), responded_at = COALESCE($7, responded_at)
     WHERE tenant_id = $1 AND id = $2 RETURNING ${INV_COLS}`,
    [tenantId, id, ch.status ?? null, ch.skip_reason ?? null, ch.sent_at ?? null, ch.expires_at ?? null, ch.responded_at ?? null],
  );
  return rows[0]!;
}

/**
 * Serialises the invitations of one member until the transaction ends (the API, the job's due invitations and
 * relationship surveys all take it before the throttle check), so two at once cannot both pass the throttle.
 */
export async function lockMemberInvitations(q: Queryable, tenantId: string, memberId: string): Promise<void> {
  await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`survey-invite:${tenantId}:${memberId}`]);
}

/**
 * Invitations that count toward the throttle: those of the tenant's own surveys. The system surveys' (the case
 * follow-up "Was your problem solved?") are about help just given, are not throttled, and do not throttle others.
 */
const THROTTLING = 'NOT EXISTS (SELECT 1 FROM surveys s WHERE s.tenant_id = i.tenant_id AND s.id = i.survey_id AND s.system_key IS NOT NULL)';

/** The member's latest sent invitation (any of the tenant's own surveys) after `since`: the throttle. */
export async function lastSentSince(q: Queryable, tenantId: string, memberId: string, since: Date): Promise<Date | null> {
  const { rows } = await q.query<{ sent_at: Date }>(
    `SELECT i.sent_at FROM survey_invitations i WHERE i.tenant_id = $1 AND i.member_id = $2 AND i.sent_at > $3 AND ${THROTTLING}
      ORDER BY i.sent_at DESC LIMIT 1`, [tenantId, memberId, since]);
  return rows[0]?.sent_at ?? null;
}

/** Due scheduled invitations, locked (another job run skips them). */
export async function dueScheduled(q: Queryable, tenantId: string, now: Date, limit: number): Promise<InvitationRow[]> {
  const { rows } = await q.query<InvitationRow>(
    `SELECT ${INV_COLS} FROM survey_invitations WHERE tenant_id = $1 AND status = 'scheduled' AND send_at <= $2
     ORDER BY send_at, id LIMIT $3 FOR UPDATE SKIP LOCKED`, [tenantId, now, limit]);
  return rows;
}

/** Pending invitations past their expiry become expired; returns them. */
export async function expirePending(q: Queryable, tenantId: string, now: Date, limit: number): Promise<InvitationRow[]> {
  const { rows } = await q.query<InvitationRow>(
    `UPDATE survey_invitations SET status = 'expired' WHERE tenant_id = $1 AND id IN (
       SELECT id FROM survey_invitations WHERE tenant_id = $1 AND status = 'pending' AND expires_at <= $2 LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING ${INV_COLS}`, [tenantId, now, limit]);
  return rows;
}

/**
 * Of `memberIds`, those a relationship survey may invite now: no invitation of this survey created since
 * `surveySince`, and no invitation of any of the tenant's own surveys sent after `throttleSince` (THROTTLING).
 */
export async function relationshipCandidates(q: Queryable, tenantId: string, surveyId: string, memberIds: string[], surveySince: Date, throttleSince: Date): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT m.id FROM unnest($2::uuid[]) AS m(id)
      WHERE NOT EXISTS (SELECT 1 FROM survey_invitations i WHERE i.tenant_id = $1 AND i.survey_id = $3 AND i.member_id = m.id AND i.created_at > $4)
        AND NOT EXISTS (SELECT 1 FROM survey_invitations i WHERE i.tenant_id = $1 AND i.member_id = m.id AND i.sent_at > $5 AND ${THROTTLING})
      ORDER BY m.id`,
    [tenantId, memberIds, surveyId, surveySince, throttleSince],
  );
  return rows.map((r) => r.id);
}

// ── Responses and answers ──────────────────────────────────────────────────────

export async function insertResponse(q: Queryable, tenantId: string, r: ResponseRow): Promise<ResponseRow> {
  const { rows } = await q.query<ResponseRow>(
    `INSERT INTO survey_responses (tenant_id, ${RESP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING ${RESP_COLS}`,
    [tenantId, r.id, r.survey_id, r.version, r.invitation_id, r.member_id, r.channel, r.language, r.touchpoint, r.tier_code, JSON.stringify(r.metadata), r.submitted_at, r.updated_at, r.editable_until],
  );
  return rows[0]!;
}

/** An edit within the window: the answers are replaced (answered again, to the version live now). */
export async function updateResponse(q: Queryable, tenantId: string, id: string, r: Pick<ResponseRow, 'version' | 'language' | 'metadata' | 'updated_at'>): Promise<ResponseRow> {
  const { rows } = await q.query<ResponseRow>(
    `UPDATE survey_responses SET version = $3, language = $4, metadata = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2 RETURNING ${RESP_COLS}`,
    [tenantId, id, r.version, r.language, JSON.stringify(r.metadata), r.updated_at],
  );
  return rows[0]!;
}

export async function getResponse(q: Queryable, tenantId: string, id: string): Promise<ResponseRow | null> {
  const { rows } = await q.query<ResponseRow>(`SELECT ${RESP_COLS} FROM survey_responses WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return rows[0] ?? null;
}

export async function responseOfInvitation(q: Queryable, tenantId: string, invitationId: string): Promise<ResponseRow | null> {
  const { rows } = await q.query<ResponseRow>(`SELECT ${RESP_COLS} FROM survey_responses WHERE tenant_id = $1 AND invitation_id = $2`, [tenantId, invitationId]);
  return rows[0] ?? null;
}

/** A survey's responses, newest first, keyset-paged by (submitted_at, id). */
export async function listResponses(q: Queryable, tenantId: string, f: { surveyId?: string; memberId?: string; after?: { at: Date; id: string }; limit: number }): Promise<ResponseRow[]> {
  const { rows } = await q.query<ResponseRow>(
    `SELECT ${RESP_COLS} FROM survey_responses WHERE tenant_id = $1 AND ($2::uuid IS NULL OR survey_id = $2) AND ($3::uuid IS NULL OR member_id = $3)
       AND ($4::timestamptz IS NULL OR (submitted_at, id) < ($4, $5::uuid)) ORDER BY submitted_at DESC, id DESC LIMIT $6`,
    [tenantId, f.surveyId ?? null, f.memberId ?? null, f.after?.at ?? null, f.after?.id ?? null, f.limit],
  );
  return rows;
}

export async function replaceAnswers(q: Queryable, tenantId: string, r: ResponseRow, answers: StoredAnswer[]): Promise<void> {
  await q.query('DELETE FROM survey_answers WHERE tenant_id = $1 AND response_id = $2', [tenantId, r.id]);
  if (answers.length === 0) return;
  await q.query(
    `INSERT INTO survey_answers (tenant_id, response_id, question_key, survey_id, question_type, scale_min, scale_max, value_number, value_text,
       value_choices, band, submitted_at, language, touchpoint, tier_code)
     SELECT $1, $2, a.question_key, $3, a.question_type, a.scale_min, a.scale_max, a.value_number, a.value_text,
       CASE WHEN jsonb_typeof(a.value_choices) = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(a.value_choices)) END, a.band, $4, $5, $6, $7
       FROM jsonb_to_recordset($8::jsonb) AS a(question_key text, question_type text, scale_min smallint, scale_max smallint, value_number smallint,
         value_text text, value_choices jsonb, band text)`,
    [tenantId, r.id, r.survey_id, r.submitted_at, r.language, r.touchpoint, r.tier_code, JSON.stringify(answers)],
  );
}

export async function answersOf(q: Queryable, tenantId: string, responseIds: string[]): Promise<AnswerRow[]> {
  if (responseIds.length === 0) return [];
  const { rows } = await q.query<AnswerRow>(
    `SELECT ${ANSWER_COLS} FROM survey_answers WHERE tenant_id = $1 AND response_id = ANY($2::uuid[]) ORDER BY response_id, question_key`, [tenantId, responseIds]);
  return rows;
}

// ── GDPR ───────────────────────────────────────────────────────────────────────

export async function memberInvitations(q: Queryable, tenantId: string, memberId: string, limit: number): Promise<InvitationRow[]> {
  const { rows } = await q.query<InvitationRow>(`SELECT ${INV_COLS} FROM survey_invitations WHERE tenant_id = $1 AND member_id = $2 ORDER BY created_at, id LIMIT $3`, [tenantId, memberId, limit]);
  return rows;
}

/** Erasure: free-text answers and response metadata go; scores, bands and choices stay (they identify nobody). */
export async function eraseMemberText(q: Queryable, tenantId: string, memberId: string): Promise<number> {
  await q.query(
    `UPDATE survey_answers a SET value_text = NULL FROM survey_responses r
      WHERE a.tenant_id = $1 AND r.tenant_id = $1 AND r.member_id = $2 AND a.response_id = r.id AND a.value_text IS NOT NULL`, [tenantId, memberId]);
  const res = await q.query(`UPDATE survey_responses SET metadata = '{}' WHERE tenant_id = $1 AND member_id = $2`, [tenantId, memberId]);
  return res.rowCount ?? 0;
}

/**
 * Erasure: the member's invitations that could still be answered end: scheduled ones are skipped (member_erased),
 * pending ones expire. Returns them (each gets its event).
 */
export async function endMemberInvitations(q: Queryable, tenantId: string, memberId: string): Promise<InvitationRow[]> {
  const { rows } = await q.query<InvitationRow>(
    `UPDATE survey_invitations SET status = CASE WHEN status = 'scheduled' THEN 'skipped' ELSE 'expired' END,
       skip_reason = CASE WHEN status = 'scheduled' THEN 'member_erased' ELSE skip_reason END
     WHERE tenant_id = $1 AND member_id = $2 AND status IN ('scheduled', 'pending') RETURNING ${INV_COLS}`, [tenantId, memberId]);
  return rows;
}
