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
  const err = (command: string, responseCode?: number) => Object.assign(new Error('x'), { command, responseCode, response: `${responseCode} refused` });
  test('a 5xx to RCPT TO or DATA is a hard bounce', () => {
    assert.equal(classify(err('RCPT TO', 550)).permanent, true);
    assert.equal(classify(err('DATA', 554)).permanent, true);
    assert.equal(classify(err('RCPT TO', 550)).code, 550);
  });
  test('4xx, connection errors and a 5xx to the session are temporary', () => {
    assert.equal(classify(err('RCPT TO', 451)).permanent, false);
    assert.equal(classify(err('AUTH PLAIN', 535)).permanent, false);
    assert.equal(classify(err('MAIL FROM', 553)).permanent, false);
    assert.equal(classify(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNECTION', command: 'CONN' })).permanent, false);
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
