-- The closed loop (docs/cases.md): agents and teams who work cases, per-tenant case settings (when a case opens, its
-- priority, SLA targets in business hours, escalation), cases opened from survey answers and feedback, and each
-- case's timeline. A goodwill gesture goes through the ledger or the wallet with the case as its source.

-- An agent (a person) or a team cases are assigned to. The admin app later links agents to its users
-- (external_user_ref). Agents are deactivated, never deleted, once cases name them.
CREATE TABLE agents (
  tenant_id         uuid        NOT NULL,
  id                uuid        NOT NULL,
  kind              text        NOT NULL CHECK (kind IN ('agent', 'team')),
  name              text        NOT NULL,
  email             text,
  -- An agent's team (a row of kind 'team'); NULL for teams and agents without one.
  team_id           uuid,
  active            boolean     NOT NULL DEFAULT true,
  external_user_ref text,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, team_id) REFERENCES agents (tenant_id, id)
);
CREATE UNIQUE INDEX agents_external_user_ref ON agents (tenant_id, external_user_ref) WHERE external_user_ref IS NOT NULL;
CREATE INDEX agents_team ON agents (tenant_id, team_id) WHERE team_id IS NOT NULL;

-- One document per tenant (CaseSettings in cases.settings.ts, validated there); no row: the defaults.
CREATE TABLE case_settings (
  tenant_id   uuid        NOT NULL,
  settings    jsonb       NOT NULL,
  updated_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id)
);

CREATE TABLE cases (
  tenant_id               uuid        NOT NULL,
  id                      uuid        NOT NULL,
  -- NULL for anonymous feedback.
  member_id               uuid,
  source_type             text        NOT NULL CHECK (source_type IN ('survey_answer', 'feedback')),
  -- The survey response a case came from: one case per response (an edited response updates it).
  source_response_id      uuid,
  -- {survey_id, survey_name, question_key, band, value} or {rating, metadata}: what opened it.
  source                  jsonb       NOT NULL,
  -- Why it opened: nps_detractor, csat_dissatisfied, ces_high_effort, free_text, feedback.
  reasons                 text[]      NOT NULL,
  subject                 text        NOT NULL,
  message                 text,
  -- Where to reply to anonymous feedback.
  contact_email           text,
  touchpoint              text,
  tier_code               text,
  priority                text        NOT NULL CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
  assignee_id             uuid,
  status                  text        NOT NULL CHECK (status IN ('open', 'waiting_for_customer', 'resolved', 'closed')),
  first_response_due_at   timestamptz NOT NULL,
  resolution_due_at       timestamptz NOT NULL,
  first_responded_at      timestamptz,
  resolved_at             timestamptz,
  closed_at               timestamptz,
  first_response_breached boolean     NOT NULL DEFAULT false,
  resolution_breached     boolean     NOT NULL DEFAULT false,
  escalated_at            timestamptz,
  resolution_code         text,
  resolution_note         text,
  -- Every goodwill gesture given when resolving, oldest first (a case resolved again after a reopening may get
  -- another): [{gift, result, given_at, actor, agent_id}].
  goodwill                jsonb       NOT NULL DEFAULT '[]',
  follow_up_invitation_id uuid,
  reopened_count          integer     NOT NULL DEFAULT 0,
  -- When it was last reopened: a reopened case's resolution target counts from here (also when its priority changes).
  reopened_at             timestamptz,
  erased                  boolean     NOT NULL DEFAULT false,
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, assignee_id) REFERENCES agents (tenant_id, id)
);
CREATE UNIQUE INDEX cases_response ON cases (tenant_id, source_response_id) WHERE source_response_id IS NOT NULL;
CREATE INDEX cases_status ON cases (tenant_id, status, id);
CREATE INDEX cases_assignee ON cases (tenant_id, assignee_id, id);
CREATE INDEX cases_member ON cases (tenant_id, member_id, id);
-- The SLA job's work list: cases not yet resolved whose first response or resolution is not yet breached.
CREATE INDEX cases_first_response_due ON cases (tenant_id, first_response_due_at) WHERE first_responded_at IS NULL AND NOT first_response_breached AND status IN ('open', 'waiting_for_customer');
CREATE INDEX cases_resolution_due ON cases (tenant_id, resolution_due_at) WHERE NOT resolution_breached AND status IN ('open', 'waiting_for_customer');

-- What happened on a case, in order: internal notes, replies to the member (delivered by the messaging module later:
-- delivery_state 'pending' until then), status changes, assignment, priority, breaches, escalation, goodwill,
-- the follow-up.
CREATE TABLE case_timeline (
  tenant_id       uuid        NOT NULL,
  id              uuid        NOT NULL,
  case_id         uuid        NOT NULL,
  kind            text        NOT NULL CHECK (kind IN (
    'opened', 'updated', 'note', 'reply', 'status_changed', 'assigned', 'priority_changed', 'sla_breached', 'escalated',
    'goodwill', 'resolved', 'closed', 'reopened', 'follow_up_sent', 'follow_up_answered'
  )),
  body            text,
  author_agent_id uuid,
  -- Who did it through the API (the key id), 'system' for jobs and hooks.
  actor           text,
  data            jsonb       NOT NULL DEFAULT '{}',
  delivery_state  text        CHECK (delivery_state IN ('pending', 'sent', 'failed')),
  created_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, author_agent_id) REFERENCES agents (tenant_id, id)
);
CREATE INDEX case_timeline_case ON case_timeline (tenant_id, case_id, id);

-- A goodwill gesture names its case as the source of its points (ledger) or store credit (wallet). The full lists
-- of 0006_program_sources.sql and 0008_wallet_vouchers.sql, plus 'case'.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_source_type_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_source_type_check CHECK (source_type IN (
  'transaction', 'event', 'rule', 'campaign', 'admin', 'redemption', 'hold', 'system',
  'reward', 'stamp_card', 'referral', 'achievement', 'tier', 'case'
));
ALTER TABLE wallet_entries DROP CONSTRAINT wallet_entries_source_type_check;
ALTER TABLE wallet_entries ADD CONSTRAINT wallet_entries_source_type_check CHECK (source_type IN (
  'transaction', 'event', 'rule', 'campaign', 'admin', 'redemption', 'hold', 'system',
  'reward', 'stamp_card', 'referral', 'achievement', 'tier',
  'cashback', 'refund', 'checkout', 'voucher', 'case'
));
