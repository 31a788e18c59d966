/**
 * The demo program's mechanics (docs/program.md): tiers, a rewards catalog, a stamp card, referrals, badges and a
 * running campaign with a control group. Brew & Bloom introduced them "now" — when this step first runs, right
 * after the year of history — so they are set up on the Patron's own clock, through its services, with the bodies
 * an admin would send to the API (each checked against the route's schema and the service's own rules).
 *
 * What the year left behind counts where a mechanic reads it: members are placed in their tiers by what they spent
 * over the last 12 months, and the campaign's baseline is their last 90 days. What the mechanics count themselves
 * starts now: stamps, badges (first purchase, 10th purchase, streaks, categories) and referrals count orders from
 * here on, as they would for a real shop that switched them on today.
 *
 * One transaction, written whole or not at all, and only when the tenant has none of the mechanics yet: a second
 * run (or a demo whose mechanics an admin has since changed) is left as it is. Referral codes are drawn at random
 * by the referrals module (they are secrets of sorts); everything else follows from the demo's data.
 */
import type { Patron } from '../app.js';
import type { Tx } from '../platform/db/db.js';
import { body } from './admin-body.js';
import { dbOver } from './history.demo.js';
import type { MemberHistory } from '../modules/members/members.service.js';
import { CreateBadgeBody, type CreateBadgeInput } from '../modules/achievements/achievements.schema.js';
import { CreateCampaignBody, type CreateCampaignInput } from '../modules/campaigns/campaigns.schema.js';
import { AttributeBody, RejectBody, SignalsBody, UpdateReferralProgramBody, type ReferralProgramPatch } from '../modules/referrals/referrals.schema.js';
import { CreateRewardBody, type CreateRewardInput } from '../modules/rewards/rewards.schema.js';
import { CreateStampCardTypeBody, type CreateStampCardTypeInput } from '../modules/stamp-cards/stamp-cards.schema.js';
import { CreateTierBody, UpdateTierSettingsBody, type CreateTierInput, type TierSettingsPatch } from '../modules/tiers/tiers.schema.js';

const DAY = 86_400_000;
const ACTOR = 'demo';

export interface MechanicsLoad {
  /** Members holding each tier after the evaluation (code → members), as GET /v1/tiers counts them: the base tier (Bean) is held without a tier row, so it shows 0. */
  tiers: Record<string, number>;
  rewards: number;
  stampCardTypes: number;
  badges: number;
  /** Members given a referral code, and the referrals attributed by status. */
  referralCodes: number;
  referrals: Record<string, number>;
  campaign: { id: string; status: string; treatment: number; control: number };
}

// ── The admin's requests ────────────────────────────────────────────────────

/** Five locales, English first (the fallback). */
type Names = { en: string; bg: string; ru: string; ro: string; pl: string };

export const DEMO_TIER_SETTINGS: TierSettingsPatch = {
  metric: 'spend', window: 'rolling_months', window_months: 12, evaluation: 'period_end', downgrade_policy: 'one_level', grace_months: 1,
};

const benefit = (code: string, names: Names) => ({ code, name: names.en, names });
const OAT_MILK = benefit('free_oat_milk', { en: 'Free oat milk', bg: 'Безплатно овесено мляко', ru: 'Овсяное молоко бесплатно', ro: 'Lapte de ovăz gratuit', pl: 'Darmowe mleko owsiane' });

/**
 * Spend over the last 12 months, net of returns: Silver from €150, Gold from €400 (kept from €120 and €300). Over
 * the demo's year that puts about one member in six in Silver or above and one in twenty in Gold.
 */
export const DEMO_TIERS: CreateTierInput[] = [
  {
    code: 'bean', name: 'Bean', names: { en: 'Bean', bg: 'Зрънце', ru: 'Зёрнышко', ro: 'Bob', pl: 'Ziarenko' }, rank: 1, entry_threshold: 0,
    benefits: [benefit('birthday_points', { en: '200 points on your birthday', bg: '200 точки за рождения ден', ru: '200 баллов в день рождения', ro: '200 de puncte de ziua ta', pl: '200 punktów na urodziny' })],
  },
  {
    code: 'silver', name: 'Silver', names: { en: 'Silver', bg: 'Сребро', ru: 'Серебро', ro: 'Argint', pl: 'Srebro' }, rank: 2,
    entry_threshold: 15_000, keep_threshold: 12_000, multiplier: 1.25,
    benefits: [OAT_MILK, benefit('free_delivery', { en: 'Free delivery of online orders', bg: 'Безплатна доставка на онлайн поръчки', ru: 'Бесплатная доставка онлайн-заказов', ro: 'Livrare gratuită a comenzilor online', pl: 'Darmowa dostawa zamówień online' })],
  },
  {
    code: 'gold', name: 'Gold', names: { en: 'Gold', bg: 'Злато', ru: 'Золото', ro: 'Aur', pl: 'Złoto' }, rank: 3,
    entry_threshold: 40_000, keep_threshold: 30_000, multiplier: 1.5,
    benefits: [
      OAT_MILK,
      benefit('free_delivery', { en: 'Free delivery of online orders', bg: 'Безплатна доставка на онлайн поръчки', ru: 'Бесплатная доставка онлайн-заказов', ro: 'Livrare gratuită a comenzilor online', pl: 'Darmowa dostawa zamówień online' }),
      benefit('early_access', { en: 'Early access to new coffees', bg: 'Ранен достъп до новите кафета', ru: 'Ранний доступ к новым сортам кофе', ro: 'Acces din timp la cafelele noi', pl: 'Wcześniejszy dostęp do nowych kaw' }),
      benefit('tasting_evenings', { en: 'Tasting evenings', bg: 'Дегустационни вечери', ru: 'Дегустационные вечера', ro: 'Seri de degustare', pl: 'Wieczory degustacyjne' }),
    ],
  },
];

/** The catalog: what members spend their points on (100 points are worth €2 at the till). */
export function demoRewards(now: Date): Record<string, CreateRewardInput> {
  const day = Math.floor(now.getTime() / DAY) * DAY;
  // Three weeks on at 17:00 UTC (19:00 or 20:00 in Sofia); the draw a month on, in the morning.
  const tasting = new Date(day + 21 * DAY + 17 * 3600_000);
  const drawAt = new Date(day + 30 * DAY + 10 * 3600_000);
  return {
    espresso: {
      kind: 'free_product', points: 100,
      name: { en: 'A free espresso', bg: 'Безплатно еспресо', ru: 'Бесплатный эспрессо', ro: 'Un espresso gratuit', pl: 'Darmowe espresso' },
      description: { en: 'Any espresso drink at the bar.', bg: 'Всяка напитка с еспресо на бара.', ru: 'Любой напиток на основе эспрессо.', ro: 'Orice băutură cu espresso de la bar.', pl: 'Dowolny napój na bazie espresso.' },
      voucher: { sku: 'DRINK-ESPRESSO', valid_days: 30 },
    },
    five_off: {
      kind: 'fixed_amount', points: 250,
      name: { en: '€5 off your next order', bg: '5 € отстъпка от следващата поръчка', ru: 'Скидка 5 € на следующий заказ', ro: '5 € reducere la următoarea comandă', pl: '5 € zniżki na następne zamówienie' },
      voucher: { amount: 500, min_basket: 1500, valid_days: 60 },
    },
    ten_percent: {
      kind: 'percentage', points: 300, tier_prices: { gold: 250 },
      name: { en: '10% off, up to €10', bg: '10% отстъпка, до 10 €', ru: 'Скидка 10%, до 10 €', ro: '10% reducere, până la 10 €', pl: '10% zniżki, do 10 €' },
      voucher: { percent: 10, max_discount: 1000, valid_days: 60 },
    },
    cashback: {
      kind: 'cashback', points: 120,
      name: { en: '€2 store credit', bg: '2 € в портфейла', ru: '2 € на бонусный счёт', ro: '2 € credit în portofel', pl: '2 € do portfela' },
      cashback: { amount: 200 },
    },
    tasting: {
      kind: 'event_invitation', points: 300, tiers: ['gold'], limit_per_member: 1,
      name: { en: 'Gold tasting evening', bg: 'Дегустационна вечер за Gold', ru: 'Дегустационный вечер для Gold', ro: 'Seară de degustare Gold', pl: 'Wieczór degustacyjny Gold' },
      description: { en: 'Six single origins with our roaster.', bg: 'Шест кафета с единичен произход с нашия печач.', ru: 'Шесть моносортов с нашим обжарщиком.', ro: 'Șase cafele single origin cu prăjitorul nostru.', pl: 'Sześć kaw single origin z naszym palaczem.' },
      event: { starts_at: tasting.toISOString(), ends_at: new Date(tasting.getTime() + 2 * 3600_000).toISOString(), location: 'Brew & Bloom, bul. Vitosha 1, Sofia', capacity: 24, waitlist: true },
    },
    mug: {
      kind: 'physical_gift', points: 800, stock: 50, limit_per_member: 1,
      name: { en: 'Brew & Bloom ceramic mug', bg: 'Керамична чаша Brew & Bloom', ru: 'Керамическая кружка Brew & Bloom', ro: 'Cană ceramică Brew & Bloom', pl: 'Ceramiczny kubek Brew & Bloom' },
      physical_gift: { sku: 'GEAR-MUG-BB', requires_address: false },
    },
    sweepstakes: {
      kind: 'sweepstakes', points: 50, limit_per_period: { count: 5, period: 'month' }, available_until: drawAt.toISOString(),
      name: { en: 'Monthly draw: a year of coffee', bg: 'Месечна томбола: кафе за цяла година', ru: 'Ежемесячный розыгрыш: кофе на целый год', ro: 'Tragerea lunară: cafea pentru un an', pl: 'Comiesięczne losowanie: kawa na cały rok' },
      sweepstakes: { prize: '1 kg of the house blend every month for a year', draw_at: drawAt.toISOString() },
    },
    donation: {
      kind: 'donation', points: 100,
      name: { en: 'Give €2 to the food bank', bg: 'Дари 2 € на хранителната банка', ru: 'Пожертвовать 2 € продовольственному банку', ro: 'Donează 2 € băncii de alimente', pl: 'Przekaż 2 € bankowi żywności' },
      donation: { cause: 'Bulgarian Food Bank' },
    },
  };
}

export const demoStampCard = (espressoId: string): CreateStampCardTypeInput => ({
  name: { en: 'Coffee card', bg: 'Карта за кафе', ru: 'Кофейная карта', ro: 'Card de cafea', pl: 'Karta kawowa' },
  description: {
    en: 'A stamp for every purchase of €5 or more: nine stamps and the tenth coffee is on us.',
    bg: 'Печат за всяка покупка от 5 € нагоре: девет печата и десетото кафе е от нас.',
    ru: 'Штамп за каждую покупку от 5 €: девять штампов, и десятый кофе за наш счёт.',
    ro: 'O ștampilă la fiecare cumpărătură de cel puțin 5 €: nouă ștampile și a zecea cafea e din partea noastră.',
    pl: 'Pieczątka za każdy zakup od 5 €: dziewięć pieczątek, a dziesiąta kawa na nasz koszt.',
  },
  stamps_needed: 9, min_amount: 500, reward: { reward_id: espressoId },
});

export const demoReferralProgram = (fiveOffId: string): ReferralProgramPatch => ({
  enabled: true,
  referrer_gift: { points: 200 },
  referee_gift: { reward_id: fiveOffId },
  min_purchase_amount: 1000,
  purchase_within_days: 30,
  return_window_days: 14,
  milestones: [{ count: 3, gift: { points: 300 } }, { count: 5, gift: { credit: 500 } }],
  share_link_template: 'https://brew-and-bloom.example/r/{code}',
});

/** The catalog's categories a member can collect (gift cards are not a product). */
export const BADGE_CATEGORIES = ['beans', 'gear', 'flowers'];

export const DEMO_BADGES: CreateBadgeInput[] = [
  {
    code: 'first-cup', criterion: { kind: 'first_purchase' }, bonus: { points: 50 },
    name: { en: 'First cup', bg: 'Първа чаша', ru: 'Первая чашка', ro: 'Prima ceașcă', pl: 'Pierwsza filiżanka' },
  },
  {
    code: 'regular', criterion: { kind: 'nth_purchase', n: 10 }, bonus: { points: 100 },
    name: { en: 'Regular', bg: 'Редовен клиент', ru: 'Постоянный гость', ro: 'Client fidel', pl: 'Stały bywalec' },
  },
  {
    code: 'four-week-streak', criterion: { kind: 'purchase_streak_weeks', n: 4 }, bonus: { points: 150 },
    name: { en: 'Four weeks in a row', bg: 'Четири седмици подред', ru: 'Четыре недели подряд', ro: 'Patru săptămâni la rând', pl: 'Cztery tygodnie z rzędu' },
  },
  {
    code: 'beans-gear-blooms', criterion: { kind: 'all_categories', categories: BADGE_CATEGORIES }, bonus: { points: 100 },
    name: { en: 'Beans, gear and blooms', bg: 'Кафе, уреди и цветя', ru: 'Кофе, посуда и цветы', ro: 'Boabe, ustensile și flori', pl: 'Ziarna, sprzęt i kwiaty' },
  },
];

/** One extra point per euro of beans (the base rule gives one) for four weeks, a 10% control group, a €400 budget. */
export const demoCampaign = (now: Date): CreateCampaignInput => ({
  name: 'Double points on coffee beans',
  description: 'One extra point per euro spent on beans for four weeks. 10% of members are held out to measure the lift.',
  kind: 'category_bonus',
  config: { categories: ['beans'], rate: { points: 1, per_units: 1 } },
  starts_at: now.toISOString(),
  ends_at: new Date(now.getTime() + 28 * DAY).toISOString(),
  budget: { amount: 40_000, currency: 'EUR' },
  limits: { max_points_per_member: 500 },
  control_share: 0.1,
  baseline_days: 90,
});

/** Referrers: the first Gold members by enrolment. Referees: the most recently enrolled members who have not bought yet. */
const REFERRERS = 4;
const REFEREES = 6;

// ── Loading ─────────────────────────────────────────────────────────────────

/** Whether the tenant has any of the mechanics already (then the step leaves it alone). */
async function hasMechanics(patron: Patron, tx: Tx, tenantId: string): Promise<boolean> {
  const s = patron.services;
  return (await s.tiers.listTiers(tx, tenantId)).length > 0
    || (await s.rewards.list(tx, tenantId, { includeArchived: true, limit: 1 })).length > 0
    || (await s.stampCards.list(tx, tenantId, { includeArchived: true, limit: 1 })).length > 0
    || (await s.achievements.list(tx, tenantId, { includeArchived: true, limit: 1 })).length > 0
    || (await s.campaigns.list(tx, tenantId, { limit: 1 })).length > 0
    || (await s.referrals.settings(tx, tenantId)).updated_at !== null;
}

/** Sets up the mechanics in `tx`; null when the tenant has them already. `members`: the demo's members. */
export async function ensureDemoMechanics(patron: Patron, tx: Tx, tenantId: string, members: readonly MemberHistory[]): Promise<MechanicsLoad | null> {
  if (await hasMechanics(patron, tx, tenantId)) return null;
  const { tiers, rewards, stampCards, achievements, referrals, campaigns, members: memberService, transactions } = patron.services;
  const now = patron.clock.now();
  // The jobs' batch work (each member or batch in a transaction of its own) runs inside this one.
  const inTx = dbOver(tx);

  // Tiers, then every member placed by their last 12 months (what the tiers.evaluate job does).
  const settings = await tiers.updateSettings(tx, tenantId, body(UpdateTierSettingsBody, DEMO_TIER_SETTINGS, (b) => tiers.checkSettingsFields(b)));
  if ('reevaluation' in settings) throw new Error('demo: the tier settings were held for re-evaluation');
  for (const t of DEMO_TIERS) await tiers.createTier(tx, tenantId, body(CreateTierBody, structuredClone(t), (b) => tiers.checkTierFields(b)));
  await tiers.evaluateTenant(inTx, tenantId);
  const tierCounts = Object.fromEntries((await tiers.listTiers(tx, tenantId)).map((t) => [t.code, t.members]));

  // The catalog.
  const rewardIds: Record<string, string> = {};
  for (const [key, r] of Object.entries(demoRewards(now))) {
    rewardIds[key] = (await rewards.create(tx, tenantId, body(CreateRewardBody, r, (b) => rewards.checkCreate(b)), ACTOR)).id;
  }

  await stampCards.create(tx, tenantId, body(CreateStampCardTypeBody, demoStampCard(rewardIds.espresso!), (b) => stampCards.checkCreate(b)));
  for (const b of DEMO_BADGES) await achievements.create(tx, tenantId, body(CreateBadgeBody, structuredClone(b), (x) => achievements.checkCreate(x)));

  // Referrals: Gold members share their codes; the newest members who have not bought yet signed up with them.
  await referrals.updateSettings(tx, tenantId, body(UpdateReferralProgramBody, demoReferralProgram(rewardIds.five_off!), (b) => referrals.checkSettings(b)));
  const byEnrolment = [...members].sort((a, b) => a.enrolled_at.getTime() - b.enrolled_at.getTime() || (a.id < b.id ? -1 : 1));
  const active = async (m: MemberHistory) => (await memberService.find(tx, tenantId, { id: m.id }))?.status === 'active';
  const referrers: Array<{ id: string; code: string }> = [];
  for (const m of byEnrolment) {
    if (referrers.length === REFERRERS) break;
    if ((await tiers.current(tx, tenantId, m.id))?.code !== 'gold' || !(await active(m))) continue;
    referrers.push({ id: m.id, code: await referrals.ensureCode(tx, tenantId, m.id) });
  }
  const referees: MemberHistory[] = [];
  for (const m of [...byEnrolment].reverse()) {
    if (referees.length === REFEREES) break;
    if (!m.email || !(await active(m))) continue;
    if ((await transactions.list(tx, tenantId, { memberId: m.id, type: 'purchase', limit: 1 })).length > 0) continue;
    referees.push(m);
  }
  const referralStatus: Record<string, number> = {};
  if (referrers.length > 0) {
    // The first referrer shared their link from the app on a tablet their household also signs up on: the sign-ups
    // from that device wait for review, and the shop rejects one of them.
    const shared = `demo-tablet-${referrers[0]!.id.slice(-8)}`;
    await referrals.recordSignals(tx, tenantId, referrers[0]!.id, body(SignalsBody, { device_id: shared }));
    for (const [i, m] of referees.entries()) {
      const referrer = referrers[i % referrers.length]!;
      const sharedDevice = referrer === referrers[0];
      const { referral } = await referrals.attribute(tx, tenantId, body(AttributeBody, {
        code: referrer.code, member_id: m.id, ...(sharedDevice ? { device_id: shared } : { device_id: `demo-phone-${m.id.slice(-8)}` }),
      }));
      let status = referral.status;
      if (status === 'in_review' && i > 0) status = (await referrals.reject(tx, tenantId, referral.id, body(RejectBody, { reason: 'Same household as the referrer, confirmed by the shop' }).reason)).status;
      referralStatus[status] = (referralStatus[status] ?? 0) + 1;
    }
  }

  // The campaign: launched now, the eligible members assigned to treatment or control and the baseline recorded
  // (what the campaigns.launch job does within a minute of a launch).
  const created = await campaigns.create(tx, tenantId, body(CreateCampaignBody, demoCampaign(now), (b) => campaigns.checkCreate(b)), ACTOR);
  await campaigns.launch(tx, tenantId, created.id);
  await campaigns.assignBases(inTx, tenantId);
  const campaign = await campaigns.get(tx, tenantId, created.id);

  return {
    tiers: tierCounts,
    rewards: Object.keys(rewardIds).length,
    stampCardTypes: 1,
    badges: DEMO_BADGES.length,
    referralCodes: referrers.length,
    referrals: referralStatus,
    campaign: { id: campaign.id, status: campaign.status, treatment: campaign.spend.members.treatment, control: campaign.spend.members.control },
  };
}
