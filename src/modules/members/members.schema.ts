import { Type, type Static } from '@sinclair/typebox';
import { LocaleSchema, Nullable, Obj, StringEnum, Timestamp, Uuid, PageQuery } from '../../platform/http/schema.js';

export const CHANNELS = ['email', 'sms', 'push'] as const;
export type Channel = (typeof CHANNELS)[number];
export const MEMBER_STATUSES = ['active', 'blocked', 'erased'] as const;

export const LIMITS = {
  attributesBytes: 8192,
  attributesKeys: 50,
  attributeKeyLength: 100,
};

/** Free text a person typed: at least one visible character, no control characters (PostgreSQL cannot store NUL). */
const TEXT_PATTERN = '^(?!\\s*$)[^\\u0000-\\u001f\\u007f]+$';
const TEXT_MESSAGE = 'must contain a visible character and no control characters';

const f = {
  // No control characters, and no white space at either end: an import trims its cells, so a padded id could
  // never be matched again.
  external_id: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s\\u0000-\\u001f](?:[^\\u0000-\\u001f]*[^\\s\\u0000-\\u001f])?$', 'x-message': 'must not contain control characters or start or end with white space', description: "The shop's customer id; unique per tenant." }),
  email: Type.String({ format: 'email', maxLength: 320 }),
  phone: Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$', 'x-message': 'must be an E.164 number such as +359888123456', description: 'E.164, e.g. +359888123456.' }),
  first_name: Type.String({ minLength: 1, maxLength: 100, pattern: TEXT_PATTERN, 'x-message': TEXT_MESSAGE }),
  last_name: Type.String({ minLength: 1, maxLength: 100, pattern: TEXT_PATTERN, 'x-message': TEXT_MESSAGE }),
  birth_date: Type.String({ format: 'date', description: 'YYYY-MM-DD, a real date between 1900-01-01 and today.' }),
  time_zone: Type.String({ minLength: 1, maxLength: 64, description: "IANA time zone such as Europe/Sofia, stored in its canonical spelling; null means the tenant's." }),
  attributes: Type.Record(Type.String(), Type.Unknown(), {
    description: `Custom attributes (JSON): at most ${LIMITS.attributesKeys} keys of 1-${LIMITS.attributeKeyLength} characters and ${LIMITS.attributesBytes} bytes as JSON.`,
  }),
  enrolled_at: Timestamp({ description: 'When the member joined the program: not in the future, not before their birth date. Default: now.' }),
  source: Type.String({ minLength: 1, maxLength: 100, pattern: TEXT_PATTERN, 'x-message': TEXT_MESSAGE }),
};

export const ConsentInput = Obj(
  {
    email: Type.Optional(Type.Boolean()),
    sms: Type.Optional(Type.Boolean()),
    push: Type.Optional(Type.Boolean()),
  },
  { description: 'Marketing consent to grant (true) or withdraw (false) per channel.' },
);

const editable = {
  email: Type.Optional(Nullable(f.email)),
  phone: Type.Optional(Nullable(f.phone)),
  first_name: Type.Optional(Nullable(f.first_name)),
  last_name: Type.Optional(Nullable(f.last_name)),
  birth_date: Type.Optional(Nullable(f.birth_date)),
  locale: Type.Optional(LocaleSchema),
  time_zone: Type.Optional(Nullable(f.time_zone)),
  consent: Type.Optional(ConsentInput),
  consent_source: Type.Optional({ ...f.source, description: 'Where the consent changes in `consent` came from (default "api"); only with `consent`.' }),
  enrolled_at: Type.Optional(f.enrolled_at),
};

export const CreateMemberBody = Obj({
  external_id: Type.Optional(Nullable(f.external_id)),
  ...editable,
  attributes: Type.Optional(f.attributes),
});
export type CreateMemberInput = Static<typeof CreateMemberBody>;

export const UpdateMemberBody = Obj(
  {
    external_id: Type.Optional(Nullable(f.external_id)),
    ...editable,
    attributes: Type.Optional(Nullable({
      ...f.attributes,
      description: `${f.attributes.description} Merged into the member's attributes: a key set to null is removed, other keys are kept; \`"attributes": null\` removes them all.`,
    })),
  },
  { minProperties: 1 },
);
export type UpdateMemberInput = Static<typeof UpdateMemberBody>;

const ConsentState = Type.Object({
  granted: Type.Boolean(),
  source: Nullable(Type.String()),
  updated_at: Nullable(Timestamp()),
});

export const Member = Type.Object(
  {
    id: Uuid(),
    external_id: Nullable(Type.String()),
    email: Nullable(Type.String()),
    phone: Nullable(Type.String()),
    first_name: Nullable(Type.String()),
    last_name: Nullable(Type.String()),
    birth_date: Nullable(Type.String({ format: 'date' })),
    locale: LocaleSchema,
    time_zone: Nullable(Type.String()),
    attributes: Type.Record(Type.String(), Type.Unknown()),
    status: StringEnum(MEMBER_STATUSES),
    enrolled_at: Timestamp(),
    created_at: Timestamp(),
    updated_at: Timestamp(),
    blocked_at: Nullable(Timestamp()),
    blocked_reason: Nullable(Type.String()),
    erased_at: Nullable(Timestamp()),
    consent: Type.Object({ email: ConsentState, sms: ConsentState, push: ConsentState }),
  },
  { $id: 'Member' },
);

export const ListMembersQuery = Type.Object({
  ...PageQuery,
  external_id: Type.Optional(Type.String({ maxLength: 200 })),
  email: Type.Optional(Type.String({ maxLength: 320, description: 'Exact match, case-insensitive.' })),
  phone: Type.Optional(Type.String({ maxLength: 20, description: 'Exact match (E.164).' })),
  q: Type.Optional(Type.String({
    minLength: 1, maxLength: 200, pattern: '\\S', 'x-message': 'must contain a visible character',
    description: 'Search: prefix of email, phone (with or without +, spaces ignored), external id, first name, last name or "first last" (case-insensitive, any script).',
  })),
  status: Type.Optional(StringEnum(MEMBER_STATUSES)),
  locale: Type.Optional(LocaleSchema),
  enrolled_after: Type.Optional(Timestamp({ description: 'Only members enrolled at or after this time.' })),
  enrolled_before: Type.Optional(Timestamp({ description: 'Only members enrolled before this time.' })),
});

export const ExternalIdParams = Obj({ external_id: f.external_id });

export const BlockBody = Obj({
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500, pattern: '^[^\\u0000]+$', 'x-message': 'must not contain the NUL character' })),
});

export const ConsentChangeBody = Obj({
  channel: StringEnum(CHANNELS),
  granted: Type.Boolean(),
  source: { ...f.source, description: 'Where the change came from: checkout, preference_center, import, support …' },
});

export const ConsentEvent = Type.Object(
  { id: Uuid(), channel: StringEnum(CHANNELS), granted: Type.Boolean(), source: Type.String(), occurred_at: Timestamp() },
  { $id: 'ConsentEvent' },
);

export const MemberExport = Type.Object(
  {
    exported_at: Timestamp(),
    member: Type.Ref(Member),
    consent_history: Type.Array(Type.Ref(ConsentEvent)),
    events: Type.Array(
      Type.Object({ type: Type.String(), occurred_at: Timestamp(), payload: Type.Record(Type.String(), Type.Unknown()) }),
      { description: "The member's domain events (created, updated fields, blocked, consent changes, …), oldest first." },
    ),
    sections: Type.Record(Type.String(), Type.Unknown(), { description: 'Data other modules hold about the member, by module.' }),
  },
  { description: 'Everything Patron holds about a member (GDPR access / portability).' },
);
