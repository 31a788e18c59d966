/**
 * The demo's members: a few thousand people a café chain's marketer would
 * recognise — Bulgarians mostly, with English, Russian, Romanian and Polish
 * speakers living in or visiting Bulgaria; names in their own scripts, e-mail
 * addresses made from their names (on reserved `.example` domains, so that no
 * real address is ever used), E.164 phones from their countries, enrolments
 * over the two years before the demo tenant was created, consent given at
 * sign-up and sometimes withdrawn later, a few blocked and a few erased.
 *
 * `generateDemoMembers` is pure: the same seed and anchor give the same members,
 * ids included, so a second run of the demo inserts nothing new.
 */
import type { Locale } from '../platform/http/schema.js';
import type { MemberHistory } from '../modules/members/members.service.js';
import type { Channel } from '../modules/members/members.schema.js';
import { asciiName, personName, type Gender } from './names.js';
import { Rng, uuidV7At } from './random.js';
import { STORES } from './tenant.demo.js';
import { isoDay } from '../platform/dates.js';

export const DEMO_SEED = 'brew-and-bloom-2024';
export const DEMO_MEMBER_COUNT = 3000;

const DAY = 86_400_000;
const YEAR = 365.25 * DAY;
/** How far back the enrolments go from the anchor. */
const HISTORY_DAYS = 730;

const LOCALES: ReadonlyArray<readonly [Locale, number]> = [['bg', 56], ['en', 14], ['ru', 12], ['ro', 9], ['pl', 9]];

const COUNTRY: Record<Locale, { mobile: (r: Rng) => string; zones: readonly string[]; mailDomains: ReadonlyArray<readonly [string, number]> }> = {
  bg: {
    mobile: (r) => `+359${r.pick(['87', '88', '89', '98'])}${r.digits(7)}`,
    zones: [],
    mailDomains: [['abv.example', 40], ['gmail.example', 35], ['mail.example', 10], ['yahoo.example', 5], ['example.com', 10]],
  },
  en: {
    mobile: (r) => `+44${r.pick(['71', '73', '74', '75', '77', '78', '79'])}${r.digits(8)}`,
    zones: ['Europe/London'],
    mailDomains: [['gmail.example', 40], ['outlook.example', 25], ['hotmail.example', 15], ['example.org', 20]],
  },
  ru: {
    mobile: (r) => `+79${r.digits(9)}`,
    zones: ['Europe/Moscow'],
    mailDomains: [['yandex.example', 40], ['mail.example', 30], ['gmail.example', 25], ['example.net', 5]],
  },
  ro: {
    mobile: (r) => `+407${r.int(2, 9)}${r.digits(7)}`,
    zones: ['Europe/Bucharest'],
    mailDomains: [['yahoo.example', 35], ['gmail.example', 50], ['example.com', 15]],
  },
  pl: {
    mobile: (r) => `+48${r.int(5, 8)}${r.digits(8)}`,
    zones: ['Europe/Warsaw'],
    mailDomains: [['wp.example', 30], ['onet.example', 20], ['o2.example', 10], ['gmail.example', 35], ['example.net', 5]],
  },
};

const DRINKS: ReadonlyArray<readonly [string, number]> = [
  ['flat white', 18], ['cappuccino', 20], ['latte', 16], ['espresso', 12], ['americano', 10], ['cortado', 5], ['iced latte', 6],
  ['matcha latte', 5], ['chai latte', 4], ['hot chocolate', 4], ['filter coffee', 5], ['freddo espresso', 4],
];
const MILK: ReadonlyArray<readonly [string, number]> = [['whole', 50], ['oat', 22], ['almond', 8], ['soy', 5], ['lactose-free', 7], ['none', 8]];
const PASTRIES = ['banitsa', 'croissant', 'cinnamon bun', 'cheesecake', 'carrot cake', 'almond croissant', 'tahini cookie'] as const;
const SIGNUP: ReadonlyArray<readonly ['pos' | 'app' | 'website', number]> = [['pos', 50], ['app', 32], ['website', 18]];
const SIGNUP_SOURCE = { pos: 'pos_signup', app: 'app_onboarding', website: 'website_signup' } as const;
const BLOCK_REASONS = [
  'Loyalty card shared across many accounts',
  'Chargeback on a gift card purchase',
  'Duplicate account (merged into another member)',
  'Repeated abuse of the birthday reward',
] as const;
const AGES: ReadonlyArray<readonly [[number, number], number]> = [[[18, 24], 18], [[25, 34], 32], [[35, 44], 24], [[45, 54], 14], [[55, 64], 8], [[65, 80], 4]];


/** A moment between `from` and `to`, at café hours (07:00–21:00 in Sofia, roughly 05–19 UTC) unless the bounds cut in. */
function cafeTime(r: Rng, from: number, to: number): Date {
  const day = r.int(Math.floor(from / DAY), Math.floor(to / DAY)) * DAY;
  const t = day + r.int(5 * 3600, 18 * 3600 + 3599) * 1000 + r.int(0, 999);
  return new Date(Math.min(Math.max(t, from), to));
}

function emailFor(r: Rng, first: string, last: string, birth: string | null, locale: Locale, taken: Set<string>): string {
  const f = asciiName(first, locale);
  const l = asciiName(last, locale);
  const yy = birth ? birth.slice(2, 4) : String(r.int(70, 99));
  const local = r.weighted<string>([
    [`${f}.${l}`, 30], [`${f}${l}`, 12], [`${f}_${l}`, 8], [`${f[0]}${l}`, 10], [`${f}.${l}${yy}`, 12], [`${f}${yy}`, 10],
    [`${l}.${f}`, 6], [`${f}${r.int(1, 999)}`, 12],
  ]);
  const domain = r.weighted(COUNTRY[locale].mailDomains);
  let email = `${local}@${domain}`;
  for (let n = 2; taken.has(email); n++) email = `${local}${n}@${domain}`;
  taken.add(email);
  return email;
}

/**
 * The demo members, oldest enrolment first. Everything is derived from `seed`
 * and `anchor` (the moment the demo "is"): same inputs, same members.
 */
export function generateDemoMembers(anchor: Date, count = DEMO_MEMBER_COUNT, seed = DEMO_SEED): MemberHistory[] {
  const root = new Rng(seed);
  const end = anchor.getTime() - 3600_000; // the latest sign-up an hour before the demo starts
  const start = end - HISTORY_DAYS * DAY;
  const takenEmails = new Set<string>();

  // Enrolment times first, so that external ids follow the order people joined.
  const timing = root.fork('enrolments');
  const times = Array.from({ length: count }, () => {
    // A growing chain: more sign-ups recently (a mix of uniform and sqrt-skewed positions).
    const u = timing.next();
    const p = timing.chance(0.35) ? u : Math.sqrt(u);
    const day = Math.floor((start + p * (end - start)) / DAY) * DAY;
    return cafeTime(timing, day, Math.min(day + DAY - 1, end)).getTime();
  }).sort((a, b) => a - b);

  return times.map((enrolledMs, i) => {
    const r = root.fork(`member-${i}`);
    const enrolled = new Date(enrolledMs);
    const locale = r.weighted(LOCALES);
    const gender: Gender = r.chance(0.56) ? 'f' : 'm';
    const { first, last } = personName(locale, gender, (items) => r.pick(items));
    const [lo, hi] = r.weighted(AGES);
    const birthMs = anchor.getTime() - (r.int(lo, hi) * YEAR + r.int(0, 364) * DAY);
    const birth = r.chance(0.78) ? isoDay(new Date(birthMs)) : null;
    const country = COUNTRY[locale];
    // Many foreigners in Bulgaria have a Bulgarian number.
    const phone = r.chance(0.86) ? (locale !== 'bg' && r.chance(0.35) ? COUNTRY.bg.mobile(r) : country.mobile(r)) : null;
    const email = r.chance(0.93) ? emailFor(r, first, last, birth, locale, takenEmails) : null;
    const signup = r.weighted(SIGNUP);
    const store = r.weighted(STORES.map((s) => [s.code, s.weight] as const));

    const attributes: Record<string, unknown> = {
      favourite_drink: r.weighted(DRINKS),
      milk: r.weighted(MILK),
      home_store: store,
      signup_channel: signup,
      reusable_cup: r.chance(0.3),
    };
    if (r.chance(0.4)) attributes.favourite_pastry = r.pick(PASTRIES);
    if (signup === 'app') attributes.app_platform = r.weighted([['ios', 55], ['android', 45]] as const);

    // Consent: given (or not) at sign-up, per channel; some change their mind later.
    const consents: NonNullable<MemberHistory['consents']> = [];
    const later = () => cafeTime(r, enrolledMs + DAY, end);
    const grant = (channel: Channel, p: number, possible: boolean) => {
      if (!possible) return;
      if (r.chance(p)) {
        consents.push({ channel, granted: true, source: SIGNUP_SOURCE[signup], at: enrolled });
        const withdrawal = { email: ['unsubscribe_link', 0.14], sms: ['sms_stop', 0.1], push: ['app_settings', 0.18] } as const;
        const [source, chance] = withdrawal[channel];
        if (enrolledMs + 2 * DAY < end && r.chance(chance)) consents.push({ channel, granted: false, source, at: later() });
      } else if (enrolledMs + 2 * DAY < end && r.chance(0.08)) {
        consents.push({ channel, granted: true, source: r.pick(['preference_center', 'newsletter_popup', 'barista_tablet']), at: later() });
      }
    };
    grant('email', 0.62, email !== null);
    grant('sms', 0.3, phone !== null);
    grant('push', 0.72, signup === 'app');
    consents.sort((a, b) => a.at.getTime() - b.at.getTime());

    const member: MemberHistory = {
      id: uuidV7At(enrolled, r),
      external_id: `BB-${String(i + 1).padStart(6, '0')}`,
      email,
      phone,
      first_name: first,
      last_name: last,
      birth_date: birth,
      locale,
      time_zone: country.zones.length > 0 && r.chance(0.3) ? r.pick(country.zones) : null,
      attributes,
      enrolled_at: enrolled,
      consents,
    };
    const canHaveHistory = enrolledMs + 3 * DAY < end;
    if (canHaveHistory && r.chance(0.012)) member.blocked = { at: later(), reason: r.pick(BLOCK_REASONS) };
    if (canHaveHistory && r.chance(0.005)) {
      const after = Math.max(enrolledMs + DAY, member.blocked?.at.getTime() ?? 0, ...consents.map((c) => c.at.getTime()));
      member.erased_at = cafeTime(r, Math.min(after + 60_000, end), end);
    }
    return member;
  });
}
