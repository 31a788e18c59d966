import { Type, type Static } from '@sinclair/typebox';
import { LocaleSchema, Nullable, Obj, StringEnum, Timestamp, Uuid, PageQuery } from '../../platform/http/schema.js';

export const CHANNELS = ['email', 'sms', 'push'] as const;
export type Channel = (typeof CHANNELS)[number];
export const MEMBER_STATUSES = ['active', 'blocked', 'erased'] as const;

export const LIMITS = {
  attributesBytes: 8192,
  attributesKeys: 50,
};

const f = {
  external_id: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f]+$', 'x-message': 'must not contain control characters', description: "The shop's customer id; unique per tenant." }),
  email: Type.String({ format: 'email', maxLength: 320 }),
  phone: Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$', 'x-message': 'must be an E.164 number such as +359888123456', description: 'E.164, e.g. +359888123456.' }),
  first_name: Type.String({ minLength: 1, maxLength: 100 }),
  last_name: Type.String({ minLength: 1, maxLength: 100 }),
  birth_date: Type.String({ format: 'date', description: 'YYYY-MM-DD.' }),
  time_zone: Type.String({ minLength: 1, maxLength: 64, description: "IANA time zone; null means the tenant's." }),
  attributes: Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { description: `Custom attributes: at most ${LIMITS.attributesKeys} keys and ${LIMITS.attributesBytes} bytes as JSON.` }),
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
  attributes: Type.Optional(f.attributes),
  consent: Type.Optional(ConsentInput),
  consent_source: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Where consent changes came from (default "api").' })),
};

export const CreateMemberBody = Obj({
  external_id: Type.Optional(Nullable(f.external_id)),
  ...editable,
  enrolled_at: Type.Optional(Timestamp({ description: 'Default: now.' })),
});
export type CreateMemberInput = Static<typeof CreateMemberBody>;

export const UpdateMemberBody = Obj({ external_id: Type.Optional(Nullable(f.external_id)), ...editable }, { minProperties: 1 });
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
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Search: prefix of email, phone, external id, first or last name.' })),
  status: Type.Optional(StringEnum(MEMBER_STATUSES)),
});

export const ExternalIdParams = Obj({ external_id: f.external_id });

export const BlockBody = Obj({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) });

export const ConsentChangeBody = Obj({
  channel: StringEnum(CHANNELS),
  granted: Type.Boolean(),
  source: Type.String({ minLength: 1, maxLength: 100, description: 'Where the change came from: checkout, preference_center, import, support …' }),
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
    sections: Type.Record(Type.String(), Type.Unknown(), { description: 'Data other modules hold about the member, by module.' }),
  },
  { description: 'Everything Patron holds about a member (GDPR access / portability).' },
);
