import { Type } from '@sinclair/typebox';
import { LocaleSchema, Nullable, Obj, Timestamp, Uuid, StringEnum } from '../../platform/http/schema.js';

export const Tenant = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    default_currency: Type.String(),
    default_locale: Type.String(),
    time_zone: Type.String(),
    notification_email: Nullable(Type.String()),
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { $id: 'Tenant' },
);

const tenantFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  default_currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. EUR, BGN, PLN, RON.' }),
  default_locale: LocaleSchema,
  time_zone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Sofia.' }),
  notification_email: Nullable(Type.String({ format: 'email', maxLength: 320 })),
};

export const CreateTenantBody = Obj({
  name: tenantFields.name,
  default_currency: Type.Optional(tenantFields.default_currency),
  default_locale: Type.Optional(tenantFields.default_locale),
  time_zone: Type.Optional(tenantFields.time_zone),
  notification_email: Type.Optional(tenantFields.notification_email),
});

export const UpdateTenantBody = Obj(
  {
    name: Type.Optional(tenantFields.name),
    default_currency: Type.Optional(tenantFields.default_currency),
    default_locale: Type.Optional(tenantFields.default_locale),
    time_zone: Type.Optional(tenantFields.time_zone),
    notification_email: Type.Optional(tenantFields.notification_email),
  },
  { minProperties: 1 },
);

export const CreatedTenant = Type.Object({ tenant: Type.Ref(Tenant), api_key: Nullable(Type.String({ description: 'The first admin key. Shown once: null when this answer is an Idempotency-Key replay.' })) });

export const SCOPES = ['read', 'write', 'admin'] as const;

export const ApiKey = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    prefix: Type.String({ description: 'The first characters of the key, to recognise it.' }),
    scopes: Type.Array(StringEnum(SCOPES)),
    created_at: Timestamp(),
    created_by: Nullable(Type.String()),
    revoked_at: Nullable(Timestamp()),
    last_used_at: Nullable(Timestamp({ description: 'Updated at most once a minute.' })),
  },
  { $id: 'ApiKey' },
);

export const CreateKeyBody = Obj({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  scopes: Type.Array(StringEnum(SCOPES), { minItems: 1, uniqueItems: true, description: 'read, write (includes read), admin (includes write).' }),
});

export const CreatedKey = Type.Object({
  ...ApiKey.properties,
  key: Nullable(Type.String({ description: 'The secret. Shown once; store it now. Null when this answer is an Idempotency-Key replay.' })),
});
