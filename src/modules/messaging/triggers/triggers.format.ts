/**
 * Figures as a message shows them, in the member's language: money with its currency, points and purchases with the
 * language's plural form. (Dates go into templates as YYYY-MM-DD, programs.policy's localDate; templates format them.)
 */
import type { Locale } from '../messaging.types.js';
import { minorPerMajor } from '../../../platform/money.js';

type Forms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };

const UNITS: Record<'points' | 'purchases', Record<Locale, Forms>> = {
  points: {
    en: { one: 'point', other: 'points' },
    bg: { one: 'точка', other: 'точки' },
    ru: { one: 'балл', few: 'балла', many: 'баллов', other: 'балла' },
    ro: { one: 'punct', few: 'puncte', other: 'de puncte' },
    pl: { one: 'punkt', few: 'punkty', many: 'punktów', other: 'punktu' },
  },
  purchases: {
    en: { one: 'purchase', other: 'purchases' },
    bg: { one: 'покупка', other: 'покупки' },
    ru: { one: 'покупка', few: 'покупки', many: 'покупок', other: 'покупки' },
    ro: { one: 'cumpărătură', few: 'cumpărături', other: 'de cumpărături' },
    pl: { one: 'zakup', few: 'zakupy', many: 'zakupów', other: 'zakupu' },
  },
};

/** "250 points", "3 покупки", "€40.00": what is left of a tier's figure, by the tier metric. */
export function formatFigure(metric: 'points' | 'spend' | 'purchases', value: number, locale: Locale, currency: string): string {
  if (metric === 'spend') return formatMoney(value, currency, locale);
  const forms = UNITS[metric][locale];
  const rule = new Intl.PluralRules(locale).select(value);
  return `${value.toLocaleString(locale)} ${forms[rule] ?? forms.other}`;
}

export function formatMoney(minor: number, currency: string, locale: Locale): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minor / minorPerMajor(currency));
}

