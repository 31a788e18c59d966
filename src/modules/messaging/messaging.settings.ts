/**
 * A tenant's messaging settings (docs/messaging.md#settings): the sender (from_email, from_name, reply_to), the rate
 * limit, the quiet hours of marketing messages, the member portal the messages link to (portal_url), and the secret
 * that signs unsubscribe links.
 *
 * No row: the defaults (quiet hours 21:00-09:00). The row is created, with those defaults and a random unsubscribe
 * secret, the first time it is needed (a PATCH, or the first message sent); from then on quiet_hours NULL/NULL
 * means "no quiet hours", which only a PATCH with `quiet_hours: null` writes. Reading never writes.
 */
import crypto from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { Queryable } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { checkHttpUrl } from '../../platform/http/urls.js';
import { emit } from '../../platform/outbox/outbox.js';
import * as store from './messaging.store.js';

export const DEFAULT_QUIET_HOURS = { start: '21:00', end: '09:00' } as const;
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;

export interface QuietHours {
  /** Local time 'HH:MM' at which marketing stops … */
  start: string;
  /** … and resumes (may be earlier than start: the quiet period spans midnight). */
  end: string;
}

export interface MessagingSettings {
  from_email: string | null;
  from_name: string | null;
  reply_to: string | null;
  rate_limit_per_minute: number;
  quiet_hours: QuietHours | null;
  /** The member portal: the templates' links.portal ("open my account"); null: no such links. */
  portal_url: string | null;
  updated_at: Date | null;
}

/** The settings the sender works with: the view plus the signing secret (never shown). */
export interface SenderSettings extends MessagingSettings {
  unsubscribeSecret: Buffer;
}

export interface SettingsPatch {
  from_email?: string | null;
  from_name?: string | null;
  reply_to?: string | null;
  rate_limit_per_minute?: number;
  quiet_hours?: QuietHours | null;
  portal_url?: string | null;
}

const EMAIL_RE = /^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/;
const TIME_RE = /^(?:[01][0-9]|2[0-3]):[0-5][0-9]$/;
const hhmm = (t: string) => t.slice(0, 5);

function viewOf(row: store.SettingsRow | null): MessagingSettings {
  if (!row) {
    return { from_email: null, from_name: null, reply_to: null, rate_limit_per_minute: DEFAULT_RATE_LIMIT_PER_MINUTE, quiet_hours: { ...DEFAULT_QUIET_HOURS }, portal_url: null, updated_at: null };
  }
  return {
    from_email: row.from_email,
    from_name: row.from_name,
    reply_to: row.reply_to,
    rate_limit_per_minute: row.rate_limit_per_minute,
    quiet_hours: row.quiet_hours_start && row.quiet_hours_end ? { start: hhmm(row.quiet_hours_start), end: hhmm(row.quiet_hours_end) } : null,
    portal_url: row.portal_url,
    updated_at: row.updated_at,
  };
}

/** An absolute http(s) URL without credentials: it goes into every member's email as a link. */
function portalUrlErrors(raw: string): FieldError[] {
  const { url, problem } = checkHttpUrl(raw, { example: 'https://shop.example/account' });
  if (!url) return [{ field: 'portal_url', detail: problem }];
  if (url.href.length > 2000) return [{ field: 'portal_url', detail: 'must be at most 2000 characters' }];
  return [];
}

/** What JSON Schema cannot check: real addresses and URLs, no line breaks in a header value, a quiet period of some length. */
export function settingsErrors(p: SettingsPatch): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['from_email', 'reply_to'] as const) {
    const v = p[f];
    if (typeof v === 'string' && !EMAIL_RE.test(v)) errs.push({ field: f, detail: 'must be an email address such as loyalty@shop.example' });
  }
  if (typeof p.from_name === 'string' && (p.from_name.trim() === '' || /[\u0000-\u001f\u007f]/.test(p.from_name))) {
    errs.push({ field: 'from_name', detail: 'must be a name without line breaks or control characters' });
  }
  if (typeof p.portal_url === 'string') errs.push(...portalUrlErrors(p.portal_url));
  const q = p.quiet_hours;
  if (q && typeof q === 'object' && typeof q.start === 'string' && typeof q.end === 'string') {
    if (!TIME_RE.test(q.start)) errs.push({ field: 'quiet_hours.start', detail: "must be a time 'HH:MM'" });
    if (!TIME_RE.test(q.end)) errs.push({ field: 'quiet_hours.end', detail: "must be a time 'HH:MM'" });
    if (q.start === q.end) errs.push({ field: 'quiet_hours.end', detail: 'must differ from start (use quiet_hours: null for none)' });
  }
  return errs;
}

export class MessagingSettingsService {
  constructor(private readonly clock: Clock) {}

  async get(q: Queryable, tenantId: string): Promise<MessagingSettings> {
    return viewOf(await store.getSettings(q, tenantId));
  }

  /** The settings with the signing secret, creating the row on first use. */
  async forSending(q: Queryable, tenantId: string): Promise<SenderSettings> {
    const row = await this.ensure(q, tenantId);
    return { ...viewOf(row), unsubscribeSecret: Buffer.from(row.unsubscribe_secret, 'base64url') };
  }

  /** The unsubscribe secret of a tenant that has one (a link can only come from a tenant that sent marketing). */
  async unsubscribeSecret(q: Queryable, tenantId: string): Promise<Buffer | null> {
    const row = await store.getSettings(q, tenantId);
    return row ? Buffer.from(row.unsubscribe_secret, 'base64url') : null;
  }

  async update(tx: Queryable, tenantId: string, patch: SettingsPatch): Promise<MessagingSettings> {
    const errs = settingsErrors(patch);
    if (errs.length) throw errors.validation(errs);
    await this.ensure(tx, tenantId);
    const current = (await store.getSettings(tx, tenantId, true))!;
    const changes: store.SettingsChanges = {};
    if (patch.from_email !== undefined) changes.from_email = patch.from_email?.toLowerCase() ?? null;
    if (patch.from_name !== undefined) changes.from_name = patch.from_name?.trim() ?? null;
    if (patch.reply_to !== undefined) changes.reply_to = patch.reply_to;
    if (patch.rate_limit_per_minute !== undefined) changes.rate_limit_per_minute = patch.rate_limit_per_minute;
    if (patch.quiet_hours !== undefined) {
      changes.quiet_hours_start = patch.quiet_hours?.start ?? null;
      changes.quiet_hours_end = patch.quiet_hours?.end ?? null;
    }
    // Stored as the URL standard writes it (scheme and host lower-cased), as mail clients will read it.
    if (patch.portal_url !== undefined) changes.portal_url = patch.portal_url === null ? null : new URL(patch.portal_url).href;
    const before = viewOf(current);
    const row = await store.updateSettings(tx, tenantId, changes, this.clock.now());
    const after = viewOf(row);
    const changed = (Object.keys(after) as Array<keyof MessagingSettings>).filter((k) => k !== 'updated_at' && JSON.stringify(after[k]) !== JSON.stringify(before[k]));
    if (changed.length > 0) {
      await emit(tx, { tenantId, type: 'messaging_settings.updated', aggregateType: 'messaging_settings', aggregateId: tenantId, payload: { changed_fields: changed }, occurredAt: this.clock.now() });
    }
    return after;
  }

  private async ensure(q: Queryable, tenantId: string): Promise<store.SettingsRow> {
    const found = await store.getSettings(q, tenantId);
    if (found) return found;
    await store.insertSettingsIfAbsent(q, tenantId, {
      quietStart: DEFAULT_QUIET_HOURS.start, quietEnd: DEFAULT_QUIET_HOURS.end, secret: crypto.randomBytes(32).toString('base64url'), now: this.clock.now(),
    });
    return (await store.getSettings(q, tenantId))!;
  }
}
