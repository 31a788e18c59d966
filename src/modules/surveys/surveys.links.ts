/**
 * Signed invitation links. A token is `<payload>.<signature>`, both base64url: the payload is the tenant id and the
 * invitation id (16 bytes each) and the expiry (unix seconds, 4 bytes); the signature is HMAC-SHA256 of the payload
 * with the tenant's survey_settings.link_secret. The token names its tenant so that the secret can be found
 * without a login; it holds nothing a member should not see.
 */
import crypto from 'node:crypto';
import { isUuid } from '../../platform/ids.js';
import { esc } from './html.js';

const PAYLOAD_BYTES = 36;

const uuidBytes = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex');
const bytesUuid = (b: Buffer) => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export interface LinkClaims {
  tenantId: string;
  invitationId: string;
  expiresAt: Date;
}

const sign = (secret: Buffer, payload: Buffer) => crypto.createHmac('sha256', secret).update(payload).digest();

/** The token of an invitation: the same invitation and expiry always give the same token (lists can show it). */
export function signInvitationToken(secret: Buffer, c: LinkClaims): string {
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  uuidBytes(c.tenantId).copy(payload, 0);
  uuidBytes(c.invitationId).copy(payload, 16);
  payload.writeUInt32BE(Math.ceil(c.expiresAt.getTime() / 1000), 32);
  return `${payload.toString('base64url')}.${sign(secret, payload).toString('base64url')}`;
}

/** The claims a token states, unverified (to find the tenant's secret); null when it is not a token at all. */
export function readInvitationToken(token: string): (LinkClaims & { payload: Buffer; signature: Buffer }) | null {
  const m = /^([A-Za-z0-9_-]{48})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return null;
  const payload = Buffer.from(m[1]!, 'base64url');
  const signature = Buffer.from(m[2]!, 'base64url');
  if (payload.length !== PAYLOAD_BYTES || signature.length !== 32) return null;
  const tenantId = bytesUuid(payload.subarray(0, 16));
  const invitationId = bytesUuid(payload.subarray(16, 32));
  if (!isUuid(tenantId) || !isUuid(invitationId)) return null;
  return { tenantId, invitationId, expiresAt: new Date(payload.readUInt32BE(32) * 1000), payload, signature };
}

/** Whether the signature is the tenant's, compared in constant time. */
export function verifySignature(secret: Buffer, payload: Buffer, signature: Buffer): boolean {
  const expected = sign(secret, payload);
  return expected.length === signature.length && crypto.timingSafeEqual(expected, signature);
}

export const invitationUrl = (base: string, token: string) => `${base}/s/${token}`;
export const publicSurveyUrl = (base: string, tenantId: string, surveyId: string) => `${base}/s/p/${tenantId}/${surveyId}`;

/** The iframe that embeds a survey page in a shop's site (lazy: it loads when scrolled to). */
export function embedSnippet(url: string, title: string): string {
  const src = `${url}${url.includes('?') ? '&' : '?'}embed=1`;
  return `<iframe src="${esc(src)}" title="${esc(title)}" loading="lazy" width="100%" height="600" style="border:0;max-width:640px"></iframe>`;
}
