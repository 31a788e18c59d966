/** HTTP schemas of agents and teams (/v1/agents). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';

const NAME = Type.String({ minLength: 1, maxLength: 200, description: 'The agent\'s or team\'s name.' });
const EMAIL = Type.String({ format: 'email', maxLength: 320, description: 'Where case notifications go (with the messaging module).' });
const REF = Type.String({ minLength: 1, maxLength: 200, description: 'The admin app\'s user id this agent is (unique per tenant).' });

export const CreateAgentBody = Obj({
  kind: Type.Optional(StringEnum(['agent', 'team'] as const, { default: 'agent', description: 'agent: a person; team: a group cases can be assigned to.' })),
  name: NAME,
  email: Type.Optional(EMAIL),
  team_id: Type.Optional(Uuid({ description: 'The team (an active agent of kind team) this agent belongs to; not for teams.' })),
  external_user_ref: Type.Optional(REF),
}, { description: 'An agent or a team that cases are assigned to.', examples: [{ name: 'Maria Petrova', email: 'maria@example.com' }, { kind: 'team', name: 'Customer care' }] });
export type CreateAgentInput = Static<typeof CreateAgentBody>;

export const UpdateAgentBody = Obj({
  name: Type.Optional(NAME),
  email: Type.Optional(Nullable(EMAIL)),
  team_id: Type.Optional(Nullable(Uuid({ description: 'The agent\'s team; null: none.' }))),
  active: Type.Optional(Type.Boolean({ description: 'false: no new cases can be assigned to it; its cases stay assigned.' })),
  external_user_ref: Type.Optional(Nullable(REF)),
}, { description: 'Only the fields sent change (null clears).', examples: [{ team_id: null, active: true }] });
export type UpdateAgentInput = Static<typeof UpdateAgentBody>;

export const Agent = Type.Object({
  id: Uuid(),
  kind: StringEnum(['agent', 'team'] as const),
  name: Type.String(),
  email: Nullable(Type.String()),
  team_id: Nullable(Uuid()),
  active: Type.Boolean(),
  external_user_ref: Nullable(Type.String()),
  created_at: Timestamp(),
  updated_at: Timestamp(),
}, { $id: 'Agent', description: 'An agent or team cases are assigned to.' });

export const ListAgentsQuery = Obj({
  ...PageQuery,
  kind: Type.Optional(StringEnum(['agent', 'team'] as const)),
  team_id: Type.Optional(Uuid({ description: 'Only the agents of this team.' })),
  active: Type.Optional(Type.Boolean()),
});
