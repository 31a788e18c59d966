/** SQL of message_templates (migration 0019): a tenant's own wording of a trigger in one language. */
import type { Queryable } from '../../../platform/db/db.js';
import type { Locale } from '../../../platform/http/schema.js';
import type { TriggerName } from '../messaging.types.js';

export interface TemplateRow {
  trigger: TriggerName;
  locale: Locale;
  subject: string;
  html: string;
  text: string;
  updated_at: Date;
}

const COLS = 'trigger, locale, subject, html, text, updated_at';

export async function getTemplate(q: Queryable, tenantId: string, trigger: TriggerName, locale: Locale): Promise<TemplateRow | null> {
  const r = await q.query<TemplateRow>(
    `SELECT ${COLS} FROM message_templates WHERE tenant_id = $1 AND trigger = $2 AND locale = $3`,
    [tenantId, trigger, locale],
  );
  return r.rows[0] ?? null;
}

/** Which (trigger, locale) pairs the tenant has overridden, with when. */
export async function listTemplates(q: Queryable, tenantId: string): Promise<Pick<TemplateRow, 'trigger' | 'locale' | 'updated_at'>[]> {
  const r = await q.query<Pick<TemplateRow, 'trigger' | 'locale' | 'updated_at'>>(
    'SELECT trigger, locale, updated_at FROM message_templates WHERE tenant_id = $1 ORDER BY trigger, locale',
    [tenantId],
  );
  return r.rows;
}

export async function upsertTemplate(q: Queryable, tenantId: string, t: TemplateRow): Promise<TemplateRow> {
  const r = await q.query<TemplateRow>(
    `INSERT INTO message_templates (tenant_id, trigger, locale, subject, html, text, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id, trigger, locale)
     DO UPDATE SET subject = EXCLUDED.subject, html = EXCLUDED.html, text = EXCLUDED.text, updated_at = EXCLUDED.updated_at
     RETURNING ${COLS}`,
    [tenantId, t.trigger, t.locale, t.subject, t.html, t.text, t.updated_at],
  );
  return r.rows[0]!;
}

/** true: there was an override (now gone). */
export async function deleteTemplate(q: Queryable, tenantId: string, trigger: TriggerName, locale: Locale): Promise<boolean> {
  const r = await q.query('DELETE FROM message_templates WHERE tenant_id = $1 AND trigger = $2 AND locale = $3', [tenantId, trigger, locale]);
  return (r.rowCount ?? 0) > 0;
}
