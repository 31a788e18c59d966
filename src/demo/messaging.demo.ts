/**
 * The demo's messaging (docs/messaging.md): the café turns on the marketing triggers a shop would start with — a
 * birthday treat of 200 points, the enrolment anniversary, "keep your tier" reminders and a win-back of the members
 * on the at-risk list (with a 10 % control group, so its lift can be measured) — next to the transactional ones that
 * are on by default. Only when the tenant has configured no trigger yet: a second start leaves them as they are.
 *
 * Nothing is sent by the demo itself. The hourly `messages.triggers` job and the event triggers queue messages from
 * now on; with SMTP_URL set they are emailed, without it the send log records them as failed (smtp_not_configured).
 * Events of the replayed history are too old to tell anyone about (EVENT_TRIGGER_MAX_AGE_MS).
 */
import type { Patron } from '../app.js';
import type { MemberTrigger } from '../modules/messaging/messaging.types.js';
import type { TriggerBody } from '../modules/messaging/triggers/triggers.settings.js';

export const DEMO_TRIGGERS: Partial<Record<MemberTrigger, TriggerBody>> = {
  birthday: { enabled: true, settings: { send_hour: 9 }, offer: { points: 200 } },
  anniversary: { enabled: true, settings: { send_hour: 10 } },
  tier_at_risk: { enabled: true, settings: { days_before: 21 } },
  win_back: { enabled: true, settings: { source: 'at_risk', control_percent: 10, repeat_after_days: 180 } },
};

export interface MessagingLoad {
  triggers: string[];
}

export async function ensureDemoMessaging(patron: Patron, tenantId: string): Promise<MessagingLoad | null> {
  const { triggers } = patron.services;
  if ((await triggers.list(patron.db, tenantId)).some((t) => t.customized)) return null;
  await patron.db.tx(async (tx) => {
    for (const [trigger, body] of Object.entries(DEMO_TRIGGERS)) await triggers.update(tx, tenantId, trigger as MemberTrigger, body, false);
  });
  return { triggers: Object.keys(DEMO_TRIGGERS) };
}
