/**
 * The demo's surveys and closed loop (docs/surveys.md, docs/cases.md). Brew & Bloom started listening six months
 * before the demo's "now": a relationship NPS survey (with its public link), a post-purchase CSAT + CES survey and a
 * Customer Secure / Loyalty Index survey, a customer-care team with two agents, and an action bonus for answering.
 *
 * Six months of invitations and answers are then replayed in time order on a clock of their own, through the same
 * services the API uses: members answer in their own language, detractors and unhappy buyers say why, and every
 * unhappy answer opens a case (the cases module's rules). The team works the older cases — replies, resolutions,
 * goodwill points, "was your problem solved?" follow-ups, one of which reopens its case — while the last days' cases
 * are still open, some past their SLA (the cases.sla job runs at "now"). A few feedback-button submissions and
 * anonymous public-link answers complete the picture.
 *
 * One transaction, only when the tenant has no survey of its own yet: a second run leaves everything as it is.
 */
import type { Patron } from '../app.js';
import { SettableClock } from '../platform/clock.js';
import type { Tx } from '../platform/db/db.js';
import { AgentsService } from '../modules/agents/agents.service.js';
import { CreateAgentBody } from '../modules/agents/agents.schema.js';
import { CaseSettingsBody } from '../modules/cases/cases.schema.js';
import type { CaseSettings } from '../modules/cases/cases.settings.js';
import { CasesService, type Actor } from '../modules/cases/cases.service.js';
import type { MemberHistory } from '../modules/members/members.service.js';
import { createGiveGift } from '../modules/rewards/rewards.gift.js';
import { CreateRuleBody } from '../modules/rules/rules.schema.js';
import type { RuleInput } from '../modules/rules/rules.service.js';
import { CreateSurveyBody, QuestionSchema, type CreateSurveyInput } from '../modules/surveys/surveys.schema.js';
import { SurveysService } from '../modules/surveys/surveys.service.js';
import type { AnswerInput, Language, Texts } from '../modules/surveys/surveys.types.js';
import { body } from './admin-body.js';
import { DEMO_COMMENTS, toneOf, type Tone } from './feedback.demo.js';
import { dbOver, servicesOn } from './history.demo.js';
import { Rng } from './random.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const ACTOR = 'demo';
/** How far back the surveys go. */
export const SURVEY_DAYS = 180;
/** Members invited over the six months (each once: the 30-day throttle never bites), and how many answer. */
const INVITED = 640;
const RESPONSE_RATE = 0.58;
/** Anonymous answers through the relationship survey's public link. */
const PUBLIC_ANSWERS = 40;
/** Cases younger than this are still being worked at "now": two weeks, so some are past their SLA whatever the weekday. */
const OPEN_CASE_DAYS = 14;

export interface SurveysLoad {
  surveys: number;
  invitations: number;
  responses: number;
  languages: Language[];
  cases: { total: number; open: number; breached: number; reopened: number };
}

// ── The admin's requests ────────────────────────────────────────────────────

export const SURVEY_REWARD_EVENT = 'survey_answered';
export const SURVEY_REWARD_POINTS = 25;

const SURVEY_RULE: RuleInput = {
  kind: 'event', name: 'Thanks for answering our survey', event: SURVEY_REWARD_EVENT, points: SURVEY_REWARD_POINTS, limit: { count: 4, per: 'year' },
};

const t = (en: string, bg: string, ru: string, ro: string, pl: string): Texts => ({ en, bg, ru, ro, pl });

export const DEMO_SURVEYS: Record<'relationship' | 'purchase' | 'loyalty', CreateSurveyInput> = {
  relationship: {
    name: 'How are we doing? (relationship NPS)', touchpoint: 'custom', touchpoint_label: 'relationship', default_language: 'en',
    // Sent by the marketer twice a year to a sample (POST …/invitations), not by the relationship trigger, which would
    // invite the whole base at the server's next job run and bury the six months' response rate.
    trigger: null, reward_event: SURVEY_REWARD_EVENT, public_link: true,
    definition: {
      title: t('How are we doing?', 'Как се справяме?', 'Как у нас дела?', 'Cum ne descurcăm?', 'Jak nam idzie?'),
      questions: [
        { key: 'nps', type: 'nps', scale: '0-10' },
        {
          key: 'why', type: 'text', required: false, show_if: { question: 'nps', band_in: ['detractor'] },
          text: t('What disappointed you?', 'Какво ви разочарова?', 'Что вас разочаровало?', 'Ce v-a dezamăgit?', 'Co Cię rozczarowało?'),
        },
        {
          key: 'best', type: 'text', required: false, show_if: { question: 'nps', band_in: ['passive', 'promoter'] },
          text: t('What do you like most about us?', 'Какво харесвате най-много при нас?', 'Что вам больше всего у нас нравится?', 'Ce vă place cel mai mult la noi?', 'Co najbardziej w nas lubisz?'),
        },
      ],
    },
  },
  purchase: {
    name: 'After your order (CSAT and effort)', touchpoint: 'purchase', default_language: 'en',
    trigger: { type: 'after_purchase', days: 2 }, reward_event: SURVEY_REWARD_EVENT,
    definition: {
      questions: [
        { key: 'csat', type: 'csat' },
        { key: 'effort', type: 'ces' },
        {
          key: 'comment', type: 'text', required: false,
          text: t('Anything we could do better?', 'Какво бихме могли да направим по-добре?', 'Что мы могли бы сделать лучше?', 'Ce am putea face mai bine?', 'Co moglibyśmy zrobić lepiej?'),
        },
      ],
    },
  },
  loyalty: {
    name: 'Loyalty check (CSI and CLI)', touchpoint: 'store_visit', default_language: 'en', reward_event: SURVEY_REWARD_EVENT,
    definition: { questions: [{ key: 'csi', type: 'csi' }, { key: 'cli', type: 'cli' }] },
  },
};

/** Gold detractors and effort complaints from the shop's best customers first; everything else normal. */
const CASE_SETTINGS = (teamId: string, leadId: string): Partial<CaseSettings> => ({
  priority_rules: [
    { when: { and: [{ '==': [{ var: 'reason' }, 'nps_detractor'] }, { '==': [{ var: 'tier_code' }, 'gold'] }] }, priority: 'high' },
    { when: { and: [{ '==': [{ var: 'reason' }, 'nps_detractor'] }, { '<=': [{ var: 'value' }, 3] }] }, priority: 'high' },
    { when: { '==': [{ var: 'reason' }, 'free_text'] }, priority: 'low' },
  ],
  default_priority: 'normal',
  business_hours: {
    time_zone: null,
    weekly: { mon: [['09:00', '18:00']], tue: [['09:00', '18:00']], wed: [['09:00', '18:00']], thu: [['09:00', '18:00']], fri: [['09:00', '18:00']], sat: [['10:00', '14:00']], sun: [] },
    holidays: ['2026-12-24', '2026-12-25', '2026-12-26', '2027-01-01'],
  },
  escalation: { assign_to: leadId, raise_priority: true },
  default_assignee_id: teamId,
});

// ── The answers ─────────────────────────────────────────────────────────────

/** Six months in which the shop got a little better: promoters up, detractors down (t: 0 = start, 1 = now). */
function npsScore(r: Rng, t: number): number {
  const promoter = 0.4 + 0.12 * t;
  const detractor = 0.26 - 0.08 * t;
  const x = r.next();
  if (x < detractor) return r.weighted([[0, 1], [1, 1], [2, 2], [3, 3], [4, 4], [5, 6], [6, 7]]);
  if (x < 1 - promoter) return r.weighted([[7, 5], [8, 6]]);
  return r.weighted([[9, 5], [10, 4]]);
}

/** 1-5 satisfaction, and an effort answer (1-7) that goes with it. */
function csatAndEffort(r: Rng): { csat: number; effort: number } {
  const csat = r.weighted([[1, 5], [2, 7], [3, 14], [4, 38], [5, 36]]);
  const base = [0, 2, 3, 4, 5, 6][csat]!;
  return { csat, effort: Math.min(7, Math.max(1, base + r.int(-1, 1))) };
}

/** One feeling behind three items, each a step either way. */
function block(r: Rng, min: number, max: number, centre: number): [number, number, number] {
  const item = () => Math.min(max, Math.max(min, centre + r.weighted([[-1, 2], [0, 5], [1, 2]])));
  return [item(), item(), item()];
}

function comment(r: Rng, language: Language, tone: Tone): string {
  return r.pick(DEMO_COMMENTS[language][tone]);
}

// ── Loading ─────────────────────────────────────────────────────────────────

/** Sets up the surveys and their six months in `tx`; null when the tenant has surveys already. */
export async function ensureDemoSurveys(patron: Patron, tx: Tx, tenantId: string, members: readonly MemberHistory[]): Promise<SurveysLoad | null> {
  const existing = await patron.services.surveys.list(tx, tenantId, { limit: 10 });
  if (existing.some((s) => !s.system)) return null;

  const now = patron.clock.now();
  const start = new Date(now.getTime() - SURVEY_DAYS * DAY);
  const r = new Rng(`surveys:${tenantId}`);

  // Services on a clock of their own that walks through the six months, wired like the composition root wires them.
  const clock = new SettableClock();
  clock.set(start);
  const { ledger, rules, events, programs } = servicesOn(patron, clock);
  const { members: memberService, tiers } = patron.services;
  const agents = new AgentsService({ clock });
  const giveGift = createGiveGift({ now: () => clock.now(), program: (q, id) => programs.get(q, id), givers: {} });
  const cases = new CasesService({ clock, ledger, members: memberService, programs, agents, giveGift, standing: tiers.standing });
  const surveys = new SurveysService({ clock, members: memberService, events, standing: tiers.standing, baseUrl: () => patron.config.publicUrl ?? 'http://127.0.0.1' });
  surveys.onResponded((q, e) => cases.onSurveyResponded(q, e));
  cases.onClosed((q, t, c) => surveys.afterCaseClosed(q, t, c));

  // The set-up, on the first day.
  await rules.create(tx, tenantId, body(CreateRuleBody, structuredClone(SURVEY_RULE)), ACTOR);
  const team = await agents.create(tx, tenantId, body(CreateAgentBody, { kind: 'team' as const, name: 'Customer care' }));
  const lead = await agents.create(tx, tenantId, body(CreateAgentBody, { name: 'Maria Ivanova', email: 'maria.ivanova@brewandbloom.example', team_id: team.id }));
  const agent = await agents.create(tx, tenantId, body(CreateAgentBody, { name: 'Piotr Nowak', email: 'piotr.nowak@brewandbloom.example', team_id: team.id }));
  await cases.putSettings(tx, tenantId, body(CaseSettingsBody, CASE_SETTINGS(team.id, lead.id), (b) => cases.checkSettings(b)));
  const ids: Record<keyof typeof DEMO_SURVEYS, string> = { relationship: '', purchase: '', loyalty: '' };
  for (const key of Object.keys(DEMO_SURVEYS) as Array<keyof typeof DEMO_SURVEYS>) {
    const created = await surveys.create(tx, tenantId, body(CreateSurveyBody, structuredClone(DEMO_SURVEYS[key]), (b) => surveys.checkCreate(b), [QuestionSchema]));
    ids[key] = (await surveys.publish(tx, tenantId, created.id)).id;
  }

  // Who is invited when, and who answers: each member once, in time order.
  const active = [];
  for (const m of members) if (m.enrolled_at < start && (await memberService.find(tx, tenantId, { id: m.id }))?.status === 'active') active.push(m);
  const chosen = shuffle(r, active).slice(0, INVITED);
  const plan = chosen.map((m) => ({
    member: m,
    survey: r.weighted([['relationship', 45], ['purchase', 35], ['loyalty', 20]] as const),
    at: new Date(start.getTime() + r.int(0, (SURVEY_DAYS - 1) * 24) * HOUR + r.int(0, 59) * 60_000),
    answers: r.chance(RESPONSE_RATE),
    after: r.int(10, 60 * 48) * 60_000,
  })).sort((a, b) => a.at.getTime() - b.at.getTime());

  let responses = 0;
  const languages = new Set<Language>();
  const pending: Array<{ at: number; run: () => Promise<void> }> = [];
  for (const p of plan) {
    clock.set(p.at);
    const invitation = await surveys.invite(tx, tenantId, ids[p.survey], { member_id: p.member.id });
    const answeredAt = p.at.getTime() + p.after;
    if (!p.answers || answeredAt >= now.getTime()) continue;
    const language = p.member.locale as Language;
    const tAt = (answeredAt - start.getTime()) / (SURVEY_DAYS * DAY);
    pending.push({
      at: answeredAt,
      run: async () => {
        await surveys.respond(tx, tenantId, { survey_id: ids[p.survey], invitation_id: invitation.id, member_id: p.member.id, channel: 'invitation', language, answers: answersFor(r, p.survey, language, tAt) });
        responses++;
        languages.add(language);
      },
    });
  }
  // Anonymous answers through the public link, in the browser's language.
  for (let i = 0; i < PUBLIC_ANSWERS; i++) {
    const at = start.getTime() + r.int(0, (SURVEY_DAYS - 1) * 24) * HOUR;
    const language = r.weighted([['bg', 40], ['en', 25], ['ro', 15], ['ru', 10], ['pl', 10]] as const);
    pending.push({
      at,
      run: async () => {
        await surveys.respond(tx, tenantId, { survey_id: ids.relationship, channel: 'public_link', language, answers: answersFor(r, 'relationship', language, (at - start.getTime()) / (SURVEY_DAYS * DAY)) });
        responses++;
      },
    });
  }
  // The feedback button: a few messages a month, some anonymous.
  for (let i = 0; i < 24; i++) {
    const at = start.getTime() + r.int(0, (SURVEY_DAYS - 1) * 24) * HOUR;
    const m = r.pick(chosen);
    const language = m.locale as Language;
    const tone = r.weighted([['negative', 6], ['neutral', 3], ['positive', 1]] as const);
    pending.push({
      at,
      run: async () => {
        await cases.feedback(tx, tenantId, r.chance(0.25) && m.email
          ? { email: m.email, message: comment(r, language, tone), touchpoint: 'custom' }
          : { member_id: m.id, message: comment(r, language, tone), touchpoint: r.pick(['purchase', 'delivery', 'store_visit'] as const), rating: tone === 'negative' ? r.int(1, 4) : r.int(5, 9) });
      },
    });
  }
  pending.sort((a, b) => a.at - b.at);
  for (const p of pending) {
    clock.set(new Date(p.at));
    await p.run();
  }

  // The team works the cases older than a few days, in the order they were opened.
  const opened = (await cases.list(tx, tenantId, { limit: 500 })).sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
  const closable = opened.filter((c) => c.created_at.getTime() < now.getTime() - OPEN_CASE_DAYS * DAY);
  let followUps = 0;
  let reopened = 0;
  for (const c of closable) {
    const who: Actor = { actor: ACTOR, agentId: r.chance(0.7) ? agent.id : lead.id };
    const opensAt = c.created_at.getTime();
    if (c.member_id || c.contact_email) {
      clock.set(new Date(opensAt + r.int(1, 30) * HOUR));
      await cases.reply(tx, tenantId, c.id, { body: replyText(r, c.subject) }, who);
    }
    clock.set(new Date(opensAt + r.int(30, 96) * HOUR));
    const goodwill = c.member_id !== null && c.reasons.includes('nps_detractor') && r.chance(0.35);
    await cases.resolve(tx, tenantId, c.id, goodwill
      ? { resolution_code: 'goodwill', note: 'Apologised and added points for the trouble.', goodwill: { points: 200 } }
      : { resolution_code: r.weighted([['solved', 5], ['explained', 3], ['refunded', 1], ['no_action_needed', 1]] as const) }, who);
    clock.set(new Date(clock.now().getTime() + r.int(1, 24) * HOUR));
    const followUp = c.member_id !== null && r.chance(0.5);
    const closed = await cases.close(tx, tenantId, c.id, { follow_up: followUp }, who);
    if (!closed.follow_up || !c.member_id) continue;
    // They say yes, but for the fourth, whose "no" reopens the case; it is solved for good two days later.
    clock.set(new Date(clock.now().getTime() + r.int(2, 30) * HOUR));
    const solved = reopened > 0 || followUps < 3;
    const member = members.find((m) => m.id === c.member_id)!;
    await surveys.respond(tx, tenantId, { survey_id: (await surveys.getInvitation(tx, tenantId, closed.follow_up.invitation_id, false)).survey_id, invitation_id: closed.follow_up.invitation_id, member_id: c.member_id, channel: 'invitation', language: member.locale as Language, answers: { solved: solved ? 'yes' : 'no' } });
    followUps++;
    if (!solved) {
      reopened++;
      clock.set(new Date(clock.now().getTime() + 2 * DAY));
      await cases.resolve(tx, tenantId, c.id, { resolution_code: 'replaced', note: 'Sent a fresh bag of beans by courier.' }, { actor: ACTOR, agentId: lead.id });
      await cases.close(tx, tenantId, c.id, {}, { actor: ACTOR, agentId: lead.id });
    }
  }
  // The recent ones: a first reply to some; the SLA check at "now" flags the ones past their targets.
  for (const c of opened.filter((x) => !closable.includes(x))) {
    if (!r.chance(0.4) || !(c.member_id || c.contact_email)) continue;
    clock.set(new Date(Math.min(now.getTime() - 60_000, c.created_at.getTime() + r.int(1, 20) * HOUR)));
    await cases.reply(tx, tenantId, c.id, { body: replyText(r, c.subject) }, { actor: ACTOR, agentId: agent.id });
  }
  clock.set(now);
  await cases.checkBreaches(tx, tenantId);
  // The survey bonuses past their pending period become spendable, as the nightly ledger job would have made them.
  const inTx = dbOver(tx);
  await ledger.activateDue(inTx, tenantId, (await programs.get(tx, tenantId)).negative_balance);

  const all = await cases.list(tx, tenantId, { limit: 500 });
  return {
    surveys: Object.keys(ids).length,
    invitations: plan.length,
    responses,
    languages: [...languages].sort(),
    cases: {
      total: all.length,
      open: all.filter((c) => c.status === 'open' || c.status === 'waiting_for_customer').length,
      breached: all.filter((c) => c.breached).length,
      reopened,
    },
  };
}

/** A survey's answers for a member who feels the way the six months' trend says. */
function answersFor(r: Rng, survey: keyof typeof DEMO_SURVEYS, language: Language, t: number): AnswerInput {
  if (survey === 'relationship') {
    const nps = npsScore(r, t);
    const band = nps <= 6 ? 'detractor' : nps <= 8 ? 'passive' : 'promoter';
    const out: AnswerInput = { nps };
    if (band === 'detractor' && r.chance(0.8)) out.why = comment(r, language, 'negative');
    if (band !== 'detractor' && r.chance(0.35)) out.best = comment(r, language, toneOf(band));
    return out;
  }
  if (survey === 'purchase') {
    const { csat, effort } = csatAndEffort(r);
    const out: AnswerInput = { csat, effort };
    const tone: Tone = csat <= 2 ? 'negative' : csat === 3 ? 'neutral' : 'positive';
    if (r.chance(tone === 'negative' ? 0.7 : 0.2)) out.comment = comment(r, language, tone);
    return out;
  }
  const feeling = r.weighted([[5, 4], [4, 4], [3, 2], [2, 1]]); // 1-5, most are content
  const [s1, s2, s3] = block(r, 1, 5, feeling);
  const [c1, c2, c3] = block(r, 1, 6, 6 - feeling); // 1 = very likely
  return { 'csi.satisfied': s1, 'csi.rebuy': s2, 'csi.recommend': s3, 'cli.recommend': c1, 'cli.buy': c2, 'cli.try': c3 };
}

function replyText(r: Rng, subject: string): string {
  return r.pick([
    `Thank you for telling us (${subject.toLowerCase()}). I am sorry about this and I am looking into it personally today.`,
    'I am sorry we let you down. Could you tell me which store and what time it was? I will speak to the team there.',
    'Thank you for your honest feedback. I have passed it to our roastery and will come back to you by tomorrow.',
  ]);
}

function shuffle<T>(r: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
