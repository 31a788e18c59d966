/**
 * `GET /v1/members/export`: every member (but the erased) as CSV or NDJSON,
 * streamed from a server-side cursor, so the table is never in memory. The
 * columns are those of an import (docs/imports.md), so an export imports back
 * as it is: consent is empty where the member never stated any, true or false
 * otherwise; attributes are a JSON object.
 */
import { pipeline, Transform } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { stringify } from 'csv-stringify';
import { isoUtcSql, type Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import { Obj, problems, StringEnum } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { CHANNELS } from './members.schema.js';
import { MEMBER_FILE_COLUMNS } from './members.import.js';

const FORMATS = ['csv', 'ndjson'] as const;
type Format = (typeof FORMATS)[number];
const MEDIA: Record<Format, string> = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson; charset=utf-8' };

const consent = (channel: string, asText: boolean) =>
  `(SELECT ${asText ? `CASE WHEN c.granted THEN 'true' ELSE 'false' END` : 'c.granted'} FROM member_consents c
     WHERE c.tenant_id = m.tenant_id AND c.member_id = m.id AND c.channel = '${channel}')`;
const FROM = `FROM members m WHERE m.tenant_id = $1 AND m.status <> 'erased' ORDER BY m.id`;

const CSV_SQL = `SELECT m.external_id, m.email, m.phone, m.first_name, m.last_name, m.birth_date, m.locale, m.time_zone,
    ${isoUtcSql('m.enrolled_at')} AS enrolled_at, m.attributes::text AS attributes,
    ${CHANNELS.map((ch) => `${consent(ch, true)} AS consent_${ch}`).join(', ')}
  ${FROM}`;

// NDJSON lines are built by PostgreSQL: no row objects to parse and serialise again here.
const NDJSON_SQL = `SELECT json_build_object(
    'external_id', m.external_id, 'email', m.email, 'phone', m.phone, 'first_name', m.first_name, 'last_name', m.last_name,
    'birth_date', m.birth_date, 'locale', m.locale, 'time_zone', m.time_zone, 'enrolled_at', ${isoUtcSql('m.enrolled_at')},
    'attributes', m.attributes, ${CHANNELS.map((ch) => `'consent_${ch}', ${consent(ch, false)}`).join(', ')})::text AS line
  ${FROM}`;

function formatOf(query: Format | undefined, accept: string | undefined): Format {
  if (query) return query;
  if (accept?.includes('application/x-ndjson')) return 'ndjson';
  return 'csv';
}

export function membersExportRoutes(deps: { db: Db }) {
  const { db } = deps;
  return async function (app: HttpServer) {
    app.get('/v1/members/export', {
      // Every member's personal data at once: like the per-member GDPR export, admin only.
      config: { auth: 'admin' },
      schema: {
        tags: ['members', 'imports'],
        summary: 'Export members as CSV or NDJSON (streamed)',
        description:
          `Every member but the erased, in id order, with the columns of an import (\`${MEMBER_FILE_COLUMNS.join('`, `')}\`), so the file imports back as it is. ` +
          '`format` (or `Accept: text/csv` / `application/x-ndjson`) chooses the format; CSV is the default.',
        querystring: Obj({ format: Type.Optional(StringEnum(FORMATS, { description: 'csv (default) or ndjson.' })) }),
        response: {
          200: {
            description: 'The file, streamed.',
            content: {
              'text/csv': { schema: { type: 'string', description: 'CSV with a header row.' } },
              'application/x-ndjson': { schema: { type: 'string', description: 'One JSON object per line.' } },
            },
          },
          ...problems(400, 401, 403, 429),
        },
      },
    }, async (request, reply) => {
      const tenantId = tenantOf(request).tenantId;
      const format = formatOf(request.query.format, request.headers.accept);
      const rows = await db.stream(format === 'csv' ? CSV_SQL : NDJSON_SQL, [tenantId]);
      const encode = format === 'csv'
        ? stringify({ header: true, columns: [...MEMBER_FILE_COLUMNS] })
        : new Transform({ writableObjectMode: true, transform: (row: { line: string }, _enc, done) => done(null, `${row.line}\n`) });
      // The stream gives its connection back when it ends or is destroyed (an encoding error or a client abort).
      const body = pipeline(rows, encode, () => undefined);
      reply
        .type(MEDIA[format])
        .header('content-disposition', `attachment; filename="members.${format}"`);
      return reply.send(body);
    });
  };
}
