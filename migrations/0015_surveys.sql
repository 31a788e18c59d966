-- Surveys (docs/surveys.md): definitions as data with versions, invitations with signed links, responses and one
-- row per answered (sub)question so that every score is an aggregate over survey_answers.

CREATE TABLE surveys (
  tenant_id        uuid        NOT NULL,
  id               uuid        NOT NULL,
  name             text        NOT NULL,
  touchpoint       text        NOT NULL CHECK (touchpoint IN ('purchase', 'delivery', 'support_case', 'onboarding', 'store_visit', 'custom')),
  -- The marketer's own name for a custom touchpoint ("returns desk"); NULL otherwise.
  touchpoint_label text,
  status           text        NOT NULL CHECK (status IN ('draft', 'live', 'closed')),
  -- The version answers are given to now; a draft is edited in place, a live survey gets a new version per edit.
  current_version  integer     NOT NULL DEFAULT 1 CHECK (current_version >= 1),
  default_language text        NOT NULL CHECK (default_language IN ('en', 'bg', 'ru', 'ro', 'pl')),
  -- When invitations are made without an API call: {type: after_purchase, days} | {type: after_case_closed, days}
  -- | {type: relationship, every_days}; NULL: only by API.
  trigger          jsonb,
  trigger_type     text GENERATED ALWAYS AS (trigger ->> 'type') STORED,
  -- The action-bonus event recorded (once per invitation) when a member answers; NULL: no reward.
  reward_event     text,
  public_link      boolean     NOT NULL DEFAULT false,
  invitation_ttl_days integer  NOT NULL DEFAULT 14 CHECK (invitation_ttl_days BETWEEN 1 AND 365),
  -- A survey Patron keeps itself ('case_follow_up': "Was your problem solved?"), created on first use; NULL for the
  -- tenant's own surveys.
  system_key       text,
  published_at     timestamptz,
  closed_at        timestamptz,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
-- The triggers' work lists: live surveys of a trigger type.
CREATE INDEX surveys_live_trigger ON surveys (tenant_id, trigger_type) WHERE status = 'live';
CREATE UNIQUE INDEX surveys_system_key ON surveys (tenant_id, system_key) WHERE system_key IS NOT NULL;

-- Every version of a survey's questions and texts, never changed once answered: past answers keep the wording and
-- scales they were given to.
CREATE TABLE survey_versions (
  tenant_id   uuid        NOT NULL,
  survey_id   uuid        NOT NULL,
  version     integer     NOT NULL,
  definition  jsonb       NOT NULL,          -- SurveyDefinition (surveys.types.ts): title, questions, thank-you text
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, survey_id, version),
  FOREIGN KEY (tenant_id, survey_id) REFERENCES surveys (tenant_id, id) ON DELETE CASCADE
);

-- Per-tenant survey settings: throttling across all surveys, the edit window, the secret that signs links.
CREATE TABLE survey_settings (
  tenant_id                 uuid        NOT NULL,
  min_days_between_invitations integer  NOT NULL DEFAULT 30 CHECK (min_days_between_invitations BETWEEN 0 AND 3650),
  edit_window_minutes       integer     NOT NULL DEFAULT 30 CHECK (edit_window_minutes BETWEEN 0 AND 10080),
  link_secret               bytea       NOT NULL,
  updated_at                timestamptz NOT NULL,
  PRIMARY KEY (tenant_id)
);

-- An invitation of one member to one survey. 'scheduled' invitations (N days after a purchase or a closed case)
-- become 'pending' when due (the surveys.invite job, which applies the throttle then); one response per invitation.
CREATE TABLE survey_invitations (
  tenant_id    uuid        NOT NULL,
  id           uuid        NOT NULL,
  survey_id    uuid        NOT NULL,
  member_id    uuid        NOT NULL,
  trigger      text        NOT NULL CHECK (trigger IN ('api', 'after_purchase', 'after_case_closed', 'relationship')),
  -- What caused it: the order id, the case id; NULL for API and relationship invitations.
  source_type  text        CHECK (source_type IN ('transaction', 'case')),
  source_id    text,
  status       text        NOT NULL CHECK (status IN ('scheduled', 'pending', 'responded', 'expired', 'skipped')),
  -- Why a scheduled invitation was not sent (throttled, member_inactive, survey_not_live).
  skip_reason  text,
  send_at      timestamptz NOT NULL,
  sent_at      timestamptz,
  expires_at   timestamptz,
  responded_at timestamptz,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, survey_id) REFERENCES surveys (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);
-- Throttling and the member's invitations: the latest sent invitation of a member across all surveys.
CREATE INDEX survey_invitations_member ON survey_invitations (tenant_id, member_id, sent_at);
CREATE INDEX survey_invitations_survey ON survey_invitations (tenant_id, survey_id, created_at);
-- The job's work list.
CREATE INDEX survey_invitations_due ON survey_invitations (tenant_id, send_at) WHERE status = 'scheduled';
-- One invitation per survey and cause (an order re-sent or a hook run twice never invites twice).
CREATE UNIQUE INDEX survey_invitations_source ON survey_invitations (tenant_id, survey_id, source_type, source_id) WHERE source_id IS NOT NULL;

-- A response: who answered (a member, or nobody for a public link), in which language, through which channel, and
-- the member's tier then (for breakdowns). Answers given within the edit window replace the earlier ones.
CREATE TABLE survey_responses (
  tenant_id      uuid        NOT NULL,
  id             uuid        NOT NULL,
  survey_id      uuid        NOT NULL,
  version        integer     NOT NULL,
  invitation_id  uuid,
  member_id      uuid,
  channel        text        NOT NULL CHECK (channel IN ('invitation', 'public_link', 'embed', 'api')),
  language       text        NOT NULL CHECK (language IN ('en', 'bg', 'ru', 'ro', 'pl')),
  touchpoint     text        NOT NULL,
  tier_code      text,
  -- Context from the caller (order id, store, device), as given.
  metadata       jsonb       NOT NULL DEFAULT '{}',
  submitted_at   timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  editable_until timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, survey_id, version) REFERENCES survey_versions (tenant_id, survey_id, version),
  FOREIGN KEY (tenant_id, invitation_id) REFERENCES survey_invitations (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX survey_responses_survey ON survey_responses (tenant_id, survey_id, submitted_at);
CREATE INDEX survey_responses_member ON survey_responses (tenant_id, member_id, submitted_at);
-- One response per invitation.
CREATE UNIQUE INDEX survey_responses_invitation ON survey_responses (tenant_id, invitation_id) WHERE invitation_id IS NOT NULL;

-- One row per answered question; blocks (CSI, CLI) give one row per item, keyed '<question>.<item>'. The answer's
-- survey, time and the response's dimensions are copied here so that scores and trends read one table.
CREATE TABLE survey_answers (
  tenant_id     uuid        NOT NULL,
  response_id   uuid        NOT NULL,
  question_key  text        NOT NULL,
  survey_id     uuid        NOT NULL,
  question_type text        NOT NULL CHECK (question_type IN ('nps', 'csat', 'ces', 'csi', 'cli', 'rating', 'single_choice', 'multiple_choice', 'text')),
  -- The scale's lowest and highest value (NULL for choices and text), so a score is computed from the answer alone.
  scale_min     smallint,
  scale_max     smallint,
  value_number  smallint,
  value_text    text,
  value_choices text[],
  -- detractor / passive / promoter (NPS), dissatisfied / neutral / satisfied (CSAT), high_effort / neutral /
  -- low_effort (CES), positive / other (CSI items); NULL otherwise.
  band          text,
  submitted_at  timestamptz NOT NULL,
  language      text        NOT NULL,
  touchpoint    text        NOT NULL,
  tier_code     text,
  PRIMARY KEY (tenant_id, response_id, question_key),
  FOREIGN KEY (tenant_id, response_id) REFERENCES survey_responses (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX survey_answers_results ON survey_answers (tenant_id, survey_id, question_key, submitted_at);
