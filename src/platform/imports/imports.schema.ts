import { Type } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../http/schema.js';

export const IMPORT_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
/** Rejected rows shown in the status itself; the rest through the rejections list. */
export const REJECTIONS_IN_STATUS = 100;

export const RejectionSchema = Type.Object(
  {
    line: Type.Integer({ description: 'Line of the file where the rejected record starts (the CSV header is line 1).' }),
    reason: Type.String({ description: 'Why, naming the field: `email: must be a valid email`.' }),
  },
  { $id: 'ImportRejection' },
);

export const ImportSchema = Type.Object(
  {
    id: Uuid(),
    kind: Type.String({ description: 'What is imported: members, transactions.' }),
    format: StringEnum(['csv', 'ndjson'] as const),
    options: Type.Record(Type.String(), Type.Unknown(), { description: 'The options the file was uploaded with (query parameters of the upload, with their defaults), e.g. `{"award_points": false}` for orders.' }),
    status: StringEnum(IMPORT_STATUSES, { description: 'queued → running → succeeded | failed.' }),
    progress: Type.Object({
      bytes_total: Type.Integer({ description: 'Size of the uploaded file.' }),
      bytes_processed: Type.Integer({ description: 'Bytes of the file read and committed so far.' }),
      rows_processed: Type.Integer({ description: 'Data rows committed so far (created + updated + unchanged + rejected).' }),
    }),
    counts: Type.Object({
      created: Type.Integer(),
      updated: Type.Integer(),
      unchanged: Type.Integer({ description: 'Rows that matched an existing record and changed nothing.' }),
      rejected: Type.Integer(),
    }),
    unknown_columns: Type.Array(Type.String(), { description: 'Columns (CSV header) or keys (NDJSON) that were ignored.' }),
    error: Nullable(Type.String({ description: 'Why the import failed (or why its last attempt failed while it is retried).' })),
    rejections: Type.Array(Type.Ref(RejectionSchema), { description: `The first ${REJECTIONS_IN_STATUS} rejected rows, by line.` }),
    rejections_next_cursor: Nullable(Type.String({ description: 'When more rows were rejected: the cursor for the rejections list.' })),
    created_at: Timestamp(),
    started_at: Nullable(Timestamp()),
    finished_at: Nullable(Timestamp()),
  },
  { $id: 'Import', description: 'A bulk import: its status, progress, counts and rejected rows.' },
);

export const ImportIdParams = Obj({ id: Uuid({ description: 'Import id' }) });

export const RejectionsQuery = Type.Object({ ...PageQuery });
