/**
 * Addresses Patron must not email (docs/messaging.md#suppressions-and-bounces): hard bounces (found by the sender or
 * reported by the provider's webhook), complaints, and addresses added by hand. A suppressed address receives
 * nothing, transactional messages included: a mailbox that does not exist cannot receive a voucher code either,
 * and sending to it again harms the sender's reputation.
 *
 * Addresses are kept lower-cased. The events carry the SHA-256 of the address, never the address itself: the outbox
 * is kept for good and is not erased with a member, and a hash is enough for a provider or CRM to keep its own list
 * in step (it hashes the addresses it has). The aggregate id is the same hash.
 */
import crypto from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { Queryable } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import { isUuid } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import { messageEventPayload } from './messaging.service.js';
import * as store from './messaging.store.js';

export type SuppressionReason = store.SuppressionRow['reason'];
export type SuppressionView = store.SuppressionRow;

export const normaliseEmail = (email: string) => email.trim().toLowerCase();
/** The SHA-256 (hex) of the normalised address: what events carry instead of the address. */
export const emailSha256 = (email: string) => crypto.createHash('sha256').update(normaliseEmail(email)).digest('hex');

/** An error text for an event (kept for good): SMTP replies and provider details often repeat the address. */
export function withoutAddress(text: string | null, address: string | null): string | null {
  if (text === null || !address) return text;
  return text.replace(new RegExp(address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '[recipient]');
}

export interface BounceReport {
  email: string;
  type: 'hard' | 'soft' | 'complaint';
  message_id?: string;
  detail?: string;
}

export interface BounceResult {
  email: string;
  type: BounceReport['type'];
  /** Whether the address is now on the suppression list (hard bounces and complaints). */
  suppressed: boolean;
  message: { id: string; status: store.MessageRow['status'] } | null;
}

export class SuppressionsService {
  constructor(private readonly clock: Clock) {}

  async isSuppressed(q: Queryable, tenantId: string, email: string): Promise<boolean> {
    return (await store.getSuppression(q, tenantId, normaliseEmail(email))) !== null;
  }

  list(q: Queryable, tenantId: string, f: { reason?: string | undefined; afterEmail?: string | undefined; limit: number }) {
    return store.listSuppressions(q, tenantId, f);
  }

  /** Adds the address (idempotent: an address already listed keeps its first reason). */
  async add(tx: Queryable, tenantId: string, input: { email: string; reason: SuppressionReason; detail?: string | null }): Promise<{ row: SuppressionView; created: boolean }> {
    const email = normaliseEmail(input.email);
    const now = this.clock.now();
    const result = await store.insertSuppression(tx, tenantId, { email, reason: input.reason, detail: input.detail ?? null, created_at: now });
    if (result.created) {
      await emit(tx, {
        tenantId, type: 'email_suppression.added', aggregateType: 'email_suppression', aggregateId: emailSha256(email),
        payload: { email_sha256: emailSha256(email), reason: input.reason }, occurredAt: now,
      });
    }
    return result;
  }

  async remove(tx: Queryable, tenantId: string, email: string): Promise<SuppressionView> {
    const normal = normaliseEmail(email);
    const removed = await store.deleteSuppression(tx, tenantId, normal);
    if (!removed) throw errors.notFound('suppressed address', email);
    await emit(tx, {
      tenantId, type: 'email_suppression.removed', aggregateType: 'email_suppression', aggregateId: emailSha256(normal),
      payload: { email_sha256: emailSha256(normal), reason: removed.reason }, occurredAt: this.clock.now(),
    });
    return removed;
  }

  /**
   * A bounce or complaint reported by the mail provider. Hard bounces and complaints suppress the address and, when
   * the message is named, mark it bounced (once; `message.bounced`). A soft bounce changes nothing: the provider
   * retries it, and a message Patron sends later is tried again.
   */
  async reportBounce(tx: Queryable, tenantId: string, report: BounceReport): Promise<BounceResult> {
    const email = normaliseEmail(report.email);
    let message: store.MessageRow | null = null;
    if (report.message_id !== undefined) {
      message = isUuid(report.message_id) ? await store.getMessage(tx, tenantId, report.message_id, true) : null;
      if (!message) throw errors.notFound('message', report.message_id);
      if (message.channel !== 'email') throw errors.unprocessable(`Message ${message.id} is not an email.`, [{ field: 'message_id', detail: 'is not an email' }]);
      if (message.to_address !== null && normaliseEmail(message.to_address) !== email) {
        throw errors.unprocessable(`Message ${message.id} was not sent to this address.`, [{ field: 'email', detail: 'is not the address the message was sent to' }]);
      }
    }
    if (report.type === 'soft') return { email, type: report.type, suppressed: await this.isSuppressed(tx, tenantId, email), message: message && { id: message.id, status: message.status } };
    const reason: SuppressionReason = report.type === 'hard' ? 'hard_bounce' : 'complaint';
    await this.add(tx, tenantId, { email, reason, detail: report.detail ?? null });
    if (message && message.status !== 'bounced') {
      const now = this.clock.now();
      message = await store.markBounced(tx, tenantId, message.id, reason, report.detail ?? null, now);
      await emit(tx, {
        tenantId, type: 'message.bounced', aggregateType: 'message', aggregateId: message.id, memberId: message.member_id,
        payload: messageEventPayload(message, { email_sha256: emailSha256(email), error: withoutAddress(report.detail ?? reason, email) }),
        occurredAt: now,
      });
    }
    return { email, type: report.type, suppressed: true, message: message && { id: message.id, status: message.status } };
  }
}
