/**
 * The pure parts of the referral guards: codes, email and phone normalisation (self-referral), disposable email
 * domains and the hashing of device, IP and payment signals.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { checkHttpUrl } from '../../platform/http/urls.js';

/**
 * Referral code alphabet: digits and capitals without the look-alikes 0/O, 1/I/L, so a code read aloud or copied
 * from a screen is typed right. 31 symbols; 8 of them are about 40 bits.
 */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const CODE_LENGTH = 8;

export function newCode(): string {
  let out = '';
  for (let i = 0; i < CODE_LENGTH; i++) out += CODE_ALPHABET[crypto.randomInt(CODE_ALPHABET.length)];
  return out;
}

/** A code as typed by a person or pasted from a link: case, spaces and dashes do not matter. */
export function normaliseCode(code: string): string {
  return code.trim().replace(/[\s-]+/g, '').toUpperCase();
}

/** The share link: the template with `{code}` replaced; null without a template. */
export function shareLink(template: string | null, code: string): string | null {
  return template ? template.split('{code}').join(encodeURIComponent(code)) : null;
}

/** A template is an http(s) URL without credentials (friends see it) once `{code}` is put in, and has `{code}` in it. */
export function templateError(template: string): string | null {
  if (!template.includes('{code}')) return 'must contain {code}';
  return checkHttpUrl(template.split('{code}').join('ABCD2345')).problem;
}

/**
 * One mailbox, one spelling: lower case, trimmed, without a +tag; Gmail ignores dots in the local part and
 * googlemail.com is gmail.com. Null for something that is not an address.
 */
export function normaliseEmail(email: string | null | undefined): string | null {
  if (!email) return null;
  const e = email.trim().toLowerCase();
  const at = e.lastIndexOf('@');
  if (at <= 0 || at === e.length - 1) return null;
  let local = e.slice(0, at);
  let domain = e.slice(at + 1);
  const plus = local.indexOf('+');
  if (plus >= 0) local = local.slice(0, plus);
  if (domain === 'googlemail.com') domain = 'gmail.com';
  if (domain === 'gmail.com') local = local.replace(/\./g, '');
  return `${local}@${domain}`;
}

export function emailDomain(email: string | null | undefined): string | null {
  const n = normaliseEmail(email);
  return n ? n.slice(n.lastIndexOf('@') + 1) : null;
}

/** E.164 with anything but digits and the leading + removed. */
export function normalisePhone(phone: string | null | undefined): string | null {
  if (!phone) return null;
  const p = phone.replace(/[^\d+]/g, '');
  return p.length > 1 ? p : null;
}

/**
 * Well-known disposable (throw-away) email domains. A short list of the services seen most often, not an
 * exhaustive one: tenants add their own in `extra_disposable_domains`. A subdomain of a listed domain matches too.
 */
export const DISPOSABLE_DOMAINS: readonly string[] = [
  '10minutemail.com', '1secmail.com', 'burnermail.io', 'discard.email', 'dispostable.com', 'emailondeck.com',
  'fakeinbox.com', 'getairmail.com', 'getnada.com', 'guerrillamail.biz', 'guerrillamail.com', 'guerrillamail.de',
  'guerrillamail.net', 'guerrillamail.org', 'guerrillamailblock.com', 'mailcatch.com', 'maildrop.cc', 'mailinator.com',
  'mailinator.net', 'mailnesia.com', 'mintemail.com', 'mohmal.com', 'moakt.com', 'mytemp.email', 'sharklasers.com',
  'spamgourmet.com', 'temp-mail.io', 'temp-mail.org', 'tempail.com', 'tempmail.com', 'tempr.email', 'throwawaymail.com',
  'tmpmail.org', 'trash-mail.com', 'trashmail.com', 'yopmail.com', 'yopmail.fr', 'yopmail.net',
];

/** The listed domain the address is at (itself or a parent), or null. */
export function disposableDomain(email: string | null | undefined, extra: readonly string[]): string | null {
  const domain = emailDomain(email);
  if (!domain) return null;
  const lists = [DISPOSABLE_DOMAINS, extra.map((d) => d.toLowerCase())];
  for (const list of lists) for (const d of list) if (domain === d || domain.endsWith(`.${d}`)) return d;
  return null;
}

export type SignalKind = 'device' | 'ip' | 'payment';

export function ipError(ip: string): string | null {
  return net.isIP(ip) === 0 ? 'must be an IPv4 or IPv6 address' : null;
}

/**
 * The hash a signal is kept and compared as. IPv6 addresses are compared in one spelling (lower case, an IPv4-mapped
 * address as its IPv4 form); device ids and fingerprints as sent, trimmed.
 */
export function signalHash(kind: SignalKind, value: string): string {
  let v = value.trim();
  if (kind === 'ip') {
    v = v.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v);
    if (mapped) v = mapped[1]!;
  }
  return crypto.createHash('sha256').update(`${kind}:${v}`).digest('hex');
}

export function signalsOf(input: { device_id?: string; ip?: string; payment_fingerprint?: string }): Array<{ kind: SignalKind; hash: string }> {
  const out: Array<{ kind: SignalKind; hash: string }> = [];
  if (input.device_id !== undefined) out.push({ kind: 'device', hash: signalHash('device', input.device_id) });
  if (input.ip !== undefined) out.push({ kind: 'ip', hash: signalHash('ip', input.ip) });
  if (input.payment_fingerprint !== undefined) out.push({ kind: 'payment', hash: signalHash('payment', input.payment_fingerprint) });
  return out;
}
