/**
 * Agents and teams (docs/cases.md): who works cases. A small resource now; the admin app later links its users to
 * agents through external_user_ref. Agents are deactivated, never deleted: cases and their timelines keep naming them.
 */
import type { Clock } from '../../platform/clock.js';
import type { Queryable, Tx } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import type { CreateAgentInput, UpdateAgentInput } from './agents.schema.js';
import * as store from './agents.store.js';
import type { AgentRow } from './agents.store.js';

export type { AgentRow } from './agents.store.js';

export class AgentsService {
  constructor(private readonly deps: { clock: Clock }) {}

  /** The team an agent joins: an active agent of kind team. */
  private async teamOr422(q: Queryable, tenantId: string, teamId: string): Promise<AgentRow> {
    const team = await store.getAgent(q, tenantId, teamId);
    if (!team || team.kind !== 'team') throw errors.unprocessable(`No team with id ${teamId}.`, [{ field: 'team_id', detail: 'must be the id of a team' }]);
    if (!team.active) throw errors.unprocessable(`Team ${teamId} is deactivated.`, [{ field: 'team_id', detail: 'is deactivated' }]);
    return team;
  }

  /** The write, or the 409 naming external_user_ref when the unique key says another agent has it. */
  private async unlessTaken(ref: string | null, write: Promise<AgentRow>): Promise<AgentRow> {
    try {
      return await write;
    } catch (err) {
      if (ref !== null && store.isExternalUserRefTaken(err)) throw this.taken(ref);
      throw err;
    }
  }

  private taken(ref: string) {
    return errors.conflict(`An agent with external_user_ref "${ref}" already exists.`, [{ field: 'external_user_ref', detail: 'is already taken by another agent' }]);
  }

  async create(tx: Tx, tenantId: string, input: CreateAgentInput): Promise<AgentRow> {
    const kind = input.kind ?? 'agent';
    if (kind === 'team' && input.team_id !== undefined) throw errors.field('team_id', 'is for agents, not teams');
    if (input.team_id) await this.teamOr422(tx, tenantId, input.team_id);
    const now = this.deps.clock.now();
    const row = await this.unlessTaken(input.external_user_ref ?? null, store.insertAgent(tx, tenantId, {
      id: newId(), kind, name: input.name, email: input.email ?? null, team_id: input.team_id ?? null, active: true,
      external_user_ref: input.external_user_ref ?? null, created_at: now, updated_at: now,
    }));
    await emit(tx, { tenantId, type: 'agent.created', aggregateType: 'agent', aggregateId: row.id, occurredAt: now, payload: { agent_id: row.id, kind: row.kind, team_id: row.team_id } });
    return row;
  }

  async update(tx: Tx, tenantId: string, id: string, patch: UpdateAgentInput): Promise<AgentRow> {
    const current = await store.getAgent(tx, tenantId, id, true);
    if (!current) throw errors.notFound('agent', id);
    return this.write(tx, tenantId, current, patch);
  }

  /** Applies a change to the agent read (and locked) by the caller. */
  private async write(tx: Tx, tenantId: string, current: AgentRow, patch: UpdateAgentInput): Promise<AgentRow> {
    const id = current.id;
    if (current.kind === 'team' && patch.team_id) throw errors.field('team_id', 'is for agents, not teams');
    if (patch.team_id && patch.team_id !== current.team_id) await this.teamOr422(tx, tenantId, patch.team_id);
    const now = this.deps.clock.now();
    const next: AgentRow = {
      ...current,
      name: patch.name ?? current.name,
      email: patch.email === undefined ? current.email : patch.email,
      team_id: patch.team_id === undefined ? current.team_id : patch.team_id,
      active: patch.active ?? current.active,
      external_user_ref: patch.external_user_ref === undefined ? current.external_user_ref : patch.external_user_ref,
      updated_at: now,
    };
    const row = await this.unlessTaken(next.external_user_ref, store.updateAgent(tx, tenantId, next));
    const type = current.active && !row.active ? 'agent.deactivated' : 'agent.updated';
    await emit(tx, { tenantId, type, aggregateType: 'agent', aggregateId: id, occurredAt: now, payload: { agent_id: id, fields: Object.keys(patch) } });
    return row;
  }

  /** DELETE: deactivated, not deleted (cases keep naming it); its open cases stay assigned until someone moves them. */
  async deactivate(tx: Tx, tenantId: string, id: string): Promise<AgentRow> {
    const current = await store.getAgent(tx, tenantId, id, true);
    if (!current) throw errors.notFound('agent', id);
    if (!current.active) return current;
    return this.write(tx, tenantId, current, { active: false });
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<AgentRow> {
    const row = await store.getAgent(q, tenantId, id);
    if (!row) throw errors.notFound('agent', id);
    return row;
  }

  /** The agent or team, or null: for other modules checking an assignee. */
  find(q: Queryable, tenantId: string, id: string): Promise<AgentRow | null> {
    return store.getAgent(q, tenantId, id);
  }

  list(q: Queryable, tenantId: string, f: { kind?: 'agent' | 'team'; teamId?: string; active?: boolean; afterId?: string; limit: number }): Promise<AgentRow[]> {
    return store.listAgents(q, tenantId, f);
  }
}
