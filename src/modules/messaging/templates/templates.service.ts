/**
 * Message templates (docs/messaging/templates.md): the shipped default of every trigger in every language, a
 * tenant's overrides of them, rendering for the sender and previews for whoever edits them.
 */
import type { Clock } from '../../../platform/clock.js';
import type { Queryable } from '../../../platform/db/db.js';
import { errors } from '../../../platform/errors.js';
import type { Locale } from '../../../platform/http/schema.js';
import { emit } from '../../../platform/outbox/outbox.js';
import { SYSTEM_TRIGGERS, TRIGGER_CATEGORY, TRIGGERS, type MessageCategory, type RenderedMessage, type TemplateVariables, type TriggerName } from '../messaging.types.js';
import { defaultTemplate } from './templates.defaults.js';
import { checkTemplate, renderTemplate, type TemplateSource } from './templates.engine.js';
import * as store from './templates.store.js';
import { sampleVariables, triggerVariables } from './templates.variables.js';
import { LOCALES } from '../../../platform/http/schema.js';

export interface TemplatesDeps {
  clock: Clock;
}

export interface EffectiveTemplate extends TemplateSource {
  trigger: TriggerName;
  locale: Locale;
  category: MessageCategory;
  customized: boolean;
  /** When the override was saved; null for the default. */
  updated_at: Date | null;
  variables: { name: string; description: string }[];
}

export interface TemplateSummary {
  trigger: TriggerName;
  locale: Locale;
  category: MessageCategory;
  customized: boolean;
  updated_at: Date | null;
}

const isSystem = (t: TriggerName) => (SYSTEM_TRIGGERS as readonly string[]).includes(t);

export class TemplatesService {
  constructor(private readonly deps: TemplatesDeps) {}

  /**
   * One message as it is sent: the tenant's override of this trigger and language, else the default, rendered
   * with `variables` in the shared layout. `category` defaults to the trigger's.
   */
  async render(q: Queryable, tenantId: string, trigger: TriggerName, locale: Locale, variables: Partial<TemplateVariables>,
    opts: { category?: MessageCategory } = {}): Promise<RenderedMessage> {
    const row = await store.getTemplate(q, tenantId, trigger, locale);
    const src = row ?? defaultTemplate(trigger, locale);
    return renderTemplate(src, locale, variables, {
      category: opts.category ?? TRIGGER_CATEGORY[trigger],
      audience: isSystem(trigger) ? 'operator' : 'member',
    });
  }

  /** Every trigger in every language, saying which the tenant has overridden. */
  async list(q: Queryable, tenantId: string): Promise<TemplateSummary[]> {
    const overrides = new Map((await store.listTemplates(q, tenantId)).map((r) => [`${r.trigger}:${r.locale}`, r.updated_at]));
    return TRIGGERS.flatMap((trigger) => LOCALES.map((locale) => {
      const updated = overrides.get(`${trigger}:${locale}`) ?? null;
      return { trigger, locale, category: TRIGGER_CATEGORY[trigger], customized: updated !== null, updated_at: updated };
    }));
  }

  /** The template in effect: the override, else the default. */
  async get(q: Queryable, tenantId: string, trigger: TriggerName, locale: Locale): Promise<EffectiveTemplate> {
    const row = await store.getTemplate(q, tenantId, trigger, locale);
    const src = row ?? defaultTemplate(trigger, locale);
    return {
      trigger, locale, category: TRIGGER_CATEGORY[trigger],
      subject: src.subject, html: src.html, text: src.text,
      customized: row !== null, updated_at: row?.updated_at ?? null,
      variables: triggerVariables(trigger),
    };
  }

  /**
   * Saves the tenant's own wording. Liquid that does not parse, or fails when rendered with the trigger's sample
   * variables, is a 400 naming the field: a template that cannot render must not reach the send queue.
   */
  async put(tx: Queryable, tenantId: string, trigger: TriggerName, locale: Locale, src: TemplateSource): Promise<EffectiveTemplate> {
    const errs = await checkTemplate(src, locale, sampleVariables(trigger, locale));
    if (errs.length) throw errors.validation(errs);
    const now = this.deps.clock.now();
    await store.upsertTemplate(tx, tenantId, { trigger, locale, subject: src.subject, html: src.html, text: src.text, updated_at: now });
    await emit(tx, {
      tenantId, type: 'message_template.updated', aggregateType: 'message_template', aggregateId: `${trigger}:${locale}`,
      payload: { trigger, locale, fields: ['subject', 'html', 'text'] }, occurredAt: now,
    });
    return this.get(tx, tenantId, trigger, locale);
  }

  /** Back to the default. Idempotent: resetting a template that is not overridden changes nothing and emits nothing. */
  async reset(tx: Queryable, tenantId: string, trigger: TriggerName, locale: Locale): Promise<EffectiveTemplate> {
    if (await store.deleteTemplate(tx, tenantId, trigger, locale)) {
      await emit(tx, {
        tenantId, type: 'message_template.reset', aggregateType: 'message_template', aggregateId: `${trigger}:${locale}`,
        payload: { trigger, locale }, occurredAt: this.deps.clock.now(),
      });
    }
    return this.get(tx, tenantId, trigger, locale);
  }

  /**
   * Renders a draft (any of subject/html/text; the rest from the template in effect) with the given variables,
   * else the trigger's samples. Writes nothing. A draft that does not parse is a 400 naming the field.
   */
  async preview(q: Queryable, tenantId: string, trigger: TriggerName, locale: Locale,
    draft: Partial<TemplateSource> = {}, variables?: Partial<TemplateVariables>): Promise<RenderedMessage> {
    const effective = await this.get(q, tenantId, trigger, locale);
    const src: TemplateSource = {
      subject: draft.subject ?? effective.subject,
      html: draft.html ?? effective.html,
      text: draft.text ?? effective.text,
    };
    const vars = variables ?? sampleVariables(trigger, locale);
    const errs = await checkTemplate(draft, locale, vars);
    if (errs.length) throw errors.validation(errs);
    return renderTemplate(src, locale, vars, {
      category: TRIGGER_CATEGORY[trigger],
      audience: isSystem(trigger) ? 'operator' : 'member',
    });
  }
}

export { sampleVariables };
