/**
 * The closed loop (docs/cases.md): every detractor, dissatisfied or high-effort answer and every piece of free text
 * (each switchable) and every feedback submission opens a follow-up case, with a priority from the tenant's rules,
 * an assignee, SLA due times in business hours, a timeline of notes and personal replies, a resolution with an
 * optional goodwill gesture through the ledger, and a one-question follow-up when it closes.
 *
 * One case per survey response: an edited response updates its case. A follow-up answer "no" reopens the case.
 * "Waiting for customer" pauses no SLA clock: the due times stay as they are (documented in docs/cases.md).
 */
import type { Clock } from '../../platform/clock.js';
import type { Queryable, Tx } from '../../platform/db/db.js';
import type { TenantCache, TenantConfig } from '../../platform/db/tenant-cache.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { isUuid, newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import type { AgentsService } from '../agents/agents.service.js';
import type { Ledger } from '../ledger/ledger.service.js';
import type { MembersService } from '../members/members.service.js';
import type { ProgramsService } from '../programs/programs.service.js';
import { giftErrors, type GiveGift } from '../rewards/rewards.gift.js';
import type { StoredAnswer, SurveyResponded } from '../surveys/surveys.types.js';
import type { CloseInput, FeedbackInput, NoteInput, ReopenInput, ReplyInput, ResolveInput, UpdateCaseInput } from './cases.schema.js';
import {
  businessHoursOf, higher, priorityOf, raised, settingsErrors, withDefaults,
  type CaseSettings, type Priority, type PriorityFacts, type Reason,
} from './cases.settings.js';
import { addBusinessMinutes, type BusinessHours } from './cases.sla.js';
import * as store from './cases.store.js';
import type { CaseFilter, CaseRow, CaseStatus, Goodwill, TimelineKind, TimelineRow } from './cases.store.js';

export type { CaseRow, Goodwill, TimelineRow } from './cases.store.js';

/** The tier of a member at a moment (TiersService.standing). */
export type Standing = (q: Queryable, tenantId: string, memberId: string, at: Date) => Promise<{ tier: string | null }>;

/** Sends the follow-up when a case closes (SurveysService.afterCaseClosed); null: nothing was sent. */
export type ClosedHandler = (tx: Tx, tenantId: string, c: { member_id: string; case_id: string; follow_up: boolean }) => Promise<{ invitation_id: string; url: string } | null>;

export interface CaseView extends Omit<CaseRow, 'source_type' | 'source_response_id' | 'follow_up_invitation_id' | 'erased' | 'source'> {
  source: Record<string, unknown>;
  breached: boolean;
  follow_up: { invitation_id: string } | null;
}

/** Who does something: the API key (actor) and optionally the agent it is done for. */
export interface Actor {
  actor: string;
  agentId?: string;
}

const SYSTEM: Actor = { actor: 'system' };
const BAND_REASON: Partial<Record<string, { reason: Reason; rule: keyof CaseSettings['open_rules']; type: StoredAnswer['question_type'] }>> = {
  detractor: { reason: 'nps_detractor', rule: 'nps_detractor', type: 'nps' },
  dissatisfied: { reason: 'csat_dissatisfied', rule: 'csat_dissatisfied', type: 'csat' },
  high_effort: { reason: 'ces_high_effort', rule: 'ces_high_effort', type: 'ces' },
};
const OPEN_STATES: CaseStatus[] = ['open', 'waiting_for_customer'];

/** An answer that opens a case under these settings, with its reason. */
interface Trigger {
  reason: Reason;
  answer: StoredAnswer;
}

export function triggersOf(settings: CaseSettings, answers: StoredAnswer[]): Trigger[] {
  const out: Trigger[] = [];
  for (const a of answers) {
    const byBand = a.band ? BAND_REASON[a.band] : undefined;
    if (byBand && byBand.type === a.question_type && settings.open_rules[byBand.rule]) out.push({ reason: byBand.reason, answer: a });
    else if (a.question_type === 'text' && settings.open_rules.free_text && a.value_text && a.value_text.trim() !== '') out.push({ reason: 'free_text', answer: a });
  }
  return out;
}

const valueOf = (a: StoredAnswer): number | string | null => a.value_number ?? a.value_text ?? (a.value_choices ? a.value_choices.join(',') : null);

/** A tenant's case settings with their defaults filled in, and when they were last saved (null: never). */
interface LoadedSettings {
  settings: CaseSettings;
  updated_at: Date | null;
}

export class CasesService {
  private closedHandlers: ClosedHandler[] = [];
  /** Read on every survey response (onSurveyResponded): cached per tenant, dropped by putSettings. */
  private readonly settingsCache: TenantCache<LoadedSettings> | null;

  constructor(private readonly deps: {
    clock: Clock;
    ledger: Ledger;
    members: MembersService;
    programs: ProgramsService;
    agents: AgentsService;
    giveGift: GiveGift;
    standing: Standing;
    config?: TenantConfig;
  }) {
    this.settingsCache = deps.config?.cache<LoadedSettings>() ?? null;
  }

  /** The follow-up sender (surveys): called when a case closes, in its transaction. */
  onClosed(handler: ClosedHandler): void {
    this.closedHandlers.push(handler);
  }

  // ── Settings ──────────────────────────────────────────────────────────────────

  async settings(q: Queryable, tenantId: string): Promise<CaseSettings & { updated_at: Date | null }> {
    const loaded = await this.loadSettings(q, tenantId);
    return { ...loaded.settings, updated_at: loaded.updated_at };
  }

  /** The one read of a tenant's settings; the cached value is shared, so callers never change it. */
  private async loadSettings(q: Queryable, tenantId: string): Promise<LoadedSettings> {
    const load = async (): Promise<LoadedSettings> => {
      const row = await store.getSettings(q, tenantId);
      return { settings: withDefaults(row?.settings ?? null), updated_at: row?.updated_at ?? null };
    };
    return this.settingsCache ? this.settingsCache.get(tenantId, load) : load();
  }

  checkSettings(body: unknown): FieldError[] {
    return settingsErrors(body);
  }

  async putSettings(tx: Tx, tenantId: string, input: Partial<CaseSettings>): Promise<CaseSettings & { updated_at: Date | null }> {
    const errs = settingsErrors(input);
    const s = withDefaults(input);
    for (const [field, id] of [['escalation.assign_to', s.escalation.assign_to], ['default_assignee_id', s.default_assignee_id]] as const) {
      if (id && !(await this.activeAgent(tx, tenantId, id))) errs.push({ field, detail: 'must be the id of an active agent or team' });
    }
    if (errs.length) throw errors.validation(errs);
    const now = this.deps.clock.now();
    await store.putSettings(tx, tenantId, s, now);
    await this.deps.config?.changed(tx, tenantId);
    await emit(tx, { tenantId, type: 'case_settings.updated', aggregateType: 'tenant', aggregateId: tenantId, occurredAt: now, payload: { fields: Object.keys(input) } });
    return { ...s, updated_at: now };
  }

  private async activeAgent(q: Queryable, tenantId: string, id: string): Promise<boolean> {
    const a = await this.deps.agents.find(q, tenantId, id);
    return a !== null && a.active;
  }

  /** The business hours SLA targets count in: the settings' own, in their zone or else the program's. */
  private async hoursOf(q: Queryable, tenantId: string, s: CaseSettings): Promise<BusinessHours> {
    return businessHoursOf(s, (await this.deps.programs.get(q, tenantId)).time_zone);
  }

  /** Due times of a priority's SLA targets, counted from `from` in business hours. */
  private dueTimes(hours: BusinessHours, s: CaseSettings, priority: Priority, from: Date) {
    const t = s.sla[priority];
    return { first_response_due_at: addBusinessMinutes(from, t.first_response_minutes, hours), resolution_due_at: addBusinessMinutes(from, t.resolution_minutes, hours) };
  }

  // ── Opening ───────────────────────────────────────────────────────────────────

  private async open(tx: Tx, tenantId: string, s: CaseSettings, c: Omit<CaseRow, 'id' | 'assignee_id' | 'status' | 'first_response_due_at' | 'resolution_due_at' | 'first_responded_at' | 'resolved_at' | 'closed_at' | 'first_response_breached' | 'resolution_breached' | 'escalated_at' | 'resolution_code' | 'resolution_note' | 'goodwill' | 'follow_up_invitation_id' | 'reopened_count' | 'reopened_at' | 'erased' | 'created_at' | 'updated_at'>): Promise<CaseRow> {
    const now = this.deps.clock.now();
    const assignee = s.default_assignee_id && (await this.activeAgent(tx, tenantId, s.default_assignee_id)) ? s.default_assignee_id : null;
    const row = await store.insertCase(tx, tenantId, {
      ...c, id: newId(), assignee_id: assignee, status: 'open', ...this.dueTimes(await this.hoursOf(tx, tenantId, s), s, c.priority, now),
      first_responded_at: null, resolved_at: null, closed_at: null, first_response_breached: false, resolution_breached: false, escalated_at: null,
      resolution_code: null, resolution_note: null, goodwill: [], follow_up_invitation_id: null, reopened_count: 0, reopened_at: null, erased: false,
      created_at: now, updated_at: now,
    });
    await this.log(tx, tenantId, row.id, 'opened', SYSTEM, { body: row.message, data: { reasons: row.reasons, priority: row.priority, assignee_id: assignee } });
    await this.event(tx, tenantId, row, 'case.opened', { reasons: row.reasons, source_type: row.source_type, priority: row.priority, assignee_id: assignee });
    if (assignee) await this.event(tx, tenantId, row, 'case.assigned', { assignee_id: assignee, previous_assignee_id: null });
    return row;
  }

  private async tierOf(q: Queryable, tenantId: string, memberId: string | null, at: Date): Promise<string | null> {
    return memberId ? (await this.deps.standing(q, tenantId, memberId, at)).tier : null;
  }

  /**
   * A survey response was stored or edited (SurveysService.onResponded, in its transaction). Answers that match the
   * open rules open one case for the response; an edit updates that case. An answer to the follow-up survey
   * (survey.follow_up, sent for the case in response.source) reopens that case on "no" and notes "yes". The tenant's
   * own after_case_closed surveys come from a case too, but are answers like any other: a detractor opens a case.
   */
  async onSurveyResponded(tx: Tx, e: SurveyResponded): Promise<void> {
    const tenantId = e.tenantId;
    if (e.survey.follow_up && e.response.source?.type === 'case') {
      await this.onFollowUpAnswer(tx, tenantId, e.response.source.id, e);
      return;
    }
    const s = (await this.loadSettings(tx, tenantId)).settings;
    const triggers = triggersOf(s, e.answers);
    // Only a response stored before can have a case: a new one needs no lookup.
    const existing = e.edited ? await store.caseOfResponse(tx, tenantId, e.response.id) : null;
    if (triggers.length === 0 && !existing) return;
    const tier = e.response.tier_code ?? (await this.tierOf(tx, tenantId, e.response.member_id, e.response.submitted_at));
    const facts = (t: Trigger): PriorityFacts => ({
      reason: t.reason, band: t.answer.band, tier_code: tier, channel: e.response.channel, touchpoint: e.survey.touchpoint, value: valueOf(t.answer),
    });
    const main = triggers.find((t) => t.reason !== 'free_text') ?? triggers[0];
    const text = e.answers.filter((a) => a.question_type === 'text' && a.value_text?.trim()).map((a) => a.value_text!.trim()).join('\n\n') || null;
    const fields = {
      reasons: [...new Set(triggers.map((t) => t.reason))],
      source: {
        survey_id: e.survey.id, survey_name: e.survey.name,
        question_key: main?.answer.question_key ?? null, band: main?.answer.band ?? null, value: main ? valueOf(main.answer) : null,
      },
      subject: main ? subjectOf(main, e.survey.name) : `Survey "${e.survey.name}"`,
      message: text,
    };
    if (!existing) {
      const priority = triggers.map((t) => priorityOf(s, facts(t))).reduce(higher);
      await this.open(tx, tenantId, s, {
        member_id: e.response.member_id, source_type: 'survey_answer', source_response_id: e.response.id, ...fields,
        contact_email: null, touchpoint: e.survey.touchpoint, tier_code: tier, priority,
      });
      return;
    }
    // An edited response: the same case, with what the member says now. A case whose answers no longer match the
    // open rules stays open as it was (someone may be working on it); the timeline says the edit no longer matches.
    const now = this.deps.clock.now();
    const changed = triggers.length > 0 ? fields : { message: text };
    const updated = await store.updateCase(tx, tenantId, { ...existing, ...changed, updated_at: now });
    await this.log(tx, tenantId, existing.id, 'updated', SYSTEM, { body: updated.message, data: { reasons: fields.reasons, matches_open_rules: triggers.length > 0, response_edited: true } });
    await this.event(tx, tenantId, updated, 'case.updated', { fields: Object.keys(changed), response_edited: true });
  }

  private async onFollowUpAnswer(tx: Tx, tenantId: string, caseId: string, e: SurveyResponded): Promise<void> {
    // The invitation's source id is text: anything but a case id of this tenant is no case to follow up.
    const c = isUuid(caseId) ? await store.getCase(tx, tenantId, caseId, true) : null;
    if (!c) return;
    const solved = e.answers.find((a) => a.question_key === 'solved');
    const answer = solved ? (solved.value_choices?.[0] ?? solved.value_text) : null;
    await this.log(tx, tenantId, c.id, 'follow_up_answered', SYSTEM, { data: { response_id: e.response.id, solved: answer } });
    if (answer === 'no' && (c.status === 'resolved' || c.status === 'closed')) {
      await this.reopenRow(tx, tenantId, c, SYSTEM, 'The member says the problem was not solved (follow-up).');
    }
  }

  /** POST /v1/feedback: every submission opens a case. */
  async feedback(tx: Tx, tenantId: string, input: FeedbackInput): Promise<CaseView> {
    if (input.member_id !== undefined && input.member_external_id !== undefined) throw errors.field('member_external_id', 'send member_id or member_external_id, not both');
    let memberId: string | null = null;
    if (input.member_id !== undefined || input.member_external_id !== undefined) {
      const by = input.member_id !== undefined ? { id: input.member_id } : { externalId: input.member_external_id! };
      const m = await this.deps.members.find(tx, tenantId, by);
      if (!m) throw errors.notFound('member', input.member_id ?? input.member_external_id);
      if (m.status === 'erased') throw errors.unprocessable(`Member ${m.id} was erased.`);
      memberId = m.id;
    }
    const s = (await this.loadSettings(tx, tenantId)).settings;
    const now = this.deps.clock.now();
    const tier = await this.tierOf(tx, tenantId, memberId, now);
    const touchpoint = input.touchpoint ?? null;
    const priority = priorityOf(s, { reason: 'feedback', band: null, tier_code: tier, channel: 'feedback', touchpoint, value: input.rating ?? null });
    const oneLine = input.message.replace(/\s+/g, ' ').trim();
    const row = await this.open(tx, tenantId, s, {
      member_id: memberId, source_type: 'feedback', source_response_id: null,
      source: { rating: input.rating ?? null, metadata: input.metadata ?? {} },
      reasons: ['feedback'], subject: `Feedback: ${oneLine.length > 80 ? `${oneLine.slice(0, 79)}…` : oneLine}`,
      message: input.message, contact_email: input.email ?? null, touchpoint, tier_code: tier, priority,
    });
    return this.view(row);
  }

  // ── Working a case ────────────────────────────────────────────────────────────

  private async caseOr404(q: Queryable, tenantId: string, id: string, forUpdate = false): Promise<CaseRow> {
    const c = await store.getCase(q, tenantId, id, forUpdate);
    if (!c) throw errors.notFound('case', id);
    return c;
  }

  private async author(q: Queryable, tenantId: string, who: Actor): Promise<void> {
    if (who.agentId && !(await this.deps.agents.find(q, tenantId, who.agentId))) {
      throw errors.unprocessable(`No agent with id ${who.agentId}.`, [{ field: 'agent_id', detail: 'must be the id of an agent' }]);
    }
  }

  async update(tx: Tx, tenantId: string, id: string, patch: UpdateCaseInput, who: Actor): Promise<CaseView> {
    const c = await this.caseOr404(tx, tenantId, id, true);
    if (c.status === 'closed') throw errors.unprocessable(`Case ${id} is closed: reopen it first.`);
    const now = this.deps.clock.now();
    let next = { ...c };
    const after: Array<() => Promise<void>> = [];
    if (patch.assignee_id !== undefined && patch.assignee_id !== c.assignee_id) {
      if (patch.assignee_id !== null && !(await this.activeAgent(tx, tenantId, patch.assignee_id))) {
        throw errors.unprocessable(`No active agent or team with id ${patch.assignee_id}.`, [{ field: 'assignee_id', detail: 'must be the id of an active agent or team' }]);
      }
      next.assignee_id = patch.assignee_id;
      after.push(async () => {
        await this.log(tx, tenantId, id, 'assigned', who, { data: { assignee_id: patch.assignee_id, previous_assignee_id: c.assignee_id } });
        await this.event(tx, tenantId, next, 'case.assigned', { assignee_id: patch.assignee_id, previous_assignee_id: c.assignee_id });
      });
    }
    if (patch.priority !== undefined && patch.priority !== c.priority) {
      // New targets for the new priority, from where each clock starts: the first response from the opening (a case
      // already answered keeps its target: that clock has stopped), the resolution from the last reopening if any,
      // as reopenRow set it. Counting it from the opening would put a case reopened weeks later past its target at
      // once. Breach flags already set stay.
      const s = (await this.loadSettings(tx, tenantId)).settings;
      const hours = await this.hoursOf(tx, tenantId, s);
      const fromOpening = this.dueTimes(hours, s, patch.priority, c.created_at);
      const fromReopening = c.reopened_at ? this.dueTimes(hours, s, patch.priority, c.reopened_at) : fromOpening;
      next = {
        ...next, priority: patch.priority,
        first_response_due_at: c.first_responded_at === null ? fromOpening.first_response_due_at : c.first_response_due_at,
        resolution_due_at: fromReopening.resolution_due_at,
      };
      after.push(async () => {
        await this.log(tx, tenantId, id, 'priority_changed', who, { data: { priority: patch.priority, previous_priority: c.priority } });
        await this.event(tx, tenantId, next, 'case.priority_changed', { priority: patch.priority, previous_priority: c.priority });
      });
    }
    if (patch.status !== undefined && patch.status !== c.status) {
      if (!OPEN_STATES.includes(c.status)) throw errors.unprocessable(`Case ${id} is ${c.status}: reopen it to change its status.`, [{ field: 'status', detail: `cannot change a ${c.status} case` }]);
      next.status = patch.status;
      after.push(() => this.statusChanged(tx, tenantId, next, c.status, who));
    }
    if (after.length === 0) return this.view(c);
    await this.author(tx, tenantId, who);
    const row = await store.updateCase(tx, tenantId, { ...next, updated_at: now });
    for (const fn of after) await fn();
    return this.view(row);
  }

  async note(tx: Tx, tenantId: string, id: string, input: NoteInput, who: Actor): Promise<TimelineRow> {
    const c = await this.caseOr404(tx, tenantId, id, true);
    await this.author(tx, tenantId, who);
    const entry = await this.log(tx, tenantId, id, 'note', who, { body: input.body });
    await store.updateCase(tx, tenantId, { ...c, updated_at: this.deps.clock.now() });
    await this.event(tx, tenantId, c, 'case.noted', { entry_id: entry.id, agent_id: who.agentId ?? null });
    return entry;
  }

  /** A personal reply to the member, stored with delivery 'pending' (the messaging module emails it). The first one is the first response. */
  async reply(tx: Tx, tenantId: string, id: string, input: ReplyInput, who: Actor): Promise<TimelineRow> {
    const c = await this.caseOr404(tx, tenantId, id, true);
    if (c.status === 'closed') throw errors.unprocessable(`Case ${id} is closed: reopen it first.`);
    if (!c.member_id && !c.contact_email) throw errors.unprocessable(`Case ${id} is anonymous feedback without an email: there is nobody to reply to. Add a note instead.`);
    await this.author(tx, tenantId, who);
    const now = this.deps.clock.now();
    const entry = await this.log(tx, tenantId, id, 'reply', who, { body: input.body, delivery_state: 'pending' });
    const first = c.first_responded_at === null;
    await store.updateCase(tx, tenantId, { ...c, first_responded_at: c.first_responded_at ?? now, updated_at: now });
    await this.event(tx, tenantId, c, 'case.replied', { entry_id: entry.id, agent_id: who.agentId ?? null, first_response: first });
    return entry;
  }

  async resolve(tx: Tx, tenantId: string, id: string, input: ResolveInput, who: Actor): Promise<CaseView> {
    const errs = input.goodwill ? giftErrors('goodwill', input.goodwill) : [];
    if (errs.length) throw errors.validation(errs);
    const c = await this.caseOr404(tx, tenantId, id, true);
    if (!OPEN_STATES.includes(c.status)) throw errors.unprocessable(`Case ${id} is ${c.status}.`);
    await this.author(tx, tenantId, who);
    const now = this.deps.clock.now();
    let goodwill: Goodwill | null = null;
    if (input.goodwill) {
      if (!c.member_id) throw errors.unprocessable('Anonymous feedback has no member to give a goodwill gesture to.', [{ field: 'goodwill', detail: 'needs a case with a member' }]);
      const m = await this.deps.members.find(tx, tenantId, { id: c.member_id });
      if (!m || m.status !== 'active') throw errors.unprocessable(`Member ${c.member_id} is ${m?.status ?? 'gone'} and cannot get a goodwill gesture.`, [{ field: 'goodwill', detail: 'the member is not active' }]);
      const program = await this.deps.programs.get(tx, tenantId);
      const book = await this.deps.ledger.open(tx, tenantId, c.member_id, program.negative_balance);
      // A gesture that cannot be given (an unknown or sold-out reward) fails the resolve as a whole: a 422.
      const result = await this.deps.giveGift(tx, book, input.goodwill, { source_type: 'case', source_id: c.id, reason: `goodwill, case ${c.id}` });
      goodwill = { gift: input.goodwill, result, given_at: now.toISOString(), actor: who.actor, agent_id: who.agentId ?? null };
    }
    // Every gesture stays on the case, in order: one given before a reopening is not taken back by the next.
    const row = await store.updateCase(tx, tenantId, {
      ...c, status: 'resolved', resolved_at: now, resolution_code: input.resolution_code, resolution_note: input.note ?? null,
      goodwill: goodwill ? [...c.goodwill, goodwill] : c.goodwill, updated_at: now,
    });
    if (goodwill) await this.log(tx, tenantId, id, 'goodwill', who, { data: { gift: goodwill.gift, result: goodwill.result } });
    await this.log(tx, tenantId, id, 'resolved', who, { body: input.note ?? null, data: { resolution_code: input.resolution_code } });
    await this.statusChanged(tx, tenantId, row, c.status, who, false);
    await this.event(tx, tenantId, row, 'case.resolved', { resolution_code: input.resolution_code, goodwill: goodwill?.result ?? null });
    return this.view(row);
  }

  async close(tx: Tx, tenantId: string, id: string, input: CloseInput, who: Actor): Promise<CaseView> {
    const c = await this.caseOr404(tx, tenantId, id, true);
    if (c.status !== 'resolved') throw errors.unprocessable(`Case ${id} is ${c.status}: only a resolved case closes.`);
    await this.author(tx, tenantId, who);
    const now = this.deps.clock.now();
    let row = await store.updateCase(tx, tenantId, { ...c, status: 'closed', closed_at: now, updated_at: now });
    await this.log(tx, tenantId, id, 'closed', who, { data: { follow_up: input.follow_up ?? false } });
    await this.statusChanged(tx, tenantId, row, c.status, who, false);
    await this.event(tx, tenantId, row, 'case.closed', { follow_up: input.follow_up ?? false });
    if (c.member_id) {
      for (const handler of this.closedHandlers) {
        const sent = await handler(tx, tenantId, { member_id: c.member_id, case_id: c.id, follow_up: input.follow_up ?? false });
        if (!sent) continue;
        // Only the invitation id is kept, not its signed link: a read key would see it on the case and could answer
        // as the member. Write keys get it from GET /v1/survey-invitations/{id}.
        row = await store.updateCase(tx, tenantId, { ...row, follow_up_invitation_id: sent.invitation_id });
        await this.log(tx, tenantId, id, 'follow_up_sent', SYSTEM, { data: { invitation_id: sent.invitation_id } });
        await this.event(tx, tenantId, row, 'case.follow_up_sent', { invitation_id: sent.invitation_id });
      }
    }
    return this.view(row);
  }

  async reopen(tx: Tx, tenantId: string, id: string, input: ReopenInput, who: Actor): Promise<CaseView> {
    const c = await this.caseOr404(tx, tenantId, id, true);
    if (OPEN_STATES.includes(c.status)) throw errors.unprocessable(`Case ${id} is ${c.status}, not resolved or closed.`);
    await this.author(tx, tenantId, who);
    return this.view(await this.reopenRow(tx, tenantId, c, who, input.reason ?? null));
  }

  /** Open again, with a fresh resolution target from now (the first response target stays as it was). */
  private async reopenRow(tx: Tx, tenantId: string, c: CaseRow, who: Actor, reason: string | null): Promise<CaseRow> {
    const now = this.deps.clock.now();
    const s = (await this.loadSettings(tx, tenantId)).settings;
    const { resolution_due_at } = this.dueTimes(await this.hoursOf(tx, tenantId, s), s, c.priority, now);
    const row = await store.updateCase(tx, tenantId, {
      ...c, status: 'open', resolved_at: null, closed_at: null, resolution_due_at, resolution_breached: false, reopened_count: c.reopened_count + 1, reopened_at: now, updated_at: now,
    });
    await this.log(tx, tenantId, c.id, 'reopened', who, { body: reason, data: { previous_status: c.status } });
    await this.statusChanged(tx, tenantId, row, c.status, who, false);
    await this.event(tx, tenantId, row, 'case.reopened', { previous_status: c.status, reopened_count: row.reopened_count });
    return row;
  }

  private async statusChanged(tx: Tx, tenantId: string, c: CaseRow, from: CaseStatus, who: Actor, logIt = true): Promise<void> {
    if (logIt) await this.log(tx, tenantId, c.id, 'status_changed', who, { data: { status: c.status, previous_status: from } });
    await this.event(tx, tenantId, c, 'case.status_changed', { status: c.status, previous_status: from });
  }

  // ── SLA ───────────────────────────────────────────────────────────────────────

  /**
   * Flags cases whose first response or resolution is overdue (case.sla_breached) and escalates each case once
   * (case.escalated): to the escalation assignee and/or one priority up. Batched; safe to run twice. `more`: the
   * batch was full, so another may find more cases.
   */
  async checkBreaches(tx: Tx, tenantId: string, limit = 500): Promise<{ breached: number; escalated: number; more: boolean }> {
    const now = this.deps.clock.now();
    const due = await store.dueForBreach(tx, tenantId, now, limit);
    const more = due.length === limit;
    if (due.length === 0) return { breached: 0, escalated: 0, more };
    const s = (await this.loadSettings(tx, tenantId)).settings;
    // One batch is one transaction: whether the escalation assignee is active cannot change partway through it.
    const to = s.escalation.assign_to && (await this.activeAgent(tx, tenantId, s.escalation.assign_to)) ? s.escalation.assign_to : null;
    let breached = 0;
    let escalated = 0;
    for (const c of due) {
      const slas: Array<'first_response' | 'resolution'> = [];
      if (c.first_responded_at === null && !c.first_response_breached && c.first_response_due_at <= now) slas.push('first_response');
      if (!c.resolution_breached && c.resolution_due_at <= now) slas.push('resolution');
      let row: CaseRow = {
        ...c, updated_at: now,
        first_response_breached: c.first_response_breached || slas.includes('first_response'),
        resolution_breached: c.resolution_breached || slas.includes('resolution'),
      };
      for (const sla of slas) {
        breached++;
        await this.log(tx, tenantId, c.id, 'sla_breached', SYSTEM, { data: { sla, due_at: sla === 'first_response' ? c.first_response_due_at : c.resolution_due_at } });
        await this.event(tx, tenantId, row, 'case.sla_breached', { sla, due_at: sla === 'first_response' ? c.first_response_due_at : c.resolution_due_at });
      }
      if (c.escalated_at === null) {
        const priority = s.escalation.raise_priority ? raised(c.priority) : c.priority;
        row = { ...row, escalated_at: now, assignee_id: to ?? c.assignee_id, priority };
        const data = { assignee_id: row.assignee_id, previous_assignee_id: c.assignee_id, priority, previous_priority: c.priority, sla: slas[0] };
        await this.log(tx, tenantId, c.id, 'escalated', SYSTEM, { data });
        await this.event(tx, tenantId, row, 'case.escalated', data);
        if (row.assignee_id !== c.assignee_id) await this.event(tx, tenantId, row, 'case.assigned', { assignee_id: row.assignee_id, previous_assignee_id: c.assignee_id, escalation: true });
        escalated++;
      }
      await store.updateCase(tx, tenantId, row);
    }
    return { breached, escalated, more };
  }

  // ── Reading ───────────────────────────────────────────────────────────────────
  /**
   * The messaging module's word on a reply's email: `sent` or `failed` (a bounce is a failure). Null when there is no
   * such reply. A reply marked sent stays sent: a late failure notice of an earlier attempt does not undo it.
   */
  async replyDelivered(tx: Queryable, tenantId: string, entryId: string, state: 'sent' | 'failed'): Promise<TimelineRow | null> {
    const entry = (await store.timelineEntry(tx, tenantId, entryId));
    if (!entry || entry.kind !== 'reply') return null;
    if (entry.delivery_state === 'sent' && state === 'failed') return entry;
    return store.setDeliveryState(tx, tenantId, entryId, state);
  }

  /** A reply of a case (the messaging triggers email it): the entry, and the case it belongs to. */
  async replyOf(q: Queryable, tenantId: string, entryId: string): Promise<{ entry: TimelineRow; case: CaseRow } | null> {
    const entry = await store.timelineEntry(q, tenantId, entryId);
    if (!entry || entry.kind !== 'reply') return null;
    const c = await store.getCase(q, tenantId, entry.case_id);
    return c ? { entry, case: c } : null;
  }


  async get(q: Queryable, tenantId: string, id: string): Promise<CaseView & { timeline: TimelineRow[] }> {
    const c = await this.caseOr404(q, tenantId, id);
    return { ...this.view(c), timeline: await store.timelineOf(q, tenantId, [id]) };
  }

  async list(q: Queryable, tenantId: string, f: CaseFilter): Promise<CaseView[]> {
    return (await store.listCases(q, tenantId, f)).map((c) => this.view(c));
  }

  view(c: CaseRow): CaseView {
    const { source_type, source_response_id, follow_up_invitation_id, erased: _erased, source, ...rest } = c;
    return {
      ...rest,
      // type and response_id live in their own columns (the stored document is only what opened the case); they
      // lead the API's source as they always have.
      source: { type: source_type, ...(source_response_id ? { response_id: source_response_id } : {}), ...source },
      breached: c.first_response_breached || c.resolution_breached,
      follow_up: follow_up_invitation_id ? { invitation_id: follow_up_invitation_id } : null,
    };
  }

  /** GDPR export: the member's cases with their timelines (internal notes included: they are about the member). */
  async exportOf(q: Queryable, tenantId: string, memberId: string, limit: number) {
    const rows = await store.casesOfMember(q, tenantId, memberId, limit);
    const timeline = await store.timelineOf(q, tenantId, rows.map((r) => r.id));
    return rows.map((r) => ({ ...this.view(r), timeline: timeline.filter((t) => t.case_id === r.id) }));
  }

  /** GDPR erasure: the member's words and the replies to them are cleared; the cases stay for the statistics. */
  async eraseMember(tx: Queryable, tenantId: string, memberId: string): Promise<void> {
    await store.eraseMember(tx, tenantId, memberId);
  }

  // ── Helpers ───────────────────────────────────────────────────────────────────

  private log(tx: Queryable, tenantId: string, caseId: string, kind: TimelineKind, who: Actor, x: { body?: string | null; data?: Record<string, unknown>; delivery_state?: TimelineRow['delivery_state'] } = {}): Promise<TimelineRow> {
    return store.insertTimeline(tx, tenantId, {
      id: newId(), case_id: caseId, kind, body: x.body ?? null, author_agent_id: who.agentId ?? null, actor: who.actor, data: x.data ?? {},
      delivery_state: x.delivery_state ?? null, created_at: this.deps.clock.now(),
    });
  }

  private async event(tx: Queryable, tenantId: string, c: CaseRow, type: string, payload: Record<string, unknown>): Promise<void> {
    await emit(tx, { tenantId, type, aggregateType: 'case', aggregateId: c.id, memberId: c.member_id, occurredAt: this.deps.clock.now(), payload: { case_id: c.id, ...payload } });
  }
}

const REASON_TEXT: Record<Reason, string> = {
  nps_detractor: 'Detractor',
  csat_dissatisfied: 'Dissatisfied',
  ces_high_effort: 'High effort',
  free_text: 'Comment',
  feedback: 'Feedback',
};

function subjectOf(t: Trigger, surveyName: string): string {
  const v = t.answer.value_number;
  return `${REASON_TEXT[t.reason]}${v !== null && t.reason !== 'free_text' ? ` (${v})` : ''}: ${surveyName}`;
}
