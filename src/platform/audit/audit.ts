/**
 * The audit log: every write made with an API key or by an operator — who (the
 * key id), what (action and resource), when, and which fields it changed. Field
 * names only, never values: the log must not keep personal data that a GDPR
 * erasure removed elsewhere.
 */
import { prepared, type Queryable } from '../db/db.js';
import { newId } from '../ids.js';

export type ActorType = 'api_key' | 'operator' | 'system';

export interface Actor {
  type: ActorType;
  /** API key id, 'operator', or the job name. */
  id: string | null;
}

export interface AuditEntry {
  tenantId: string;
  actor: Actor;
  action: string;
  resourceType: string;
  resourceId: string | null;
  changedFields: string[];
  requestId: string | null;
  occurredAt: Date;
}

const INSERT_AUDIT = prepared('audit.insert', `INSERT INTO audit_log (tenant_id, id, actor_type, actor_id, action, resource_type, resource_id, changed_fields, request_id, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`);

export async function recordAudit(tx: Queryable, e: AuditEntry): Promise<void> {
  await tx.query(
    INSERT_AUDIT,
    [e.tenantId, newId(), e.actor.type, e.actor.id, e.action, e.resourceType, e.resourceId, e.changedFields, e.requestId, e.occurredAt],
  );
}

export interface AuditRow {
  id: string;
  actor_type: ActorType;
  actor_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  changed_fields: string[];
  request_id: string | null;
  occurred_at: Date;
}

export async function listAudit(
  db: Queryable,
  tenantId: string,
  opts: { resourceType?: string; resourceId?: string; actorId?: string; after?: string; limit: number },
): Promise<AuditRow[]> {
  const res = await db.query(
    `SELECT id, actor_type, actor_id, action, resource_type, resource_id, changed_fields, request_id, occurred_at
       FROM audit_log
      WHERE tenant_id = $1
        AND ($2::text IS NULL OR resource_type = $2)
        AND ($3::text IS NULL OR resource_id = $3)
        AND ($4::text IS NULL OR actor_id = $4)
        AND ($5::uuid IS NULL OR id < $5)
      ORDER BY id DESC
      LIMIT $6`,
    [tenantId, opts.resourceType ?? null, opts.resourceId ?? null, opts.actorId ?? null, opts.after ?? null, opts.limit],
  );
  return res.rows;
}
