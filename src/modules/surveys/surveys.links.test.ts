/** Signed invitation tokens and the embed snippet, as pure functions. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { embedSnippet, readInvitationToken, signInvitationToken, verifySignature } from './surveys.links.js';

const secret = crypto.randomBytes(32);
const claims = { tenantId: crypto.randomUUID(), invitationId: crypto.randomUUID(), expiresAt: new Date('2031-05-08T10:00:00Z') };

test('a token carries tenant, invitation and expiry, base64url, and verifies only with its secret', () => {
  const token = signInvitationToken(secret, claims);
  assert.match(token, /^[A-Za-z0-9_-]{48}\.[A-Za-z0-9_-]{43}$/);
  assert.equal(signInvitationToken(secret, claims), token, 'the same invitation always gets the same link');
  const read = readInvitationToken(token)!;
  assert.deepEqual([read.tenantId, read.invitationId, read.expiresAt.toISOString()], [claims.tenantId, claims.invitationId, claims.expiresAt.toISOString()]);
  assert.equal(verifySignature(secret, read.payload, read.signature), true);
  assert.equal(verifySignature(crypto.randomBytes(32), read.payload, read.signature), false);
  // Any changed byte of the payload (a later expiry, another invitation) breaks the signature.
  for (const i of [0, 20, 35]) {
    const p = Buffer.from(read.payload);
    p[i] = p[i]! ^ 0x01;
    assert.equal(verifySignature(secret, p, read.signature), false, `byte ${i}`);
  }
  assert.equal(readInvitationToken(`${token}x`), null);
  assert.equal(readInvitationToken('../../etc/passwd'), null);
});

test('the embed snippet: ?embed=1, an escaped title, lazy loading', () => {
  const html = embedSnippet('https://loyalty.example.com/s/p/t/s', 'Tell us "how" <b>');
  assert.equal(html.startsWith('<iframe src="https://loyalty.example.com/s/p/t/s?embed=1" title="Tell us &quot;how&quot; &lt;b&gt;" loading="lazy"'), true, html);
});
