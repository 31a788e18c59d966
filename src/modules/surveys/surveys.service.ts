/**
 * Surveys (docs/surveys.md): definitions as data with versions, per-member invitations with signed expiring links,
 * an anonymous public link, triggers (after a purchase, after a support case, periodic relationship surveys),
 * responses validated against the version they answer, rewards through action events, and the handlers other
 * modules (cases) register to hear about responses, inside the response's transaction.
 *
 * Versions: a draft is edited in place; every change of a live survey's definition is a new version, and a
 * response (and its answers) stays on the version it was given to, so past answers never change meaning.
 */
import crypto from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { Queryable, Tx } from '../../platform/db/db.js';
import type { TenantCache, TenantConfig } from '../../platform/db/tenant-cache.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { isUuid, newId } from '../../platform/ids.js';
import { storableJsonError } from '../../platform/json.js';
import { emit, emitMany } from '../../platform/outbox/outbox.js';
import type { EventsService } from '../events/events.service.js';
import type { MembersService } from '../members/members.service.js';
import type { MemberStanding, OrderHook, PurchaseRecorded } from '../transactions/transactions.service.js';
import { answersOf, checkAnswers, definitionErrors } from './surveys.definition.js';
import { embedSnippet, invitationUrl, publicSurveyUrl, readInvitationToken, signInvitationToken, verifySignature } from './surveys.links.js';
import type { CreateInvitationInput, CreateResponseInput, CreateSurveyInput, SettingsInput, UpdateSurveyInput } from './surveys.schema.js';
import * as store from './surveys.store.js';
import type { Channel, InvitationRow, InvitationTrigger, ResponseRow, SettingsRow, SurveyRow, SurveyTrigger, VersionRow } from './surveys.store.js';
import type { AnswerInput, Language, StoredAnswer, SurveyDefinition, SurveyResponded, Touchpoint } from './surveys.types.js';

export type { SurveyRow, InvitationRow, ResponseRow } from './surveys.store.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** The system survey a closed support case may ask ("Was your problem solved?"). */
export const CASE_FOLLOW_UP = 'case_follow_up';
/** Invitations and members handled per transaction by the job. */
const BATCH = 500;
const METADATA_MAX_BYTES = 4096;

/** What the response page needs to show a survey (an invitation's or the public link's). */
export interface OpenedSurvey {
  tenantId: string;
  survey: { id: string; name: string; touchpoint: Touchpoint; status: 'draft' | 'live' | 'closed' };
  version: number;
  definition: SurveyDefinition;
  default_language: Language;
  /** The invited member's language (member.locale); null for the public link. */
  member_language: Language | null;
  invitation: { id: string; expires_at: Date } | null;
  /** The answers already given through this invitation, while they may still be changed. */
  previous: { response_id: string; answers: AnswerInput; editable_until: Date } | null;
}

export interface RespondInput {
  survey_id: string;
  invitation_id?: string;
  member_id?: string;
  /** The field the caller named the member with (member_external_id through the API), for the problem's field. */
  member_field?: 'member_id' | 'member_external_id';
  channel: Channel;
  language: Language;
  answers: AnswerInput;
  metadata?: Record<string, unknown>;
}

export type SurveyResponseView = ResponseRow & { answers: StoredAnswer[] };

export interface SurveyView {
  id: string;
  name: string;
  touchpoint: Touchpoint;
  touchpoint_label: string | null;
  status: SurveyRow['status'];
  version: number;
  default_language: Language;
  trigger: SurveyTrigger | null;
  reward_event: string | null;
  public_link: boolean;
  invitation_ttl_days: number;
  system: boolean;
  definition: SurveyDefinition;
  published_at: Date | null;
  closed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface InvitationView extends Omit<InvitationRow, 'source_type' | 'source_id'> {
  source: { type: 'transaction' | 'case'; id: string } | null;
  url: string | null;
}

export interface SettingsView {
  min_days_between_invitations: number;
  edit_window_minutes: number;
  updated_at: Date | null;
}

export type RespondedHandler = (tx: Tx, e: SurveyResponded) => Promise<void>;

/** The follow-up survey of a closed support case: one question, `solved`, yes / no, in every language. */
const FOLLOW_UP_DEFINITION: SurveyDefinition = {
  title: { en: 'Your support case', bg: 'Вашето запитване', ru: 'Ваше обращение', ro: 'Solicitarea dumneavoastră', pl: 'Twoje zgłoszenie' },
  thank_you: { en: 'Thank you!', bg: 'Благодарим ви!', ru: 'Спасибо!', ro: 'Vă mulțumim!', pl: 'Dziękujemy!' },
  questions: [{
    key: 'solved',
    type: 'single_choice',
    required: true,
    text: {
      en: 'Was your problem solved?', bg: 'Решен ли е вашият проблем?', ru: 'Ваша проблема решена?',
      ro: 'Problema dumneavoastră a fost rezolvată?', pl: 'Czy Twój problem został rozwiązany?',
    },
    options: [
      { key: 'yes', label: { en: 'Yes', bg: 'Да', ru: 'Да', ro: 'Da', pl: 'Tak' } },
      { key: 'no', label: { en: 'No', bg: 'Не', ru: 'Нет', ro: 'Nu', pl: 'Nie' } },
    ],
  }],
};

/** Which of the two ends a 410 is: the response page words them differently. */
export const EXPIRED = { field: 'invitation', detail: 'has expired' } as const;
export const CLOSED = { field: 'survey', detail: 'is closed' } as const;

/** The settings of a tenant that never changed them: the column DEFAULTs of survey_settings (a test checks they agree). */
export const SETTINGS_DEFAULTS = { min_days_between_invitations: 30, edit_window_minutes: 30 } as const;

/** The earliest time a member last invited at `last` may be invited again. */
/** Whether the survey is in the list the order hook reads (and caches): live after_purchase surveys. */
const feedsOrders = (r: SurveyRow): boolean => r.trigger?.type === 'after_purchase';

/** What purchased() reads of a live after_purchase survey: all the order hot path caches. */
type OrderSurvey = { id: string; touchpoint: SurveyRow['touchpoint']; published_at: Date | null; days: number };

/** When an invitation sent now stops taking answers. */
const expiresAt = (s: Pick<SurveyRow, 'invitation_ttl_days'>, now: Date): Date => new Date(now.getTime() + s.invitation_ttl_days * DAY_MS);

/**
 * A new invitation row. `when.sendAt`: scheduled for then (the surveys.invite job sends it or skips it);
 * `when.expiresAt`: sent now (pending), its link working until then.
 */
function newInvitation(
  surveyId: string, memberId: string, trigger: InvitationTrigger, now: Date,
  when: { sendAt: Date } | { expiresAt: Date }, source: { type: 'transaction' | 'case'; id: string } | null = null,
): InvitationRow {
  const scheduled = 'sendAt' in when;
  return {
    id: newId(), survey_id: surveyId, member_id: memberId, trigger, source_type: source?.type ?? null, source_id: source?.id ?? null,
    status: scheduled ? 'scheduled' : 'pending', skip_reason: null, send_at: scheduled ? when.sendAt : now, sent_at: scheduled ? null : now,
    expires_at: scheduled ? null : when.expiresAt, responded_at: null, created_at: now,
  };
}

/** A member as MembersService.find gives it (the members store's row type stays that module's own). */
type FoundMember = NonNullable<Awaited<ReturnType<MembersService['find']>>>;

/** The page speaks to the respondent (field invitation); the API to an integrator (field invitation_id). */
const INVITATION_WORDING = {
  invitation: { answered: 'This survey has already been answered; the answers can no longer be changed.', expired: (_id: string) => 'This survey invitation has expired.' },
  invitation_id: { answered: 'This invitation has already been answered and the edit window is over.', expired: (id: string) => `Survey invitation ${id} has expired.` },
} as const;

/** A relationship survey invites a member again once its last invitation of them is older than this. */
const surveySinceOf = (s: SurveyRow, now: Date): Date => new Date(now.getTime() - (s.trigger as { every_days: number }).every_days * DAY_MS);

const nextInvitable = (last: Date, minDays: number) => new Date(last.getTime() + minDays * DAY_MS);
/** Sent invitations at or after this time throttle a new one; null when there is no throttle. */
const throttleSince = (now: Date, minDays: number): Date | null => (minDays > 0 ? new Date(now.getTime() - minDays * DAY_MS) : null);

export class SurveysService {
  private readonly handlers: RespondedHandler[] = [];
  /** The tenant's live after_purchase surveys: every order reads them; publish, close and trigger edits announce a change. */
  private readonly afterPurchase: TenantCache<OrderSurvey[]> | null;

  constructor(private readonly deps: {
    clock: Clock;
    members: MembersService;
    events: EventsService;
    /** The member's tier now (TiersService.standing): copied onto responses and answers for breakdowns. */
    standing: MemberStanding;
    /** The base of public links: config.publicUrl, else the address the server listens on. */
    baseUrl: () => string;
    config?: TenantConfig;
  }) {
    this.afterPurchase = deps.config?.cache<OrderSurvey[]>() ?? null;
  }

  /** Handlers run after a response is stored or edited, in its transaction (the cases module reopens unsolved cases). */
  onResponded(handler: RespondedHandler): void {
    this.handlers.push(handler);
  }

  // ── Definitions ───────────────────────────────────────────────────────────────

  /** The checks of a create body the schema cannot make. */
  checkCreate(body: unknown): FieldError[] {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return [];
    const b = body as Record<string, unknown>;
    const lang = (typeof b.default_language === 'string' ? b.default_language : 'en') as Language;
    return [...definitionErrors(b.definition, lang, 'definition'), ...this.labelErrors(b.touchpoint, b.touchpoint_label)];
  }

  /** The checks of a change body; `currentLanguage` is the survey's default language (null: no such survey, the write answers 404). */
  checkPatch(body: unknown, currentLanguage: Language | null): FieldError[] {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return [];
    const b = body as Record<string, unknown>;
    const lang = (typeof b.default_language === 'string' ? b.default_language : currentLanguage) as Language | null;
    if (b.definition === undefined || lang === null) return [];
    return definitionErrors(b.definition, lang, 'definition');
  }

  private labelErrors(touchpoint: unknown, label: unknown): FieldError[] {
    if (label !== undefined && label !== null && touchpoint !== 'custom') return [{ field: 'touchpoint_label', detail: 'names a custom touchpoint: send it with touchpoint custom' }];
    return [];
  }

  /** A survey's default language, or null (the PATCH route's body check). */
  async defaultLanguageOf(q: Queryable, tenantId: string, id: string): Promise<Language | null> {
    return (await store.getSurvey(q, tenantId, id))?.default_language ?? null;
  }

  async create(tx: Tx, tenantId: string, input: CreateSurveyInput): Promise<SurveyView> {
    const errs = this.checkCreate(input);
    if (errs.length) throw errors.validation(errs);
    const now = this.deps.clock.now();
    const row = (await store.insertSurvey(tx, tenantId, {
      id: newId(), name: input.name, touchpoint: input.touchpoint, touchpoint_label: input.touchpoint_label ?? null, status: 'draft', current_version: 1,
      default_language: input.default_language ?? 'en', trigger: (input.trigger ?? null) as SurveyTrigger | null, reward_event: input.reward_event ?? null,
      public_link: input.public_link ?? false, invitation_ttl_days: input.invitation_ttl_days ?? 14, system_key: null,
      published_at: null, closed_at: null, created_at: now, updated_at: now,
    }))!;
    const definition = input.definition as SurveyDefinition;
    await store.insertVersion(tx, tenantId, { survey_id: row.id, version: 1, definition, created_at: now });
    await this.emitSurvey(tx, tenantId, 'survey.created', row, { version: 1 });
    return this.view(row, definition);
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<SurveyView> {
    const { definition, ...row } = await this.mustGetWithDefinition(q, tenantId, id);
    return this.view(row, definition);
  }

  async list(q: Queryable, tenantId: string, f: { status?: string; touchpoint?: string; afterId?: string; limit: number }): Promise<SurveyView[]> {
    return (await store.listSurveys(q, tenantId, f)).map(({ definition, ...r }) => this.view(r, definition));
  }

  /**
   * Changes the fields given. A new definition of a draft replaces its version; of a live survey it becomes the next
   * version. A closed survey does not change; neither do the questions of a system survey (modules rely on them).
   */
  async update(tx: Tx, tenantId: string, id: string, input: UpdateSurveyInput): Promise<SurveyView> {
    const current = await this.mustGet(tx, tenantId, id, true);
    if (current.status === 'closed') throw errors.unprocessable(`Survey ${id} is closed: it no longer changes.`, [{ field: 'status', detail: 'is closed' }]);
    if (current.system_key !== null && input.definition !== undefined) {
      throw errors.unprocessable(`Survey ${id} is kept by Patron (${current.system_key}): its questions do not change.`, [{ field: 'definition', detail: 'cannot be changed on a system survey' }]);
    }
    const lang = input.default_language ?? current.default_language;
    const version = (await store.getVersion(tx, tenantId, id, current.current_version))!;
    const definition = (input.definition ?? version.definition) as SurveyDefinition;
    const errs = [
      ...definitionErrors(definition, lang, 'definition'),
      ...this.labelErrors(input.touchpoint ?? current.touchpoint, input.touchpoint_label === undefined ? current.touchpoint_label : input.touchpoint_label),
    ];
    if (errs.length) throw errors.validation(input.definition === undefined ? errs.map((e) => ({ ...e, detail: `${e.detail} (the current definition, with default_language ${lang})` })) : errs);
    if (input.definition !== undefined && current.status !== 'draft') {
      const clash = keyChanges(await store.listVersions(tx, tenantId, id), definition);
      if (clash.length) throw errors.validation(clash);
    }
    const now = this.deps.clock.now();
    let next = current.current_version;
    if (input.definition !== undefined) {
      if (current.status === 'draft') await store.replaceVersion(tx, tenantId, id, current.current_version, definition);
      else {
        next = current.current_version + 1;
        await store.insertVersion(tx, tenantId, { survey_id: id, version: next, definition, created_at: now });
      }
    }
    const row = await store.updateSurvey(tx, tenantId, {
      ...current,
      name: input.name ?? current.name,
      touchpoint: input.touchpoint ?? current.touchpoint,
      touchpoint_label: input.touchpoint_label === undefined ? current.touchpoint_label : input.touchpoint_label,
      default_language: lang,
      trigger: input.trigger === undefined ? current.trigger : (input.trigger as SurveyTrigger | null),
      reward_event: input.reward_event === undefined ? current.reward_event : input.reward_event,
      public_link: input.public_link ?? current.public_link,
      invitation_ttl_days: input.invitation_ttl_days ?? current.invitation_ttl_days,
      current_version: next,
      updated_at: now,
    });
    // Only a trigger change of a live survey can change the order hook's list (a name or wording changes no cached setting).
    if (row.status === 'live' && input.trigger !== undefined && (feedsOrders(current) || feedsOrders(row))) await this.deps.config?.changed(tx, tenantId);
    await this.emitSurvey(tx, tenantId, 'survey.updated', row, { version: next, new_version: next !== current.current_version, fields: Object.keys(input) });
    return this.view(row, definition);
  }

  /** A draft goes live: invitations and the public link take answers from now. */
  async publish(tx: Tx, tenantId: string, id: string): Promise<SurveyView> {
    const { definition, ...current } = await this.mustGetWithDefinition(tx, tenantId, id, true);
    if (current.status !== 'draft') throw errors.conflict(`Survey ${id} is ${current.status}: only a draft is published.`, [{ field: 'status', detail: `is ${current.status}` }]);
    const now = this.deps.clock.now();
    const row = await store.updateSurvey(tx, tenantId, { ...current, status: 'live', published_at: now, updated_at: now });
    if (feedsOrders(current)) await this.deps.config?.changed(tx, tenantId);
    await this.emitSurvey(tx, tenantId, 'survey.published', row, { version: row.current_version });
    return this.view(row, definition);
  }

  /** No more answers: its links answer 410, its scheduled invitations are skipped (survey_not_live). */
  async close(tx: Tx, tenantId: string, id: string): Promise<SurveyView> {
    const { definition, ...current } = await this.mustGetWithDefinition(tx, tenantId, id, true);
    if (current.status === 'closed') throw errors.conflict(`Survey ${id} is already closed.`, [{ field: 'status', detail: 'is closed' }]);
    const now = this.deps.clock.now();
    const row = await store.updateSurvey(tx, tenantId, { ...current, status: 'closed', closed_at: now, updated_at: now });
    if (feedsOrders(current)) await this.deps.config?.changed(tx, tenantId);
    await this.emitSurvey(tx, tenantId, 'survey.closed', row, { version: row.current_version });
    return this.view(row, definition);
  }

  async versions(q: Queryable, tenantId: string, id: string): Promise<VersionRow[]> {
    await this.mustGet(q, tenantId, id);
    return store.listVersions(q, tenantId, id);
  }

  async version(q: Queryable, tenantId: string, id: string, version: number): Promise<VersionRow> {
    await this.mustGet(q, tenantId, id);
    const v = await store.getVersion(q, tenantId, id, version);
    if (!v) throw errors.notFound(`version ${version} of survey`, id);
    return v;
  }

  /** The invitation-less public link and an iframe that embeds it. */
  async links(q: Queryable, tenantId: string, id: string): Promise<{ public_url: string; embed_url: string; embed_snippet: string; public_link_enabled: boolean }> {
    const { definition, ...row } = await this.mustGetWithDefinition(q, tenantId, id);
    const url = publicSurveyUrl(this.deps.baseUrl(), tenantId, id);
    // The iframe's title is what screen readers announce to respondents: the survey's own title, not the internal name.
    const title = definition.title?.[row.default_language]?.trim() || row.name;
    return { public_url: url, embed_url: `${url}?embed=1`, embed_snippet: embedSnippet(url, title), public_link_enabled: row.public_link };
  }

  // ── Settings ──────────────────────────────────────────────────────────────────

  async settings(q: Queryable, tenantId: string): Promise<SettingsView> {
    const s = await store.getSettings(q, tenantId);
    return s ? settingsView(s) : { ...SETTINGS_DEFAULTS, updated_at: null };
  }

  async updateSettings(tx: Tx, tenantId: string, input: SettingsInput): Promise<SettingsView> {
    const now = this.deps.clock.now();
    const current = await this.ensureSettings(tx, tenantId);
    const row = await store.updateSettings(tx, tenantId, {
      min_days_between_invitations: input.min_days_between_invitations ?? current.min_days_between_invitations,
      edit_window_minutes: input.edit_window_minutes ?? current.edit_window_minutes,
      updated_at: now,
    });
    await emit(tx, { tenantId, type: 'survey.settings_updated', aggregateType: 'survey_settings', aggregateId: tenantId, payload: settingsView(row) as unknown as Record<string, unknown>, occurredAt: now });
    return settingsView(row);
  }

  /** The settings, created with a new random link secret on first use. */
  private ensureSettings(q: Queryable, tenantId: string): Promise<SettingsRow> {
    return store.ensureSettings(q, tenantId, () => crypto.randomBytes(32), this.deps.clock.now());
  }

  // ── Invitations ───────────────────────────────────────────────────────────────

  /** An invitation through the API, sent now (its link works at once); throttled like every other invitation. */
  async invite(tx: Tx, tenantId: string, surveyId: string, input: CreateInvitationInput): Promise<InvitationView> {
    const survey = await this.mustGet(tx, tenantId, surveyId);
    const field = input.member_id !== undefined ? 'member_id' : 'member_external_id';
    if ((input.member_id === undefined) === (input.member_external_id === undefined)) throw errors.field('member_id', 'send member_id or member_external_id, one of them');
    if (survey.status !== 'live') throw errors.unprocessable(`Survey ${surveyId} is ${survey.status}: only a live survey invites.`, [{ field: 'status', detail: `is ${survey.status}` }]);
    const member = await this.deps.members.find(tx, tenantId, input.member_id !== undefined ? { id: input.member_id } : { externalId: input.member_external_id! });
    if (!member) throw errors.unprocessable('No such member.', [{ field, detail: 'is not a member of this program' }]);
    if (member.status !== 'active') throw errors.unprocessable(`Member ${member.id} is ${member.status}.`, [{ field, detail: `is ${member.status}: only active members are invited` }]);
    const settings = await this.ensureSettings(tx, tenantId);
    const now = this.deps.clock.now();
    const since = throttleSince(now, settings.min_days_between_invitations);
    // Serialise invitations of one member so that two at once cannot both pass the throttle.
    await store.lockMemberInvitations(tx, tenantId, member.id);
    const last = since ? await store.lastSentSince(tx, tenantId, member.id, since) : null;
    if (last) {
      const from = nextInvitable(last, settings.min_days_between_invitations);
      throw errors.conflict(`Member ${member.id} was invited to a survey on ${last.toISOString()}; no member is invited more often than every ${settings.min_days_between_invitations} days.`, [
        { field, detail: `${member.id} was invited on ${last.toISOString()}: can be invited again from ${from.toISOString()}` },
      ]);
    }
    const inv = (await store.insertInvitation(tx, tenantId, newInvitation(surveyId, member.id, 'api', now, { expiresAt: expiresAt(survey, now) })))!;
    await this.emitInvitation(tx, tenantId, 'survey.invited', inv, survey);
    return this.invitationView(inv, settings.link_secret, tenantId);
  }

  /**
   * An invitation. `withUrl`: whether the caller may see its signed link (a key with the write scope or above);
   * whoever holds the link can answer as the member, so a read key (a dashboard, a BI export) gets url null.
   */
  async getInvitation(q: Queryable, tenantId: string, id: string, withUrl: boolean): Promise<InvitationView> {
    const inv = await store.getInvitation(q, tenantId, id);
    if (!inv) throw errors.notFound('survey invitation', id);
    return this.invitationView(inv, withUrl ? (await store.getSettings(q, tenantId))?.link_secret ?? null : null, tenantId);
  }

  async listInvitations(q: Queryable, tenantId: string, f: { surveyId?: string; memberId?: string; status?: string; afterId?: string; limit: number }, withUrl: boolean): Promise<InvitationView[]> {
    const rows = await store.listInvitations(q, tenantId, f);
    const secret = withUrl ? (await store.getSettings(q, tenantId))?.link_secret ?? null : null;
    return rows.map((r) => this.invitationView(r, secret, tenantId));
  }

  /**
   * The survey an invitation link opens. A token that is not one of this tenant's (forged, altered, unknown) is a
   * 404; an expired invitation, or one of a closed survey, a 410; one answered and past its edit window a 409.
   */
  async openInvitation(q: Queryable, token: string): Promise<OpenedSurvey> {
    const claims = readInvitationToken(token);
    const notFound = () => errors.notFound('survey invitation');
    if (!claims) throw notFound();
    const settings = await store.getSettings(q, claims.tenantId);
    if (!settings || !verifySignature(settings.link_secret, claims.payload, claims.signature)) throw notFound();
    const tenantId = claims.tenantId;
    const inv = await store.getInvitation(q, tenantId, claims.invitationId);
    if (!inv || inv.status === 'scheduled') throw notFound();
    const survey = (await store.getSurvey(q, tenantId, inv.survey_id))!;
    const now = this.deps.clock.now();
    const r = await this.usableInvitation(q, tenantId, inv, now, 'invitation');
    // The signed link's own expiry counts only while unanswered: an answer stays editable through it within the edit window.
    if (!r && claims.expiresAt <= now) throw errors.gone(INVITATION_WORDING.invitation.expired(inv.id), [EXPIRED]);
    const previous: OpenedSurvey['previous'] = r ? { response_id: r.id, answers: answersOf(await store.answersOf(q, tenantId, [r.id])), editable_until: r.editable_until } : null;
    if (survey.status !== 'live') throw errors.gone('This survey is closed.', [CLOSED]);
    const member = await this.deps.members.find(q, tenantId, { id: inv.member_id });
    // An erased or blocked member's link is over: nothing new is stored about them.
    if (!member || member.status !== 'active') throw errors.gone('This survey invitation has expired.', [EXPIRED]);
    return this.opened(q, tenantId, survey, { member_language: member.locale, invitation: { id: inv.id, expires_at: inv.expires_at! }, previous });
  }

  /**
   * The rules an invitation's link and the API share: an answered invitation takes changes within its edit window
   * (its response is returned, to be replaced), else 409; an unanswered one takes answers while pending and not
   * expired (null), else 410. `field` is how the caller names the invitation, and picks the wording for its reader.
   */
  private async usableInvitation(q: Queryable, tenantId: string, inv: InvitationRow, now: Date, field: keyof typeof INVITATION_WORDING): Promise<ResponseRow | null> {
    if (inv.status === 'responded') {
      const r = (await store.responseOfInvitation(q, tenantId, inv.id))!;
      if (now >= r.editable_until) throw errors.conflict(INVITATION_WORDING[field].answered, [{ field, detail: `was answered; changes were possible until ${r.editable_until.toISOString()}` }]);
      return r;
    }
    if (inv.status !== 'pending' || inv.expires_at === null || inv.expires_at <= now) throw errors.gone(INVITATION_WORDING[field].expired(inv.id), [EXPIRED]);
    return null;
  }

  /** The survey the public link opens: 404 unless its public link is on (and it was published), 410 once closed. */
  async openPublic(q: Queryable, tenantId: string, surveyId: string): Promise<OpenedSurvey> {
    // The ids come from a URL anyone can type.
    if (!isUuid(tenantId) || !isUuid(surveyId)) throw errors.notFound('survey');
    const survey = await store.getSurvey(q, tenantId, surveyId);
    if (!survey || !survey.public_link || survey.status === 'draft') throw errors.notFound('survey', surveyId);
    if (survey.status === 'closed') throw errors.gone('This survey is closed.', [CLOSED]);
    return this.opened(q, tenantId, survey, { member_language: null, invitation: null, previous: null });
  }

  /** What the response page gets: the survey's current version, and who is answering through what. */
  private async opened(q: Queryable, tenantId: string, survey: SurveyRow, who: Pick<OpenedSurvey, 'member_language' | 'invitation' | 'previous'>): Promise<OpenedSurvey> {
    return {
      tenantId,
      survey: { id: survey.id, name: survey.name, touchpoint: survey.touchpoint, status: survey.status },
      version: survey.current_version,
      definition: (await store.getVersion(q, tenantId, survey.id, survey.current_version))!.definition,
      default_language: survey.default_language,
      ...who,
    };
  }

  // ── Responses ─────────────────────────────────────────────────────────────────

  /**
   * Stores a response: checks the answers against the survey's current version, computes bands, copies the
   * response's dimensions onto the answers, records the reward event once per invitation, emits, and runs the
   * onResponded handlers, all in `tx`. Through an invitation within the edit window the answers are replaced.
   */
  respond(tx: Tx, tenantId: string, input: RespondInput): Promise<SurveyResponseView> {
    return this.respondAs(tx, tenantId, input, null);
  }

  /** respond(), with the member (when `found`, of input.member_id) already looked up by the caller. */
  private async respondAs(tx: Tx, tenantId: string, input: RespondInput, found: FoundMember | null): Promise<SurveyResponseView> {
    const now = this.deps.clock.now();
    if (!isUuid(input.survey_id)) throw errors.notFound('survey', input.survey_id);
    if (input.invitation_id !== undefined && !isUuid(input.invitation_id)) throw errors.notFound('survey invitation', input.invitation_id);
    if (input.member_id !== undefined && !isUuid(input.member_id)) throw errors.field('member_id', 'must be a member id (a UUID)');
    const survey = await store.getSurvey(tx, tenantId, input.survey_id);
    if (!survey) throw errors.notFound('survey', input.survey_id);
    let inv: InvitationRow | null = null;
    let previous: ResponseRow | null = null;
    if (input.invitation_id !== undefined) {
      inv = await store.getInvitation(tx, tenantId, input.invitation_id, true);
      if (!inv || inv.survey_id !== survey.id || inv.status === 'scheduled') throw errors.notFound('survey invitation', input.invitation_id);
      previous = await this.usableInvitation(tx, tenantId, inv, now, 'invitation_id');
    } else if ((input.channel === 'public_link' || input.channel === 'embed') && (!survey.public_link || survey.status === 'draft')) {
      throw errors.notFound('survey', survey.id);
    }
    if (survey.status === 'closed') throw errors.gone(`Survey ${survey.id} is closed.`, [CLOSED]);
    if (survey.status !== 'live') throw errors.unprocessable(`Survey ${survey.id} is a draft: publish it to take answers.`, [{ field: 'status', detail: 'is draft' }]);

    const memberId = inv?.member_id ?? input.member_id ?? null;
    let member: FoundMember | null = null;
    if (memberId !== null) {
      member = found?.id === memberId ? found : await this.deps.members.find(tx, tenantId, { id: memberId });
      if (!member) throw errors.unprocessable(`No member with id ${memberId}.`, [{ field: 'member_id', detail: 'is not a member of this program' }]);
      // An erased (or blocked) member answers nothing: after an erasure no new personal data (or case, or reward)
      // may arrive. Through an invitation the link is simply over (410, as the page says); by member_id a 422.
      if (member.status !== 'active') {
        if (inv) throw errors.gone(`Survey invitation ${inv.id} has expired: member ${member.id} is ${member.status}.`, [EXPIRED]);
        throw errors.unprocessable(`Member ${member.id} is ${member.status}.`, [{ field: input.member_field ?? 'member_id', detail: `is ${member.status}: only active members answer surveys` }]);
      }
    }
    const version = (await store.getVersion(tx, tenantId, survey.id, survey.current_version))!;
    const checked = checkAnswers(version.definition, input.answers);
    const metadata = input.metadata ?? {};
    if (Buffer.byteLength(JSON.stringify(metadata)) > METADATA_MAX_BYTES) checked.errors.push({ field: 'metadata', detail: `must be at most ${METADATA_MAX_BYTES} bytes of JSON` });
    else {
      // jsonb refuses U+0000: a 400 naming metadata, not the database's generic error.
      const bad = storableJsonError(metadata, 32);
      if (bad) checked.errors.push({ field: 'metadata', detail: bad });
    }
    if (checked.errors.length) throw errors.validation(checked.errors);

    const tier = member ? (await this.deps.standing(tx, tenantId, member.id, now)).tier : null;
    let response: ResponseRow;
    if (previous) {
      response = await store.updateResponse(tx, tenantId, previous.id, { version: version.version, language: input.language, metadata, updated_at: now });
    } else {
      const settings = await this.ensureSettings(tx, tenantId);
      response = await store.insertResponse(tx, tenantId, {
        id: newId(), survey_id: survey.id, version: version.version, invitation_id: inv?.id ?? null, member_id: member?.id ?? null,
        channel: inv ? 'invitation' : input.channel, language: input.language, touchpoint: survey.touchpoint, tier_code: tier, metadata,
        submitted_at: now, updated_at: now, editable_until: new Date(now.getTime() + settings.edit_window_minutes * MINUTE_MS),
      });
      if (inv) await store.updateInvitation(tx, tenantId, inv.id, { status: 'responded', responded_at: now });
    }
    await store.replaceAnswers(tx, tenantId, response, checked.rows);
    const edited = previous !== null;

    await emit(tx, {
      tenantId, type: edited ? 'survey.response_updated' : 'survey.responded', aggregateType: 'survey_response', aggregateId: response.id, memberId: response.member_id,
      // Scores and choices only: free text stays in survey_answers (erasable there, never copied to webhooks).
      payload: {
        survey_id: survey.id, version: response.version, response_id: response.id, invitation_id: response.invitation_id, member_id: response.member_id,
        channel: response.channel, language: response.language, touchpoint: response.touchpoint, tier_code: response.tier_code,
        answers: checked.rows.filter((a) => a.value_text === null).map((a) => ({ question_key: a.question_key, value_number: a.value_number, value_choices: a.value_choices, band: a.band })),
      },
      occurredAt: now,
    });

    // The reward: once per invitation (or per API response); an edit never earns again (the external id is the same).
    if (!edited && survey.reward_event && member) {
      await this.deps.events.record(tx, tenantId, {
        name: survey.reward_event, member_id: member.id,
        external_id: inv ? `survey-invitation:${inv.id}` : `survey-response:${response.id}`,
        properties: { survey_id: survey.id, touchpoint: survey.touchpoint },
      });
    }

    const event: SurveyResponded = {
      tenantId,
      survey: { id: survey.id, name: survey.name, touchpoint: survey.touchpoint, version: response.version, follow_up: survey.system_key === CASE_FOLLOW_UP },
      response: {
        id: response.id, member_id: response.member_id, invitation_id: response.invitation_id, channel: response.channel, language: response.language,
        tier_code: response.tier_code, submitted_at: response.submitted_at,
        source: inv && inv.source_type && inv.source_id ? { type: inv.source_type, id: inv.source_id } : null,
      },
      answers: checked.rows,
      edited,
    };
    for (const h of this.handlers) await h(tx, event);
    return { ...response, answers: checked.rows };
  }

  /** A response given through the API (a POS tablet): the member, if any, by id or external id. */
  async respondByApi(tx: Tx, tenantId: string, surveyId: string, b: CreateResponseInput): Promise<SurveyResponseView> {
    if (b.member_id !== undefined && b.member_external_id !== undefined) throw errors.field('member_external_id', 'send member_id or member_external_id, not both');
    if (b.invitation_id !== undefined && (b.member_id !== undefined || b.member_external_id !== undefined)) {
      throw errors.field(b.member_id !== undefined ? 'member_id' : 'member_external_id', 'send no member with invitation_id: the member is the invitation\'s');
    }
    if (b.invitation_id !== undefined) {
      return this.respond(tx, tenantId, { survey_id: surveyId, invitation_id: b.invitation_id, channel: 'invitation', language: b.language, answers: b.answers, metadata: b.metadata });
    }
    let found: FoundMember | null = null;
    if (b.member_external_id !== undefined) {
      found = await this.deps.members.find(tx, tenantId, { externalId: b.member_external_id });
      if (!found) throw errors.unprocessable(`No member with external_id ${b.member_external_id}.`, [{ field: 'member_external_id', detail: 'is not a member of this program' }]);
    }
    // The member found by external id is passed on: respond() does not look them up again by id.
    return this.respondAs(tx, tenantId, {
      survey_id: surveyId, member_id: found?.id ?? b.member_id, member_field: b.member_external_id !== undefined ? 'member_external_id' : 'member_id',
      channel: 'api', language: b.language, answers: b.answers, metadata: b.metadata,
    }, found);
  }

  async getResponse(q: Queryable, tenantId: string, id: string): Promise<SurveyResponseView> {
    const r = await store.getResponse(q, tenantId, id);
    if (!r) throw errors.notFound('survey response', id);
    return { ...r, answers: await store.answersOf(q, tenantId, [r.id]).then((rows) => rows.map(stripResponseId)) };
  }

  /** A survey's responses with their answers, newest first. */
  async listResponses(q: Queryable, tenantId: string, surveyId: string, page: { after?: { at: Date; id: string }; limit: number }): Promise<SurveyResponseView[]> {
    await this.mustGet(q, tenantId, surveyId);
    return this.withAnswers(q, tenantId, await store.listResponses(q, tenantId, { surveyId, after: page.after, limit: page.limit }));
  }

  private async withAnswers(q: Queryable, tenantId: string, rows: ResponseRow[]): Promise<SurveyResponseView[]> {
    const answers = await store.answersOf(q, tenantId, rows.map((r) => r.id));
    const by = new Map<string, StoredAnswer[]>();
    for (const a of answers) by.set(a.response_id, [...(by.get(a.response_id) ?? []), stripResponseId(a)]);
    return rows.map((r) => ({ ...r, answers: by.get(r.id) ?? [] }));
  }

  // ── Triggers ──────────────────────────────────────────────────────────────────

  /** The order hook: a purchase schedules an invitation to each live after_purchase survey, N days after the order (orders made before the survey was published: none). */
  orderHook(): OrderHook {
    return { name: 'surveys', purchased: (tx, e) => this.purchased(tx, e) };
  }

  private async purchased(tx: Tx, e: PurchaseRecorded): Promise<void> {
    if (e.member.status !== 'active') return;
    const load = async (): Promise<OrderSurvey[]> => (await store.liveSurveysTriggered(tx, e.tenantId, 'after_purchase'))
      .map((s) => ({ id: s.id, touchpoint: s.touchpoint, published_at: s.published_at, days: (s.trigger as { days: number }).days }));
    const surveys = this.afterPurchase ? await this.afterPurchase.get(e.tenantId, load) : await load();
    if (surveys.length === 0) return;
    const t = e.transaction;
    const now = this.deps.clock.now();
    for (const s of surveys) {
      // A survey asks about purchases made while it is live: an imported history (or a back-dated order) never
      // invites members about orders of months ago.
      if (s.published_at === null || t.occurred_at < s.published_at) continue;
      const sendAt = new Date(t.occurred_at.getTime() + s.days * DAY_MS);
      const inv = await store.insertInvitation(tx, e.tenantId, newInvitation(s.id, e.member.id, 'after_purchase', now, { sendAt }, { type: 'transaction', id: t.id }));
      if (inv) await this.emitInvitation(tx, e.tenantId, 'survey.invitation_scheduled', inv, s, { send_at: inv.send_at });
    }
  }

  /**
   * A support case was closed: schedules the tenant's live after_case_closed surveys, and, when the agent asked for
   * it, sends the follow-up question ("Was your problem solved?") at once; returns that invitation's link.
   */
  async afterCaseClosed(tx: Tx, tenantId: string, c: { member_id: string; case_id: string; follow_up: boolean }): Promise<{ invitation_id: string; url: string } | null> {
    const member = await this.deps.members.find(tx, tenantId, { id: c.member_id });
    if (!member || member.status !== 'active') return null;
    const now = this.deps.clock.now();
    for (const s of await store.liveSurveysTriggered(tx, tenantId, 'after_case_closed')) {
      const sendAt = new Date(now.getTime() + (s.trigger as { days: number }).days * DAY_MS);
      const inv = await store.insertInvitation(tx, tenantId, newInvitation(s.id, member.id, 'after_case_closed', now, { sendAt }, { type: 'case', id: c.case_id }));
      if (inv) await this.emitInvitation(tx, tenantId, 'survey.invitation_scheduled', inv, s, { send_at: inv.send_at });
    }
    if (!c.follow_up) return null;
    const survey = await this.followUpSurvey(tx, tenantId);
    const settings = await this.ensureSettings(tx, tenantId);
    // Not throttled: the member has just been helped and the question is about that help; a loyalty survey a week
    // earlier must not stop the case being confirmed as solved (and a "no" reopening it).
    let inv = await store.insertInvitation(tx, tenantId, newInvitation(survey.id, member.id, 'after_case_closed', now, { expiresAt: expiresAt(survey, now) }, { type: 'case', id: c.case_id }));
    if (inv) await this.emitInvitation(tx, tenantId, 'survey.invited', inv, survey);
    // A case closed again (after a "no" reopened it) asks again on the same invitation when it is still open.
    inv ??= await store.invitationBySource(tx, tenantId, survey.id, 'case', c.case_id);
    if (!inv || inv.status !== 'pending' || !inv.expires_at || inv.expires_at <= now) return null;
    return { invitation_id: inv.id, url: invitationUrl(this.deps.baseUrl(), signInvitationToken(settings.link_secret, { tenantId, invitationId: inv.id, expiresAt: inv.expires_at })) };
  }

  /** The tenant's follow-up survey, created (live) on first use. */
  private async followUpSurvey(tx: Tx, tenantId: string): Promise<SurveyRow> {
    const found = await store.systemSurvey(tx, tenantId, CASE_FOLLOW_UP);
    if (found) return found;
    const now = this.deps.clock.now();
    const row = await store.insertSurvey(tx, tenantId, {
      id: newId(), name: 'Support case follow-up', touchpoint: 'support_case', touchpoint_label: null, status: 'live', current_version: 1, default_language: 'en',
      trigger: null, reward_event: null, public_link: false, invitation_ttl_days: 14, system_key: CASE_FOLLOW_UP, published_at: now, closed_at: null, created_at: now, updated_at: now,
    });
    // Two cases closed at once: the other transaction made it.
    if (!row) return (await store.systemSurvey(tx, tenantId, CASE_FOLLOW_UP))!;
    await store.insertVersion(tx, tenantId, { survey_id: row.id, version: 1, definition: FOLLOW_UP_DEFINITION, created_at: now });
    await this.emitSurvey(tx, tenantId, 'survey.created', row, { version: 1, system: CASE_FOLLOW_UP });
    await this.emitSurvey(tx, tenantId, 'survey.published', row, { version: 1 });
    return row;
  }

  // ── The surveys.invite job ────────────────────────────────────────────────────

  /**
   * Due scheduled invitations are sent (pending, with expires_at) or skipped with a reason: the survey is no
   * longer live, the member is not active, or the member was invited less than min_days_between_invitations ago.
   */
  async sendDue(db: { tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> }, tenantId: string): Promise<{ sent: number; skipped: number }> {
    const total = { sent: 0, skipped: 0 };
    for (;;) {
      const n = await db.tx(async (tx) => {
        const now = this.deps.clock.now();
        const due = await store.dueScheduled(tx, tenantId, now, BATCH);
        if (due.length === 0) return 0;
        const settings = await this.ensureSettings(tx, tenantId);
        const since = throttleSince(now, settings.min_days_between_invitations);
        const surveys = new Map<string, SurveyRow>();
        // The throttle check below runs under each member's invitation lock, as invite() does; taken in id order so
        // two runs (or a run and an API invite) never wait on each other in a cycle.
        const memberIds = [...new Set(due.map((d) => d.member_id))].sort();
        for (const memberId of memberIds) await store.lockMemberInvitations(tx, tenantId, memberId);
        // One lookup per batch; only the status is read.
        const members = new Map((await this.deps.members.findMany(tx, tenantId, memberIds, [])).map((m) => [m.id, m]));
        for (const inv of due) {
          let survey = surveys.get(inv.survey_id);
          if (!survey) surveys.set(inv.survey_id, (survey = (await store.getSurvey(tx, tenantId, inv.survey_id))!));
          const member = members.get(inv.member_id);
          const reason = survey.status !== 'live' ? 'survey_not_live'
            : !member || member.status !== 'active' ? 'member_inactive'
            : since && (await store.lastSentSince(tx, tenantId, inv.member_id, since)) ? 'throttled'
            : null;
          if (reason) {
            const row = await store.updateInvitation(tx, tenantId, inv.id, { status: 'skipped', skip_reason: reason });
            await this.emitInvitation(tx, tenantId, 'survey.invitation_skipped', row, survey, { skip_reason: reason });
            total.skipped++;
          } else {
            const row = await store.updateInvitation(tx, tenantId, inv.id, { status: 'pending', sent_at: now, expires_at: expiresAt(survey, now) });
            await this.emitInvitation(tx, tenantId, 'survey.invited', row, survey);
            total.sent++;
          }
        }
        return due.length;
      });
      if (n < BATCH) return total;
    }
  }

  /**
   * Relationship surveys: every active member not invited by the survey in its every_days (and not throttled) is
   * invited now. The members are walked once, each batch offered to every survey in one transaction.
   */
  async inviteRelationship(db: Queryable & { tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> }, tenantId: string): Promise<{ invited: number }> {
    let invited = 0;
    const surveys = await store.liveSurveysTriggered(db, tenantId, 'relationship');
    if (surveys.length === 0) return { invited };
    // Read once per run, not once per batch of members.
    const settings = await this.ensureSettings(db, tenantId);
    let afterId: string | undefined;
    for (;;) {
      const members = await this.deps.members.list(db, tenantId, { status: 'active', afterId, limit: BATCH });
      if (members.length === 0) break;
      afterId = members[members.length - 1]!.id;
      const memberIds = members.map((m) => m.id);
      invited += await db.tx(async (tx) => {
        const now = this.deps.clock.now();
        const since = throttleSince(now, settings.min_days_between_invitations) ?? new Date(now.getTime() + DAY_MS);
        const first: string[][] = [];
        for (const survey of surveys) first.push(await store.relationshipCandidates(tx, tenantId, survey.id, memberIds, surveySinceOf(survey, now), since));
        // Checked again under the members' invitation locks (as invite() checks), all taken first and in id order so
        // that this run and a sendDue or an API invite never wait on each other in a cycle: an invitation committed
        // meanwhile (or made just now for an earlier survey of this batch) throttles them.
        for (const memberId of [...new Set(first.flat())].sort()) await store.lockMemberInvitations(tx, tenantId, memberId);
        let n = 0;
        for (const [i, survey] of surveys.entries()) n += await this.inviteBatch(tx, tenantId, survey, first[i]!, now, since);
        return n;
      });
      if (members.length < BATCH) break;
    }
    return { invited };
  }

  /** Invites those of `candidates` (locked by the caller) the relationship survey may still invite; how many. */
  private async inviteBatch(tx: Tx, tenantId: string, survey: SurveyRow, candidates: string[], now: Date, since: Date): Promise<number> {
    if (candidates.length === 0) return 0;
    const ids = await store.relationshipCandidates(tx, tenantId, survey.id, candidates, surveySinceOf(survey, now), since);
    for (const memberId of ids) {
      const inv = (await store.insertInvitation(tx, tenantId, newInvitation(survey.id, memberId, 'relationship', now, { expiresAt: expiresAt(survey, now) })))!;
      await this.emitInvitation(tx, tenantId, 'survey.invited', inv, survey);
    }
    return ids.length;
  }

  /** Pending invitations past expires_at become expired (their links answer 410 already; this keeps lists true). */
  async expireDue(db: { tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> }, tenantId: string): Promise<{ expired: number }> {
    let expired = 0;
    for (;;) {
      const rows = await db.tx(async (tx) => {
        const now = this.deps.clock.now();
        const done = await store.expirePending(tx, tenantId, now, BATCH);
        await emitMany(tx, done.map((inv) => ({
          tenantId, type: 'survey.invitation_expired', aggregateType: 'survey_invitation', aggregateId: inv.id, memberId: inv.member_id,
          payload: { invitation_id: inv.id, survey_id: inv.survey_id, member_id: inv.member_id, expires_at: inv.expires_at }, occurredAt: now,
        })));
        return done.length;
      });
      expired += rows;
      if (rows < BATCH) return { expired };
    }
  }

  // ── GDPR ──────────────────────────────────────────────────────────────────────

  /** The member's invitations and responses with their answers. */
  async exportMember(q: Queryable, tenantId: string, memberId: string, limit: number): Promise<{ invitations: InvitationView[]; responses: SurveyResponseView[] }> {
    const invitations = (await store.memberInvitations(q, tenantId, memberId, limit)).map((r) => this.invitationView(r, null, tenantId));
    const responses = await this.withAnswers(q, tenantId, await store.listResponses(q, tenantId, { memberId, limit }));
    return { invitations, responses };
  }

  /**
   * Erasure: the member's free-text answers and response metadata go; scores stay (they no longer identify anyone).
   * Invitations that could still be answered end (scheduled: skipped member_erased; pending: expired, their links
   * answer 410), so no new personal data arrives after the erasure.
   */
  async eraseMember(tx: Queryable, tenantId: string, memberId: string): Promise<void> {
    await store.eraseMemberText(tx, tenantId, memberId);
    const now = this.deps.clock.now();
    const ended = await store.endMemberInvitations(tx, tenantId, memberId);
    await emitMany(tx, ended.map((inv) => ({
      tenantId, type: inv.status === 'skipped' ? 'survey.invitation_skipped' : 'survey.invitation_expired', aggregateType: 'survey_invitation', aggregateId: inv.id, memberId: inv.member_id,
      payload: { invitation_id: inv.id, survey_id: inv.survey_id, member_id: inv.member_id, expires_at: inv.expires_at, ...(inv.status === 'skipped' ? { skip_reason: inv.skip_reason } : { reason: 'member_erased' }) },
      occurredAt: now,
    })));
  }

  // ── Helpers ───────────────────────────────────────────────────────────────────

  private async mustGet(q: Queryable, tenantId: string, id: string, lock = false): Promise<SurveyRow> {
    const row = await store.getSurvey(q, tenantId, id, lock);
    if (!row) throw errors.notFound('survey', id);
    return row;
  }

  private async mustGetWithDefinition(q: Queryable, tenantId: string, id: string, lock = false): Promise<store.SurveyWithDefinition> {
    const row = await store.getSurveyWithDefinition(q, tenantId, id, lock);
    if (!row) throw errors.notFound('survey', id);
    return row;
  }

  private view(r: SurveyRow, definition: SurveyDefinition): SurveyView {
    return {
      id: r.id, name: r.name, touchpoint: r.touchpoint, touchpoint_label: r.touchpoint_label, status: r.status, version: r.current_version,
      default_language: r.default_language, trigger: r.trigger, reward_event: r.reward_event, public_link: r.public_link,
      invitation_ttl_days: r.invitation_ttl_days, system: r.system_key !== null, definition,
      published_at: r.published_at, closed_at: r.closed_at, created_at: r.created_at, updated_at: r.updated_at,
    };
  }

  private invitationView(r: InvitationRow, secret: Buffer | null, tenantId: string): InvitationView {
    const { source_type, source_id, ...rest } = r;
    const url = secret && r.expires_at && r.sent_at
      ? invitationUrl(this.deps.baseUrl(), signInvitationToken(secret, { tenantId, invitationId: r.id, expiresAt: r.expires_at }))
      : null;
    return { ...rest, source: source_type && source_id ? { type: source_type, id: source_id } : null, url };
  }

  private emitSurvey(tx: Queryable, tenantId: string, type: string, r: SurveyRow, extra: Record<string, unknown>): Promise<string> {
    return emit(tx, {
      tenantId, type, aggregateType: 'survey', aggregateId: r.id,
      payload: { survey_id: r.id, name: r.name, touchpoint: r.touchpoint, status: r.status, ...extra },
      occurredAt: this.deps.clock.now(),
    });
  }

  private emitInvitation(tx: Queryable, tenantId: string, type: string, inv: InvitationRow, survey: Pick<SurveyRow, 'id' | 'touchpoint'>, extra: Record<string, unknown> = {}): Promise<string> {
    return emit(tx, {
      tenantId, type, aggregateType: 'survey_invitation', aggregateId: inv.id, memberId: inv.member_id,
      payload: {
        invitation_id: inv.id, survey_id: survey.id, member_id: inv.member_id, trigger: inv.trigger, touchpoint: survey.touchpoint,
        source: inv.source_type ? { type: inv.source_type, id: inv.source_id } : null, sent_at: inv.sent_at, expires_at: inv.expires_at, ...extra,
      },
      occurredAt: this.deps.clock.now(),
    });
  }
}

/** What a key's answers mean, beyond the type: its scale (NPS scale, CSAT/CSI/rating scale_max, CSI top_box). */
function scaleFields(q: SurveyDefinition['questions'][number]): Record<string, unknown> {
  switch (q.type) {
    case 'nps': return { scale: q.scale ?? '0-10' };
    case 'csat': return { scale_max: q.scale_max ?? 5 };
    case 'csi': return { scale_max: q.scale_max ?? 5, top_box: q.top_box ?? 1 };
    case 'rating': return { scale_max: q.scale_max ?? 5 };
    default: return {};
  }
}

/**
 * A new version may add and drop questions, but a key answered under earlier versions keeps its type and scale:
 * results group answers by key, and a CSAT 1-7 next to an NPS 0-10 under one key means nothing. One problem per
 * changed field, naming `definition.questions[i].<field>`.
 */
function keyChanges(earlier: VersionRow[], def: SurveyDefinition): FieldError[] {
  const errs: FieldError[] = [];
  def.questions.forEach((q, i) => {
    for (const v of earlier) {
      const old = v.definition.questions.find((o) => o.key === q.key);
      if (!old) continue;
      if (old.type !== q.type) {
        errs.push({ field: `definition.questions[${i}].type`, detail: `was ${old.type} in version ${v.version}: a key keeps its type across versions; use a new key for a ${q.type} question` });
        return;
      }
      const was = scaleFields(old);
      const now = scaleFields(q);
      const changed = Object.keys(now).filter((k) => was[k] !== now[k]);
      for (const k of changed) errs.push({ field: `definition.questions[${i}].${k}`, detail: `was ${String(was[k])} in version ${v.version}: a key keeps its scale across versions; use a new key` });
      if (changed.length) return;
    }
  });
  return errs;
}

const settingsView = (s: SettingsRow): SettingsView => ({ min_days_between_invitations: s.min_days_between_invitations, edit_window_minutes: s.edit_window_minutes, updated_at: s.updated_at });
const stripResponseId = ({ response_id: _r, ...a }: store.AnswerRow): StoredAnswer => a;
