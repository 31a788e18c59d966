/** SQL for agents (migrations/0016_cases.sql): the people and teams cases are assigned to. */
import type { Queryable } from '../../platform/db/db.js';

export interface AgentRow {
  id: string;
  kind: 'agent' | 'team';
  name: string;
  email: string | null;
  team_id: string | null;
  active: boolean;
  external_user_ref: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLS = 'id, kind, name, email, team_id, active, external_user_ref, created_at, updated_at';

/** True for the unique-key violation of an external_user_ref another agent has: the key decides, races included. */
export function isExternalUserRefTaken(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === 'agents_external_user_ref';
}

/** Inserts the agent; a taken external_user_ref fails with a unique violation (isExternalUserRefTaken). */
export async function insertAgent(db: Queryable, tenantId: string, a: AgentRow): Promise<AgentRow> {
  const res = await db.query<AgentRow>(
    `INSERT INTO agents (tenant_id, id, kind, name, email, team_id, active, external_user_ref, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     RETURNING ${COLS}`,
    [tenantId, a.id, a.kind, a.name, a.email, a.team_id, a.active, a.external_user_ref, a.created_at, a.updated_at],
  );
  return res.rows[0]!;
}

/** Writes the agent; a taken external_user_ref fails with a unique violation (isExternalUserRefTaken). */
export async function updateAgent(db: Queryable, tenantId: string, a: AgentRow): Promise<AgentRow> {
  const res = await db.query<AgentRow>(
    `UPDATE agents SET name = $3, email = $4, team_id = $5, active = $6, external_user_ref = $7, updated_at = $8
      WHERE tenant_id = $1 AND id = $2 RETURNING ${COLS}`,
    [tenantId, a.id, a.name, a.email, a.team_id, a.active, a.external_user_ref, a.updated_at],
  );
  return res.rows[0]!;
}

export async function getAgent(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<AgentRow | null> {
  const res = await db.query<AgentRow>(`SELECT ${COLS} FROM agents WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function listAgents(db: Queryable, tenantId: string, f: { kind?: 'agent' | 'team'; teamId?: string; active?: boolean; afterId?: string; limit: number }): Promise<AgentRow[]> {
  const res = await db.query<AgentRow>(
    `SELECT ${COLS} FROM agents
      WHERE tenant_id = $1 AND ($2::text IS NULL OR kind = $2) AND ($3::uuid IS NULL OR team_id = $3)
        AND ($4::boolean IS NULL OR active = $4) AND ($5::uuid IS NULL OR id > $5)
      ORDER BY id LIMIT $6`,
    [tenantId, f.kind ?? null, f.teamId ?? null, f.active ?? null, f.afterId ?? null, f.limit],
  );
  return res.rows;
}
