/**
 * Private addresses (docs/webhooks.md, "Private networks"): the address table, and an attempt against a real
 * receiver on loopback, refused by literal address and by name (the name is resolved by our lookup at connect time,
 * so what is checked is what is connected to). No database.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startReceiver, type Receiver } from '../../../test/receiver.js';
import { isPrivateAddress, publicOnlyLookup } from './webhooks.addresses.js';
import { postWebhook } from './webhooks.delivery.js';

let rx: Receiver;
before(async () => {
  rx = await startReceiver();
});
after(async () => {
  await rx.close();
});

test('loopback, private, link-local, CGNAT, unique-local and metadata addresses are private; public ones are not', () => {
  const blocked = [
    '127.0.0.1', '127.8.9.10', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
    '100.100.100.200', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '64:ff9b::a00:1', '[::1]',
  ];
  for (const ip of blocked) assert.equal(isPrivateAddress(ip), true, ip);
  for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPrivateAddress(ip), false, ip);
});

test('the lookup refuses a name that resolves to a private address', async () => {
  const err = await new Promise<Error | null>((resolve) => publicOnlyLookup('localhost', {}, (e) => resolve(e)));
  assert.match(String(err?.message), /refused: localhost is .*private/);
});

test('an attempt to a private address is refused before anything is sent, by address and by name; allowed, it goes', async () => {
  const port = new URL(rx.url).port;
  for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`]) {
    const r = await postWebhook(url, { 'content-type': 'application/json' }, '{}', 2000, { allowPrivateNetworks: false });
    assert.equal(r.statusCode, null, url);
    assert.match(r.error ?? '', /refused: .*private or local address \(set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true/, url);
  }
  assert.equal(rx.requests.length, 0, 'the receiver heard nothing');
  const ok = await postWebhook(`http://localhost:${port}/`, { 'content-type': 'application/json' }, '{}', 2000, { allowPrivateNetworks: true });
  assert.deepEqual([ok.statusCode, ok.error, ok.responseBody], [200, null, 'answer 200']);
  assert.equal(rx.requests.length, 1);
});
