/**
 * Which variables each trigger fills (TemplateVariables in messaging.types.ts) and realistic sample values for
 * previews, per language. The list is what GET /v1/messaging/templates/{trigger}/{locale} tells a template's
 * editor, and the samples are what a preview renders with when given no variables.
 */
import type { Locale } from '../../../platform/http/schema.js';
import { TRIGGER_CATEGORY, type TemplateVariables, type TriggerName } from '../messaging.types.js';

export const VARIABLE_DESCRIPTIONS: Record<string, string> = {
  'member.name': 'The name to greet the member by (first name, else full name); may be empty.',
  'member.first_name': 'First name; may be null.',
  'member.last_name': 'Last name; may be null.',
  'member.email': 'Email address.',
  'program.name': 'The name of the loyalty program (the tenant).',
  'links.portal': 'The member portal, when the tenant has one; may be empty.',
  'links.unsubscribe': 'One-click unsubscribe page (marketing messages); the layout already shows it in the footer.',
  'points.balance': 'Points available now.',
  'points.expiring': 'Points that expire on points.expiring_on (the earliest expiry date; later dates are not added in).',
  'points.expiring_on': 'The earliest date on which points expire (YYYY-MM-DD; use `| date`).',
  'anniversary.years': 'Whole years since the member enrolled (1 on the first anniversary).',
  'tier.name': 'The tier (the new one after an upgrade, the one at risk).',
  'tier.next_name': 'The next tier up; null at the top.',
  'tier.progress_percent': 'How far towards the next tier, 0 to 100.',
  'tier.remaining': 'What is left to reach the next tier, formatted ("€40.00", "3 purchases", "250 points").',
  'tier.keep_remaining': 'What the member must still do to keep the tier, formatted.',
  'tier.keep_by': 'By when (YYYY-MM-DD; use `| date`).',
  'reward.name': 'The reward or voucher.',
  'reward.code': 'Its code to show at the till or enter at checkout; may be empty.',
  'reward.expires_on': 'Valid until (YYYY-MM-DD); may be empty.',
  'referral.friend_name': 'The friend who joined (first name); may be empty.',
  'referral.points': 'Points the member earned for the referral; may be empty.',
  'referral.link': "The member's personal referral link; may be empty (the program has no share link set).",
  'referral.code': "The member's referral code.",
  'survey.link': "The member's personal link to the survey.",
  'survey.name': 'The survey; may be empty.',
  'case.reply': 'The reply (plain text, line breaks kept).',
  'case.reference': 'The case reference the member knows it by.',
  'offer.points': 'Bonus points given with the message; may be empty.',
  'offer.reward_name': 'A reward given with the message; may be empty.',
  'offer.code': "That reward's code; may be empty.",
  'endpoint.url': 'The webhook endpoint that was disabled.',
  'endpoint.failing_since': 'When its deliveries began to fail (a timestamp; use `| date`).',
};

const MEMBER = ['member.name', 'member.first_name', 'member.last_name', 'member.email', 'program.name', 'links.portal'];
const OFFER = ['offer.points', 'offer.reward_name', 'offer.code'];

const OWN: Record<TriggerName, string[]> = {
  birthday: ['points.balance', ...OFFER],
  anniversary: ['anniversary.years', 'points.balance', ...OFFER],
  points_expiring: ['points.balance', 'points.expiring', 'points.expiring_on'],
  tier_upgraded: ['tier.name', 'tier.next_name', 'tier.progress_percent', 'tier.remaining', 'points.balance'],
  tier_at_risk: ['tier.name', 'tier.keep_remaining', 'tier.keep_by', 'points.balance'],
  reward_issued: ['reward.name', 'reward.code', 'reward.expires_on'],
  survey_invitation: ['survey.link', 'survey.name'],
  case_reply: ['case.reply', 'case.reference'],
  referral_converted: ['referral.friend_name', 'referral.points', 'referral.link', 'referral.code', 'points.balance'],
  win_back: ['points.balance', ...OFFER],
  webhook_endpoint_disabled: ['endpoint.url', 'endpoint.failing_since'],
};

/** The variables a trigger's template can use, with what each holds. */
export function triggerVariables(trigger: TriggerName): { name: string; description: string }[] {
  const names = trigger === 'webhook_endpoint_disabled'
    ? ['program.name', ...OWN[trigger]]
    : [...MEMBER, ...(TRIGGER_CATEGORY[trigger] === 'marketing' ? ['links.unsubscribe'] : []), ...OWN[trigger]];
  return names.map((name) => ({ name, description: VARIABLE_DESCRIPTIONS[name] ?? '' }));
}

interface SampleWords {
  first: string;
  last: string;
  program: string;
  reward: string;
  survey: string;
  friend: string;
  reply: string;
}

const SAMPLE: Record<Locale, SampleWords> = {
  en: {
    first: 'Emma', last: 'Clarke', program: 'Harbour Coffee', reward: 'Free coffee of your choice', survey: 'Your visit to Harbour Coffee',
    friend: 'Oliver',
    reply: 'Thank you for letting us know.\nWe have refunded the missing 120 points to your account; they are available now.',
  },
  bg: {
    first: 'Мария', last: 'Иванова', program: 'Кафе Пристан', reward: 'Безплатно кафе по избор', survey: 'Вашето посещение в Кафе Пристан',
    friend: 'Георги',
    reply: 'Благодарим, че ни уведомихте.\nВъзстановихме липсващите 120 точки във Вашия профил; те вече са налични.',
  },
  ru: {
    first: 'Анна', last: 'Смирнова', program: '«Причал»', reward: 'Бесплатный кофе на выбор', survey: 'Ваш последний визит',
    friend: 'Дмитрий',
    reply: 'Спасибо, что сообщили нам.\nМы вернули недостающие 120 баллов на ваш счёт — они уже доступны.',
  },
  ro: {
    first: 'Ioana', last: 'Popescu', program: 'Cafeneaua din Port', reward: 'O cafea gratuită la alegere', survey: 'Vizita dumneavoastră la Cafeneaua din Port',
    friend: 'Andrei',
    reply: 'Vă mulțumim că ne-ați anunțat.\nAm readăugat în contul dumneavoastră cele 120 de puncte lipsă; sunt deja disponibile.',
  },
  pl: {
    first: 'Anna', last: 'Kowalska', program: 'Kawiarnia Przystań', reward: 'Darmowa kawa do wyboru', survey: 'Twoja wizyta w Kawiarni Przystań',
    friend: 'Piotr',
    reply: 'Dziękujemy za zgłoszenie.\nBrakujące 120 punktów wróciło na Twoje konto i jest już dostępne.',
  },
};

const INTL: Record<Locale, string> = { en: 'en-GB', bg: 'bg', ru: 'ru', ro: 'ro', pl: 'pl' };
const money = (locale: Locale, minor: number) => new Intl.NumberFormat(INTL[locale], { style: 'currency', currency: 'EUR' }).format(minor / 100);

/** Realistic values for a preview of `trigger` in `locale`: the member, the program and the trigger's blocks. */
export function sampleVariables(trigger: TriggerName, locale: Locale): TemplateVariables {
  const w = SAMPLE[locale];
  const marketing = TRIGGER_CATEGORY[trigger] === 'marketing';
  const v: TemplateVariables = {
    member: { first_name: w.first, last_name: w.last, name: w.first, email: 'emma.clarke@example.com' },
    program: { name: w.program },
    links: {
      portal: 'https://example.com/account',
      unsubscribe: marketing ? 'https://example.com/v1/messaging/unsubscribe?token=sample' : null,
    },
  };
  switch (trigger) {
    case 'birthday':
      return { ...v, points: { balance: 1_340 }, offer: { points: 200, reward_name: w.reward, code: 'BDAY-7K2Q' } };
    case 'anniversary':
      return { ...v, anniversary: { years: 3 }, points: { balance: 2_480 }, offer: { points: 100, reward_name: null, code: null } };
    case 'points_expiring':
      return { ...v, points: { balance: 1_340, expiring: 250, expiring_on: '2027-03-12' } };
    case 'tier_upgraded':
      return { ...v, points: { balance: 3_120 }, tier: { name: 'Gold', next_name: 'Platinum', progress_percent: 35, remaining: money(locale, 32_500) } };
    case 'tier_at_risk':
      return { ...v, points: { balance: 860 }, tier: { name: 'Gold', keep_remaining: money(locale, 4_000), keep_by: '2027-03-31' } };
    case 'reward_issued':
      return { ...v, reward: { name: w.reward, code: 'CAFE-9X4M', expires_on: '2027-04-30' } };
    case 'survey_invitation':
      return { ...v, survey: { link: 'https://example.com/s/7f3a9c', name: w.survey } };
    case 'case_reply':
      return { ...v, case: { reply: w.reply, reference: 'C-10482' } };
    case 'referral_converted':
      return { ...v, points: { balance: 1_840 }, referral: { friend_name: w.friend, points: 500, link: 'https://example.com/r/EMMA25', code: 'EMMA25' } };
    case 'win_back':
      return { ...v, points: { balance: 640 }, offer: { points: 150, reward_name: w.reward, code: 'BACK-3H8D' } };
    case 'webhook_endpoint_disabled':
      return {
        member: { first_name: null, last_name: null, name: '', email: null },
        program: { name: w.program },
        endpoint: { url: 'https://shop.example.com/webhooks/patron', failing_since: '2027-03-07T14:05:00.000Z' },
        links: { unsubscribe: null, portal: null },
      };
  }
}
