/** The sender's pure parts: quiet hours in a time zone, how an SMTP failure counts, unsubscribe tokens. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { classify } from '../../platform/mail/mailer.js';
import { quietUntil } from './messaging.sender.js';
import { readUnsubscribeToken, signUnsubscribeToken, verifyUnsubscribeSignature } from './unsubscribe/unsubscribe.token.js';

describe('quiet hours', () => {
  const night = { start: '21:00', end: '09:00' };
  test('inside a period spanning midnight: until its end, that morning or the next', () => {
    assert.equal(quietUntil(new Date('2031-11-30T20:30:00Z'), 'Europe/Sofia', night)?.toISOString(), '2031-12-01T07:00:00.000Z');
    assert.equal(quietUntil(new Date('2031-12-01T02:00:00Z'), 'Europe/Sofia', night)?.toISOString(), '2031-12-01T07:00:00.000Z');
    assert.equal(quietUntil(new Date('2031-12-01T06:59:59Z'), 'Europe/Sofia', night)?.toISOString(), '2031-12-01T07:00:00.000Z');
  });
  test('outside: null (the end is exclusive, the start inclusive)', () => {
    assert.equal(quietUntil(new Date('2031-12-01T07:00:00Z'), 'Europe/Sofia', night), null);
    assert.equal(quietUntil(new Date('2031-11-30T18:59:59Z'), 'Europe/Sofia', night), null);
    assert.notEqual(quietUntil(new Date('2031-11-30T19:00:00Z'), 'Europe/Sofia', night), null);
  });
  test('a period within one day', () => {
    const lunch = { start: '12:00', end: '14:00' };
    assert.equal(quietUntil(new Date('2031-06-01T12:30:00Z'), 'UTC', lunch)?.toISOString(), '2031-06-01T14:00:00.000Z');
    assert.equal(quietUntil(new Date('2031-06-01T14:30:00Z'), 'UTC', lunch), null);
  });
  test('across a daylight saving change the end is local 09:00 of the new offset', () => {
    // Europe/Warsaw moves from UTC+1 to UTC+2 on 2031-03-30 at 02:00.
    assert.equal(quietUntil(new Date('2031-03-29T22:00:00Z'), 'Europe/Warsaw', night)?.toISOString(), '2031-03-30T07:00:00.000Z');
  });
});

describe('SMTP failures', () => {
  const err = (command: string, response?: string) =>
    Object.assign(new Error('x'), { command, response, responseCode: response ? Number(response.slice(0, 3)) : undefined });
  const failure = (command: string, response?: string) => classify(err(command, response)).failure;
  test('only a mailbox or domain that does not exist is a hard bounce: 5.1.x and 5.2.1 to RCPT TO', () => {
    assert.equal(failure('RCPT TO', '550 5.1.1 No such user here'), 'hard_bounce');
    assert.equal(failure('RCPT TO', '550-5.1.1 The email account that you tried to reach does not exist.'), 'hard_bounce');
    assert.equal(failure('RCPT TO', '553 5.1.3 Bad recipient address syntax'), 'hard_bounce');
    assert.equal(failure('RCPT TO', '550 5.1.10 Recipient address rejected: domain not found'), 'hard_bounce');
    assert.equal(failure('RCPT TO', '550 5.2.1 Mailbox disabled'), 'hard_bounce');
    assert.equal(classify(err('RCPT TO', '550 5.1.1 No such user here')).code, 550);
  });
  test('a plain 550/551/553 to RCPT TO without an enhanced code is a hard bounce unless it speaks of policy', () => {
    assert.equal(failure('RCPT TO', '550 Requested action not taken: mailbox unavailable'), 'hard_bounce');
    assert.equal(failure('RCPT TO', '551 User not local'), 'hard_bounce');
    assert.equal(failure('RCPT TO', '550 Relaying denied'), 'rejected');
    assert.equal(failure('RCPT TO', '550 Blocked by Spamhaus RBL'), 'rejected');
    assert.equal(failure('RCPT TO', '554 Transaction failed'), 'rejected');
  });
  test('policy (5.7.x), other 5xx to RCPT TO and any 5xx to DATA are refused without being a bounce', () => {
    assert.equal(failure('RCPT TO', '554 5.7.1 Client host blocked using zen.spamhaus.org'), 'rejected');
    assert.equal(failure('RCPT TO', '550 5.7.1 Relaying denied'), 'rejected');
    assert.equal(failure('RCPT TO', '550 5.7.26 Unauthenticated email is not accepted (DMARC)'), 'rejected');
    assert.equal(failure('RCPT TO', '552 5.2.2 Mailbox full'), 'rejected');
    assert.equal(failure('DATA', '554 5.7.1 Message rejected as spam'), 'rejected');
    assert.equal(failure('DATA', '550 5.1.1 No such user here'), 'rejected');
  });
  test('4xx, connection errors and a 5xx to the session are temporary', () => {
    assert.equal(failure('RCPT TO', '451 4.2.0 Try again later'), 'temporary');
    assert.equal(failure('AUTH PLAIN', '535 5.7.8 Authentication credentials invalid'), 'temporary');
    assert.equal(failure('MAIL FROM', '553 5.1.8 Sender address rejected'), 'temporary');
    assert.equal(classify(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNECTION', command: 'CONN' })).failure, 'temporary');
  });
});

describe('unsubscribe tokens', () => {
  const secret = crypto.randomBytes(32);
  const claims = { tenantId: crypto.randomUUID(), memberId: crypto.randomUUID(), channel: 'sms' as const };
  test('round trip; the same claims give the same token', () => {
    const token = signUnsubscribeToken(secret, claims);
    assert.equal(token, signUnsubscribeToken(secret, claims));
    const read = readUnsubscribeToken(token)!;
    assert.deepEqual({ tenantId: read.tenantId, memberId: read.memberId, channel: read.channel }, claims);
    assert.equal(verifyUnsubscribeSignature(secret, read.payload, read.signature), true);
  });
  test('another channel, member or secret does not verify', () => {
    const token = signUnsubscribeToken(secret, claims);
    const [payload, sig] = token.split('.') as [string, string];
    const bytes = Buffer.from(payload, 'base64url');
    bytes[32] = 0; // email instead of sms
    const forged = readUnsubscribeToken(`${bytes.toString('base64url')}.${sig}`)!;
    assert.equal(forged.channel, 'email');
    assert.equal(verifyUnsubscribeSignature(secret, forged.payload, forged.signature), false);
    const read = readUnsubscribeToken(token)!;
    assert.equal(verifyUnsubscribeSignature(crypto.randomBytes(32), read.payload, read.signature), false);
    assert.equal(readUnsubscribeToken('garbage'), null);
    assert.equal(readUnsubscribeToken(`${payload}.${sig}x`), null);
  });
});
