/**
 * Message templates over HTTP (docs/messaging/templates.md): every trigger in every language, a tenant's own
 * wording of one (admin), back to the default, and previews.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../../platform/db/db.js';
import { tenantOf } from '../../../platform/http/auth.js';
import type { HttpKit } from '../../../platform/http/kit.js';
import { decodeCursor, page } from '../../../platform/http/pagination.js';
import { LOCALES, Page, problems, type Locale } from '../../../platform/http/schema.js';
import type { HttpServer } from '../../../platform/http/server.js';
import { rejectBadBody } from '../../../platform/http/validation.js';
import { TRIGGERS, type TemplateVariables, type TriggerName } from '../messaging.types.js';
import { checkTemplate } from './templates.engine.js';
import { ListTemplatesQuery, PreviewBody, PutTemplateBody, RenderedView, TemplateParams, TemplateSummary, TemplateView } from './templates.schema.js';
import type { TemplatesService } from './templates.service.js';
import { sampleVariables } from './templates.variables.js';

const isKeyCursor = (v: any): v is { trigger: TriggerName; locale: Locale } =>
  typeof v === 'object' && v !== null && (TRIGGERS as readonly string[]).includes(v.trigger) && (LOCALES as readonly string[]).includes(v.locale);

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` laid on `base`, objects merged key by key (a preview overrides one sample value, keeps the rest). */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

type Params = { trigger: TriggerName; locale: Locale };
type Body = { subject: string; html: string; text: string };
type Preview = { subject?: string; html?: string; text?: string; variables?: Record<string, unknown> };

export function templatesRoutes(deps: { db: Db; templates: TemplatesService; http: HttpKit }) {
  const { db, templates, http } = deps;
  const tags = ['messaging'];
  const V = Type.Ref(TemplateView);
  return async function (app: HttpServer) {
    app.addSchema(TemplateSummary);
    app.addSchema(TemplateView);
    app.addSchema(RenderedView);

    app.get('/v1/messaging/templates', {
      schema: {
        tags, summary: 'List the message templates: every trigger in every language',
        description: 'One item per trigger and language (en, bg, ru, ro, pl), saying whether the tenant has its own wording (`customized`) or the shipped default is used. Filter by trigger, locale, customized.',
        querystring: ListTemplatesQuery, response: { 200: Page(Type.Ref(TemplateSummary)), ...problems(400, 401) },
      },
    }, async (req) => {
      const q = req.query as { limit: number; cursor?: string; trigger?: TriggerName; locale?: Locale; customized?: boolean };
      const after = decodeCursor(q.cursor, isKeyCursor);
      const all = (await templates.list(db, tenantOf(req).tenantId))
        .filter((t) => (q.trigger === undefined || t.trigger === q.trigger) && (q.locale === undefined || t.locale === q.locale)
          && (q.customized === undefined || t.customized === q.customized));
      // The list is in a fixed order (triggers, then languages), so the cursor is a position in it.
      const from = after ? all.findIndex((t) => t.trigger === after.trigger && t.locale === after.locale) + 1 : 0;
      return page(all.slice(from, from + q.limit + 1), q.limit, (t) => t, (t) => ({ trigger: t.trigger, locale: t.locale }));
    });

    app.get('/v1/messaging/templates/:trigger/:locale', {
      schema: {
        tags, summary: 'The template in effect for a trigger and language',
        description: 'The tenant\'s override, else the shipped default (`customized: false`), as Liquid, with the variables the trigger fills. Edit it and PUT it back to customise.',
        params: TemplateParams, response: { 200: V, ...problems(400, 401) },
      },
    }, (req) => {
      const p = req.params as Params;
      return templates.get(db, tenantOf(req).tenantId, p.trigger, p.locale);
    });

    app.put('/v1/messaging/templates/:trigger/:locale', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: "Replace a trigger's wording in one language",
        description: 'subject, html (the content inside the shared layout) and text, in Liquid. A template that does not parse, uses an unknown filter, or fails when rendered with the trigger\'s sample variables is a 400 naming the field. Emits `message_template.updated`.',
        params: TemplateParams, body: PutTemplateBody, response: { 200: V, ...problems(400, 401, 403, 409) },
      },
    }, async (req, reply) => {
      const p = req.params as Params;
      rejectBadBody(req, (body) => checkTemplate(body as Body, p.locale, sampleVariables(p.trigger, p.locale)));
      return http.write(req, reply, { resource: 'message_template', resourceId: () => `${p.trigger}:${p.locale}` },
        (tx) => templates.put(tx, tenantOf(req).tenantId, p.trigger, p.locale, req.body as Body));
    });

    app.delete('/v1/messaging/templates/:trigger/:locale', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Go back to the shipped default',
        description: 'Deletes the override; answers with the default now in effect. Emits `message_template.reset` (nothing when there was no override).',
        params: TemplateParams, response: { 200: V, ...problems(400, 401, 403, 409) },
      },
    }, (req, reply) => {
      const p = req.params as Params;
      return http.write(req, reply, { resource: 'message_template', resourceId: () => `${p.trigger}:${p.locale}`, changedFields: ['subject', 'html', 'text'] },
        (tx) => templates.reset(tx, tenantOf(req).tenantId, p.trigger, p.locale));
    });

    // A POST only because a draft can be large; it writes nothing. Write scope, not read: it renders Liquid the
    // caller sends (work a read-only dashboard key has no business asking for), and POST is a write by convention.
    app.post('/v1/messaging/templates/:trigger/:locale/preview', {
      // The body is optional: a POST without one previews the template in effect with the samples.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      attachValidation: true,
      schema: {
        tags, summary: 'Render a template (or a draft of it) as it would be sent (writes nothing)',
        description: 'Any of subject, html and text is a draft; the rest comes from the template in effect. `variables` are merged over the trigger\'s realistic sample values. Answers with the subject, the whole HTML document (layout, footer, unsubscribe link for marketing) and the text part. Bad Liquid is a 400 naming the field.',
        params: TemplateParams, body: PreviewBody, response: { 200: Type.Ref(RenderedView), ...problems(400, 401, 403) },
      },
    }, async (req) => {
      const p = req.params as Params;
      const body = (req.body ?? {}) as Preview;
      const variables = deepMerge(sampleVariables(p.trigger, p.locale) as unknown as Record<string, unknown>, isPlainObject(body.variables) ? body.variables : {}) as Partial<TemplateVariables>;
      rejectBadBody(req, (b) => checkTemplate(isPlainObject(b) ? (b as Preview) : {}, p.locale, variables));
      const draft = { subject: body.subject, html: body.html, text: body.text };
      // A read in a transaction that is rolled back: a preview must never write, even by mistake.
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN READ ONLY');
        return await templates.preview(client, tenantOf(req).tenantId, p.trigger, p.locale, draft, variables);
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release();
      }
    });
  };
}
