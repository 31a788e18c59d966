-- Bulk imports, second step (see docs/imports.md).

-- How many times a run of the import job has started: a file whose job keeps
-- failing ends as `failed` instead of being retried for ever.
ALTER TABLE imports ADD COLUMN attempts integer NOT NULL DEFAULT 0;

-- Rows that matched an existing record and changed nothing (a re-import of
-- the same file), kept apart from the rows that did change something.
ALTER TABLE imports ADD COLUMN rows_unchanged bigint NOT NULL DEFAULT 0;

-- Upload chunks live only until their import has run: store them without
-- compression, which would cost more CPU on the upload than it saves on disk.
ALTER TABLE import_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- The SHA-256 of every erased member's external_id. Erasure clears the
-- external_id itself, so without this an import of the shop's customer list
-- would bring an erased person back as a new member; with it, such a row is
-- rejected. A hash rather than the id: it can only confirm an id the shop
-- already holds.
CREATE TABLE member_erasures (
  tenant_id          uuid        NOT NULL REFERENCES tenants (id),
  external_id_sha256 bytea       NOT NULL,
  erased_at          timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, external_id_sha256)
);
