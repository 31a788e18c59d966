/**
 * The messaging module (docs/messaging.md). `enqueue` records a message in the send log, idempotently per trigger
 * and dedupe key, in the caller's transaction; the sender (messaging.sender.ts) sends what is due.
 */
import type { Clock } from '../../platform/clock.js';
import type { Queryable } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { MembersService } from '../members/members.service.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import * as store from './messaging.store.js';
import { TRIGGER_CATEGORY, type EnqueueResult, type MessageChannel, type MessageRequest, type TemplateVariables } from './messaging.types.js';

export interface MessagingDeps {
  clock: Clock;
  members: MembersService;
  tenants: TenantsService;
}

/** The name a message greets the member by: first name, else full name, else nothing personal. */
export function displayName(m: { first_name: string | null; last_name: string | null }): string {
  return m.first_name?.trim() || [m.first_name, m.last_name].filter(Boolean).join(' ').trim() || '';
}

export class MessagingService {
  constructor(private readonly deps: MessagingDeps) {}

  /**
   * Queues a message (or records it as held out, `control`). Idempotent: a second request with the same trigger
   * and dedupe key returns the first message and changes nothing. Whether it may be sent (consent, suppressed
   * address, quiet hours) is decided when it is sent, so a consent withdrawn meanwhile is respected.
   */
  async enqueue(tx: Queryable, tenantId: string, req: MessageRequest): Promise<EnqueueResult> {
    const now = this.deps.clock.now();
    const channel: MessageChannel = req.channel ?? 'email';
    const tenant = await this.deps.tenants.getTenant(tx, tenantId);
    if (!tenant) throw errors.notFound('tenant', tenantId);
    let locale = req.to?.locale ?? tenant.default_locale;
    let address: string | null = req.to?.address ?? null;
    let member: TemplateVariables['member'] = { first_name: null, last_name: null, name: '', email: address };
    if (req.memberId) {
      const m = await this.deps.members.find(tx, tenantId, { id: req.memberId });
      if (!m) throw errors.notFound('member', req.memberId);
      if (!req.to) {
        locale = m.locale;
        address = channel === 'email' ? m.email : channel === 'sms' ? m.phone : null;
      }
      member = { first_name: m.first_name, last_name: m.last_name, name: displayName(m), email: m.email };
    } else if (!req.to) {
      throw new Error(`messaging.enqueue(${req.trigger}): a message without a member needs "to"`);
    }
    const variables = { ...req.variables, member, program: { name: tenant.name } };
    const { row, created } = await store.insertMessage(tx, tenantId, {
      id: newId(),
      member_id: req.memberId,
      trigger: req.trigger,
      dedupe_key: req.dedupeKey,
      category: TRIGGER_CATEGORY[req.trigger],
      channel,
      locale: locale as store.MessageRow['locale'],
      to_address: address,
      variables,
      status: req.control ? 'control' : 'queued',
      status_reason: req.control ? 'control_group' : null,
      send_after: req.sendAfter ?? now,
      offer: req.offer ?? null,
      created_at: now,
    });
    return { id: row.id, created, status: row.status };
  }
}
