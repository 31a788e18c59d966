/** TypeBox schemas of the message template routes (docs/messaging/templates.md). */
import { Type } from '@sinclair/typebox';
import { LocaleSchema, Nullable, Obj, PageQuery, StringEnum, Timestamp } from '../../../platform/http/schema.js';
import { TRIGGERS } from '../messaging.types.js';

const TriggerSchema = StringEnum(TRIGGERS, { description: `One of ${TRIGGERS.join(', ')}.` });
const CategorySchema = StringEnum(['marketing', 'transactional'] as const, {
  description: 'marketing: needs consent, carries the unsubscribe link, waits out quiet hours; transactional: sent to every member with an address.',
});

export const TemplateParams = Obj({ trigger: TriggerSchema, locale: LocaleSchema });

export const ListTemplatesQuery = Obj({
  ...PageQuery,
  trigger: Type.Optional(TriggerSchema),
  locale: Type.Optional(LocaleSchema),
  customized: Type.Optional(Type.Boolean({ description: 'Only the overridden ones (true) or only the defaults (false).' })),
});

export const TemplateSummary = Type.Object({
  trigger: TriggerSchema,
  locale: LocaleSchema,
  category: CategorySchema,
  customized: Type.Boolean({ description: 'true: the tenant has its own wording; false: the shipped default is used.' }),
  updated_at: Nullable(Timestamp({ description: 'When the override was saved; null for the default.' })),
}, { $id: 'MessageTemplateSummary' });

export const TemplateView = Type.Object({
  trigger: TriggerSchema,
  locale: LocaleSchema,
  category: CategorySchema,
  customized: Type.Boolean(),
  updated_at: Nullable(Timestamp()),
  subject: Type.String({ description: 'Liquid, rendered as one line of plain text.' }),
  html: Type.String({ description: 'Liquid, the content inside the shared responsive layout; `{{ }}` output is HTML-escaped.' }),
  text: Type.String({ description: 'Liquid, the plain-text part.' }),
  variables: Type.Array(Type.Object({ name: Type.String(), description: Type.String() }), { description: 'What the trigger fills, as `{{ name }}`.' }),
}, { $id: 'MessageTemplate' });

export const PutTemplateBody = Obj({
  subject: Type.String({ minLength: 1, maxLength: 1_000 }),
  html: Type.String({ minLength: 1, maxLength: 200_000 }),
  text: Type.String({ minLength: 1, maxLength: 100_000 }),
});

export const PreviewBody = Obj({
  subject: Type.Optional(Type.String({ maxLength: 1_000, description: 'A draft; default: the template in effect.' })),
  html: Type.Optional(Type.String({ maxLength: 200_000 })),
  text: Type.Optional(Type.String({ maxLength: 100_000 })),
  variables: Type.Optional(Type.Object({}, {
    additionalProperties: true,
    description: "Values to render with, merged over the trigger's sample values (give `{\"member\": {\"name\": \"\"}}` to see the greeting without a name).",
  })),
});

export const RenderedView = Type.Object({
  subject: Type.String(),
  html: Type.String({ description: 'The whole HTML document, layout included.' }),
  text: Type.String({ description: 'The plain-text part, footer included.' }),
}, { $id: 'RenderedMessage' });
