/**
 * The messaging module (docs/messaging.md). `enqueue` records a message in the send log, idempotently per trigger
 * and dedupe key, in the caller's transaction; the sender (messaging.sender.ts) sends what is due.
 */
import type { Clock } from '../../platform/clock.js';
import type { Queryable } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import { isUuid, newId } from '../../platform/ids.js';
import type { MemberRow, MembersService } from '../members/members.service.js';
import type { TenantRow, TenantsService } from '../tenants/tenants.service.js';
import * as store from './messaging.store.js';
import { TRIGGER_CATEGORY, type EnqueueResult, type MessageChannel, type MessageRequest, type TemplateVariables } from './messaging.types.js';

export interface MessagingDeps {
  clock: Clock;
  members: MembersService;
  tenants: TenantsService;
}

/** A member's address on a channel: email or phone; push has none (the provider knows the member's devices). */
export function memberAddress(m: Pick<MemberRow, 'email' | 'phone'>, channel: MessageChannel): string | null {
  return channel === 'email' ? m.email : channel === 'sms' ? m.phone : null;
}

/** Whether a message on the channel can reach the member: an address on it, or push (which needs none). */
export const reachableOn = (m: Pick<MemberRow, 'email' | 'phone'>, channel: MessageChannel): boolean => channel === 'push' || Boolean(memberAddress(m, channel));

/** The payload every `message.*` outcome event starts with (the catalog's MESSAGE_OUTCOME), plus `extra`. */
export function messageEventPayload(m: store.MessageRow, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { message_id: m.id, trigger: m.trigger, channel: m.channel, member_id: m.member_id, dedupe_key: m.dedupe_key, ...extra };
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
   * address, quiet hours) is decided when it is sent, so a consent withdrawn meanwhile is respected; a member's
   * message goes to the member's address as it is then (to_address here is the address at enqueue, for the log).
   * `preloaded`: the member row and tenant the caller has already read in this transaction (a scheduled trigger
   * enqueues thousands a run), so they are not read again.
   */
  async enqueue(tx: Queryable, tenantId: string, req: MessageRequest, preloaded: { member?: MemberRow | null; tenant?: TenantRow | null } = {}): Promise<EnqueueResult> {
    const now = this.deps.clock.now();
    const channel: MessageChannel = req.channel ?? 'email';
    const tenant = preloaded.tenant?.id === tenantId ? preloaded.tenant : await this.deps.tenants.getTenant(tx, tenantId);
    if (!tenant) throw errors.notFound('tenant', tenantId);
    let locale = req.to?.locale ?? tenant.default_locale;
    let address: string | null = req.to?.address ?? null;
    let member: TemplateVariables['member'] = { first_name: null, last_name: null, name: '', email: address };
    if (req.memberId) {
      // The sender addresses a member's message to the member's current address: a `to` would be ignored.
      if (req.to) throw new Error(`messaging.enqueue(${req.trigger}): a member's message goes to the member's address; "to" is for someone who is not a member`);
      const m = preloaded.member?.id === req.memberId ? preloaded.member : await this.deps.members.find(tx, tenantId, { id: req.memberId });
      if (!m) throw errors.notFound('member', req.memberId);
      locale = m.locale;
      address = memberAddress(m, channel);
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

  /** One message of the send log; 404 for an unknown id (or another tenant's). */
  async getMessage(q: Queryable, tenantId: string, id: string): Promise<MessageView> {
    const row = isUuid(id) ? await store.getMessage(q, tenantId, id) : null;
    if (!row) throw errors.notFound('message', id);
    return messageView(row);
  }

  /** The send log, newest first. A member's log is a 404 for an unknown member. */
  async listMessages(q: Queryable, tenantId: string, filter: store.MessageFilter): Promise<MessageView[]> {
    if (filter.memberId !== undefined) await this.deps.members.findOr404(q, tenantId, filter.memberId);
    return (await store.listMessages(q, tenantId, filter)).map(messageView);
  }

  /** GDPR export: the member's messages (what was sent, when, to which address). */
  async exportMember(q: Queryable, tenantId: string, memberId: string, limit: number): Promise<MessageView[]> {
    return (await store.listMessages(q, tenantId, { memberId, limit })).map(messageView);
  }

  /**
   * GDPR erasure: the member's messages keep their trigger, status and times (the send log still adds up) but
   * lose the address, the variables, the subject and any error text. A message still queued is then suppressed by
   * the sender (member_erased).
   */
  async eraseMember(tx: Queryable, tenantId: string, memberId: string): Promise<void> {
    await store.scrubMemberMessages(tx, tenantId, memberId, this.deps.clock.now());
  }
}

/** A message as the API shows it (the send log): the row without its rendering variables and the sender's lease. */
export type MessageView = Omit<store.MessageRow, 'variables' | 'locked_until'>;

export function messageView(r: store.MessageRow): MessageView {
  return {
    id: r.id, member_id: r.member_id, trigger: r.trigger, dedupe_key: r.dedupe_key, category: r.category, channel: r.channel, locale: r.locale,
    to_address: r.to_address, status: r.status, status_reason: r.status_reason, subject: r.subject, attempts: r.attempts, send_after: r.send_after,
    provider_id: r.provider_id, error: r.error, offer: r.offer, created_at: r.created_at, updated_at: r.updated_at, sent_at: r.sent_at,
  };
}
