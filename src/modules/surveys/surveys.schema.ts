/** HTTP schemas of the surveys core: definitions and versions, settings, invitations, responses. */
import { Type, type Static } from '@sinclair/typebox';
import { LocaleSchema, Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { EventName } from '../events/events.schema.js';
import { BAND_VALUES } from './surveys.bands.js';
import { DEFINITION_LIMITS } from './surveys.definition.js';
import { CLI_ITEMS, CSI_ITEMS, NPS_SCALES, QUESTION_TYPES, TOUCHPOINTS } from './surveys.types.js';

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });
export const Texts = (max: number, description: string) => Obj({
  en: Type.Optional(Text(max)), bg: Type.Optional(Text(max)), ru: Type.Optional(Text(max)), ro: Type.Optional(Text(max)), pl: Type.Optional(Text(max)),
}, { description: `${description} By language (en, bg, ru, ro, pl); a missing language falls back to the survey's default_language.` });

const Language = LocaleSchema;
const Touchpoint = StringEnum(TOUCHPOINTS, { description: 'Where the experience happened: purchase, delivery, support_case, onboarding, store_visit, custom (name it in touchpoint_label).' });
const KEY = Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z][a-z0-9_]{0,39}$', 'x-message': 'must be a lowercase letter, then up to 39 of a-z, 0-9, _' });

const ShowIf = Obj({
  question: Type.String({ minLength: 1, maxLength: 40, description: 'The key of an EARLIER question.' }),
  band_in: Type.Optional(Type.Array(StringEnum(BAND_VALUES), { minItems: 1, maxItems: 10, description: 'Show when that answer is in one of these bands (e.g. ["detractor"]).' })),
  value_in: Type.Optional(Type.Array(Type.Union([Type.Integer(), Type.String({ maxLength: 40 })]), { minItems: 1, maxItems: 30, description: 'Show when that answer is one of these values or option keys.' })),
  value_lte: Type.Optional(Type.Integer({ description: 'Show when that answer is at most this value.' })),
  value_gte: Type.Optional(Type.Integer({ description: 'Show when that answer is at least this value.' })),
}, { description: 'Ask this question only when an earlier answer matches (exactly one condition): "ask why only of detractors".' });

const Option = Obj({ key: KEY, label: Texts(DEFINITION_LIMITS.option, 'The option as shown.') });

export const QuestionSchema = Obj({
  key: KEY,
  type: StringEnum(QUESTION_TYPES, {
    description: 'nps (scale 0-10, 1-10, 1-7 or 1-5), csat (1-5 by default), ces (1-7), csi (Customer Secure Index block: satisfied, rebuy, recommend), cli (Customer Loyalty Index block: recommend, buy, try on 1-6, 1 = very likely), rating, single_choice, multiple_choice, text.',
  }),
  text: Type.Optional(Texts(DEFINITION_LIMITS.text, 'The question; nps, csat, ces, csi and cli have a default wording, the others need one in the default language.')),
  help: Type.Optional(Texts(DEFINITION_LIMITS.help, 'A hint under the question.')),
  required: Type.Optional(Type.Boolean({ description: 'Default true, false for text. A required block needs all its items.' })),
  show_if: Type.Optional(ShowIf),
  scale: Type.Optional(StringEnum(NPS_SCALES, { description: 'nps: the scale (default 0-10).' })),
  scale_max: Type.Optional(Type.Integer({ description: 'csat, csi: 5, 7 or 10 (default 5); rating: 5 or 10 (default 5).' })),
  top_box: Type.Optional(Type.Integer({ minimum: 1, maximum: 9, description: 'csi: how many top values count as positive (default 1).' })),
  items: Type.Optional(Obj({
    ...Object.fromEntries([...new Set([...CSI_ITEMS, ...CLI_ITEMS])].map((i) => [i, Type.Optional(Texts(DEFINITION_LIMITS.text, `The ${i} item.`))])),
  }, { description: 'csi, cli: wording of the items (default wordings exist).' })),
  options: Type.Optional(Type.Array(Option, { minItems: 2, maxItems: DEFINITION_LIMITS.options, description: 'single_choice, multiple_choice: the options (keys unique).' })),
  max_choices: Type.Optional(Type.Integer({ minimum: 1, description: 'multiple_choice: at most this many choices.' })),
  max_length: Type.Optional(Type.Integer({ minimum: 1, maximum: DEFINITION_LIMITS.textAnswer, description: 'text: the longest answer (default 2000 characters).' })),
}, { $id: 'SurveyQuestion', description: 'A question. Answers are keyed by `key`; block items (csi, cli) by `<key>.<item>`.' });

export const DefinitionSchema = Obj({
  title: Type.Optional(Texts(DEFINITION_LIMITS.title, 'The title shown on the survey page.')),
  intro: Type.Optional(Texts(DEFINITION_LIMITS.intro, 'A line above the questions.')),
  thank_you: Type.Optional(Texts(DEFINITION_LIMITS.thankYou, 'Shown after answering.')),
  questions: Type.Array(Type.Ref(QuestionSchema), { minItems: 1, maxItems: DEFINITION_LIMITS.questions }),
}, { description: 'The survey as data: its texts and questions. Editing a live survey makes a new version.' });

const Trigger = Type.Union([
  Obj({ type: Type.Literal('after_purchase'), days: Type.Integer({ minimum: 0, maximum: 365, description: 'Invite this many days after the order.' }) }),
  Obj({ type: Type.Literal('after_case_closed'), days: Type.Integer({ minimum: 0, maximum: 365, description: 'Invite this many days after the support case is closed.' }) }),
  Obj({ type: Type.Literal('relationship'), every_days: Type.Integer({ minimum: 7, maximum: 3650, description: 'Invite every active member once per this many days.' }) }),
], { description: 'When Patron invites members by itself; null: only through POST /v1/surveys/{id}/invitations.' });

const f = {
  name: Type.String({ minLength: 1, maxLength: 200, description: 'The survey\'s name in the admin and reports.' }),
  touchpoint: Touchpoint,
  touchpoint_label: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100, description: 'The name of a custom touchpoint ("returns desk").' }))),
  default_language: Type.Optional(Language),
  trigger: Type.Optional(Nullable(Trigger)),
  reward_event: Type.Optional(Nullable(EventName('The action event recorded (once per invitation) when a member answers: an event rule for it (POST /v1/earn-rules, kind event) gives the points.'))),
  public_link: Type.Optional(Type.Boolean({ description: 'Whether the anonymous public link (and its embed) takes answers.' })),
  invitation_ttl_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365, description: 'Days an invitation link stays valid after it is sent (default 14).' })),
};

export const CreateSurveyBody = Obj({ ...f, definition: DefinitionSchema }, {
  description: 'A survey, created as a draft.',
  examples: [{
    name: 'After purchase NPS', touchpoint: 'purchase', default_language: 'en', trigger: { type: 'after_purchase', days: 3 }, reward_event: 'survey_answered',
    definition: { questions: [{ key: 'nps', type: 'nps' }, { key: 'why', type: 'text', text: { en: 'What should we improve?' }, show_if: { question: 'nps', band_in: ['detractor'] } }] },
  }],
});
export type CreateSurveyInput = Static<typeof CreateSurveyBody>;

export const UpdateSurveyBody = Obj({
  name: Type.Optional(f.name), touchpoint: Type.Optional(f.touchpoint), touchpoint_label: f.touchpoint_label, default_language: f.default_language,
  trigger: f.trigger, reward_event: f.reward_event, public_link: f.public_link, invitation_ttl_days: f.invitation_ttl_days,
  definition: Type.Optional(DefinitionSchema),
}, { description: 'Changed fields only. A new definition of a live survey becomes a new version; answers given so far stay on theirs.' });
export type UpdateSurveyInput = Static<typeof UpdateSurveyBody>;

export const Survey = Type.Object({
  id: Uuid(), name: Type.String(), touchpoint: Touchpoint, touchpoint_label: Nullable(Type.String()),
  status: StringEnum(['draft', 'live', 'closed'] as const), version: Type.Integer({ description: 'The current version (what is answered now).' }),
  default_language: Language, trigger: Nullable(Trigger), reward_event: Nullable(Type.String()), public_link: Type.Boolean(),
  invitation_ttl_days: Type.Integer(), system: Type.Boolean({ description: 'A survey Patron keeps itself (the case follow-up).' }),
  definition: DefinitionSchema,
  published_at: Nullable(Timestamp()), closed_at: Nullable(Timestamp()), created_at: Timestamp(), updated_at: Timestamp(),
}, { $id: 'Survey' });

export const SurveyVersion = Type.Object({ survey_id: Uuid(), version: Type.Integer(), definition: DefinitionSchema, created_at: Timestamp() }, { $id: 'SurveyVersion' });
export const VersionParams = Obj({ id: Uuid(), version: Type.Integer({ minimum: 1, maximum: 1_000_000 }) });

export const ListSurveysQuery = Obj({
  status: Type.Optional(StringEnum(['draft', 'live', 'closed'] as const)),
  touchpoint: Type.Optional(Touchpoint),
  ...PageQuery,
});

export const SurveyLinks = Type.Object({
  public_url: Type.String({ description: 'The anonymous public link (answers only while public_link is on and the survey is live).' }),
  embed_url: Type.String({ description: 'The public link with ?embed=1 (a page without chrome, for an iframe).' }),
  embed_snippet: Type.String({ description: 'An iframe to paste into a page (title attribute, lazy loading).' }),
  public_link_enabled: Type.Boolean(),
});

export const SettingsBody = Obj({
  min_days_between_invitations: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650, description: 'No member is invited more often than this, across all surveys (default 30).' })),
  edit_window_minutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10080, description: 'Minutes a member may change an answer given through an invitation (default 30).' })),
});
export type SettingsInput = Static<typeof SettingsBody>;
export const Settings = Type.Object({ min_days_between_invitations: Type.Integer(), edit_window_minutes: Type.Integer(), updated_at: Nullable(Timestamp()) }, { description: 'The link secret is never shown.' });

export const CreateInvitationBody = Obj({
  member_id: Type.Optional(Uuid({ description: 'The member (send this or member_external_id).' })),
  member_external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "The member by the shop's customer id." })),
}, { examples: [{ member_id: '0190f1c8-6f1e-7a59-9d3e-3f5d2b1c0a11' }] });
export type CreateInvitationInput = Static<typeof CreateInvitationBody>;

const INVITATION_STATUSES = ['scheduled', 'pending', 'responded', 'expired', 'skipped'] as const;
export const Invitation = Type.Object({
  id: Uuid(), survey_id: Uuid(), member_id: Uuid(),
  trigger: StringEnum(['api', 'after_purchase', 'after_case_closed', 'relationship'] as const),
  source: Nullable(Type.Object({ type: StringEnum(['transaction', 'case'] as const), id: Type.String() })),
  status: StringEnum(INVITATION_STATUSES, { description: 'scheduled (to be sent at send_at), pending (sent, not answered), responded, expired, skipped (see skip_reason).' }),
  skip_reason: Nullable(Type.String({ description: 'throttled, member_inactive, survey_not_live, member_erased.' })),
  send_at: Timestamp(), sent_at: Nullable(Timestamp()), expires_at: Nullable(Timestamp()), responded_at: Nullable(Timestamp()), created_at: Timestamp(),
  url: Nullable(Type.String({ description: 'The signed link to the survey page (once sent). Whoever holds it can answer as the member, so it is shown only to keys with the write or admin scope: null for a read key.' })),
}, { $id: 'SurveyInvitation' });

export const ListInvitationsQuery = Obj({
  survey_id: Type.Optional(Uuid()), member_id: Type.Optional(Uuid()), status: Type.Optional(StringEnum(INVITATION_STATUSES)), ...PageQuery,
});

const AnswerValue = Type.Union([Type.Integer(), Type.String({ minLength: 1, maxLength: DEFINITION_LIMITS.textAnswer }), Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: DEFINITION_LIMITS.options })]);
export const Answers = Type.Record(Type.String({ maxLength: 60 }), AnswerValue, {
  description: 'Answers by question key: a number for scales, an option key (single_choice), option keys (multiple_choice), text. Blocks: `<key>.<item>` (e.g. `csi.rebuy`).',
});

export const CreateResponseBody = Obj({
  invitation_id: Type.Optional(Uuid({
    description: 'Answer an invitation from your own app or email (as its link would): the member is the invitation\'s (send no member_id or member_external_id), the invitation becomes responded, the reward is once per invitation. Unknown: 404; expired (or its member erased or blocked): 410; answered and past the edit window: 409; within the edit window the answers are replaced (the same response).',
  })),
  member_id: Type.Optional(Uuid({ description: 'The member who answered, if known (send this or member_external_id).' })),
  member_external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  language: Language,
  answers: Answers,
  metadata: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { description: 'Context (store, device, order id), as given; at most 4 KB.' })),
}, { examples: [{ member_external_id: 'cust-42', language: 'en', answers: { nps: 9 }, metadata: { store: 'sofia-1', device: 'tablet-3' } }] });
export type CreateResponseInput = Static<typeof CreateResponseBody>;

const StoredAnswerSchema = Type.Object({
  question_key: Type.String(), question_type: StringEnum(QUESTION_TYPES), scale_min: Nullable(Type.Integer()), scale_max: Nullable(Type.Integer()),
  value_number: Nullable(Type.Integer()), value_text: Nullable(Type.String()), value_choices: Nullable(Type.Array(Type.String())),
  band: Nullable(StringEnum(BAND_VALUES)),
});
export const SurveyResponse = Type.Object({
  id: Uuid(), survey_id: Uuid(), version: Type.Integer(), invitation_id: Nullable(Uuid()), member_id: Nullable(Uuid()),
  channel: StringEnum(['invitation', 'public_link', 'embed', 'api'] as const), language: Language, touchpoint: Touchpoint, tier_code: Nullable(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()), submitted_at: Timestamp(), updated_at: Timestamp(), editable_until: Timestamp(),
  answers: Type.Array(StoredAnswerSchema),
}, { $id: 'SurveyResponse' });

export const ListResponsesQuery = Obj({ ...PageQuery });
