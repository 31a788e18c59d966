/**
 * What a webhook request carries (Standard Webhooks, docs/webhooks.md): the body built from the stored event, and the
 * `webhook-id`, `webhook-timestamp` and `webhook-signature` headers, signed with the official `standardwebhooks`
 * package so that receivers using it (or any conforming library) verify what Patron sends.
 */
import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { StoredEvent } from '../../platform/outbox/outbox.js';

/** A new signing secret: `whsec_` and the base64 of 32 random bytes (the Standard Webhooks form). */
export function newSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64')}`;
}

/**
 * The request body of an event. Built only from the stored event (never from "now"), with the keys in a fixed order,
 * so every attempt and every replay of an event sends the same bytes. The payload is nested under `data.payload`
 * rather than spread into `data`, so a payload field can never shadow `id`, `aggregate_type` … (docs/webhooks.md).
 */
export function eventBody(event: Pick<StoredEvent, 'id' | 'type' | 'aggregate_type' | 'aggregate_id' | 'member_id' | 'payload' | 'occurred_at'>): string {
  return JSON.stringify({
    type: event.type,
    timestamp: new Date(event.occurred_at).toISOString(),
    data: {
      id: event.id,
      aggregate_type: event.aggregate_type,
      aggregate_id: event.aggregate_id,
      member_id: event.member_id,
      payload: event.payload,
    },
  });
}

/**
 * The signature header: one `v1,<base64>` per secret, separated by spaces. During a rotation's overlap both the new
 * and the previous secret sign, so a receiver still holding the previous secret keeps verifying.
 */
export function signatureHeader(secrets: readonly string[], msgId: string, at: Date, body: string): string {
  if (secrets.length === 0) throw new Error('An endpoint without a signing secret cannot be sent to');
  return secrets.map((s) => new Webhook(s).sign(msgId, at, body)).join(' ');
}

/** The headers of one attempt; `msgId` is the event id, the same on every attempt and replay (receivers dedupe on it). */
export function webhookHeaders(secrets: readonly string[], msgId: string, at: Date, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Patron-Webhooks/1',
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatureHeader(secrets, msgId, at, body),
  };
}
