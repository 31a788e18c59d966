/**
 * Signed unsubscribe links, made like the surveys' invitation links (surveys.links.ts). A token is
 * `<payload>.<signature>`, both base64url: the payload is the tenant id and the member id (16 bytes each) and the
 * channel (1 byte); the signature is HMAC-SHA256 of the payload with the tenant's messaging_settings
 * unsubscribe_secret. The token names its tenant so that the secret can be found without a login. It does not
 * expire: an unsubscribe link in a years-old email must still work (and can do nothing but withdraw a consent).
 */
import crypto from 'node:crypto';
import { isUuid } from '../../../platform/ids.js';
import type { MessageChannel } from '../messaging.types.js';

const CHANNEL_CODES: MessageChannel[] = ['email', 'sms', 'push'];
const PAYLOAD_BYTES = 33;

const uuidBytes = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex');
const bytesUuid = (b: Buffer) => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const sign = (secret: Buffer, payload: Buffer) => crypto.createHmac('sha256', secret).update(payload).digest();

export interface UnsubscribeClaims {
  tenantId: string;
  memberId: string;
  channel: MessageChannel;
}

/** The same member and channel always give the same token. */
export function signUnsubscribeToken(secret: Buffer, c: UnsubscribeClaims): string {
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  uuidBytes(c.tenantId).copy(payload, 0);
  uuidBytes(c.memberId).copy(payload, 16);
  payload.writeUInt8(CHANNEL_CODES.indexOf(c.channel), 32);
  return `${payload.toString('base64url')}.${sign(secret, payload).toString('base64url')}`;
}

/** What a token claims, unverified (to find the tenant's secret); null when it is not a token at all. */
export function readUnsubscribeToken(token: string): (UnsubscribeClaims & { payload: Buffer; signature: Buffer }) | null {
  const m = /^([A-Za-z0-9_-]{44})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return null;
  const payload = Buffer.from(m[1]!, 'base64url');
  const signature = Buffer.from(m[2]!, 'base64url');
  if (payload.length !== PAYLOAD_BYTES || signature.length !== 32) return null;
  const tenantId = bytesUuid(payload.subarray(0, 16));
  const memberId = bytesUuid(payload.subarray(16, 32));
  const channel = CHANNEL_CODES[payload.readUInt8(32)];
  if (!isUuid(tenantId) || !isUuid(memberId) || !channel) return null;
  return { tenantId, memberId, channel, payload, signature };
}

/** Whether the signature is the tenant's, compared in constant time. */
export function verifyUnsubscribeSignature(secret: Buffer, payload: Buffer, signature: Buffer): boolean {
  const expected = sign(secret, payload);
  return expected.length === signature.length && crypto.timingSafeEqual(expected, signature);
}

export const unsubscribeUrl = (base: string, token: string) => `${base.replace(/\/+$/, '')}/u/${token}`;
