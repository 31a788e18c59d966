/**
 * The verification code of docs/webhooks.md, run as written: the TypeScript (node:crypto) and Python (stdlib)
 * snippets are taken from between their markers in the page and checked against real signed deliveries sent to a
 * loopback receiver, so the page and the signing cannot drift apart. On the real clock: the snippets check the
 * timestamp against the wall clock.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { startReceiver, type Received, type Receiver } from '../../../test/receiver.js';
import { LOCALES } from '../../platform/http/schema.js';
import { defaultTemplate } from '../messaging/templates/templates.defaults.js';
import { newSecret } from './webhooks.signing.js';

const DOC = path.resolve(import.meta.dirname, '../../../docs/webhooks.md');

function snippet(name: string, lang: string): string {
  const doc = fs.readFileSync(DOC, 'utf8');
  const m = new RegExp(`<!-- verify-${name}:start -->\\s*\`\`\`${lang}\\n([\\s\\S]*?)\`\`\`\\s*<!-- verify-${name}:end -->`).exec(doc);
  assert.ok(m, `docs/webhooks.md has a ${lang} block between <!-- verify-${name}:start --> and <!-- verify-${name}:end -->`);
  return m[1]!;
}

let app: TestApp;
let rx: Receiver;
let t: TestTenant;
let secret: string;
let signed: Received;
let rotated: { previous: string; next: string; request: Received };
let dir: string;

before(async () => {
  app = await startTestApp();
  rx = await startReceiver();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patron-webhooks-doc-'));
  t = await app.newTenant();
  const ep = await t.api('POST', '/v1/webhooks/endpoints', { body: { url: rx.url, event_types: ['*'] } });
  assert.equal(ep.status, 201, ep.text);
  secret = ep.body.secret;
  const m = await t.api('POST', '/v1/members', { body: { first_name: 'Ana' } });
  await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
  await app.patron.jobs.runNow('webhooks.deliver', { tenant_id: t.id });
  signed = (await rx.waitFor(1, (r) => r.json?.type === 'member.created' && r.json.data.member_id === m.body.id))[0]!;
  // During a rotation's overlap: two signatures.
  const rot = await t.api('POST', `/v1/webhooks/endpoints/${ep.body.id}/rotate-secret`, { body: { overlap_hours: 1 } });
  assert.equal(rot.status, 200, rot.text);
  const m2 = await t.api('POST', '/v1/members', { body: { first_name: 'Boris' } });
  await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
  await app.patron.jobs.runNow('webhooks.deliver', { tenant_id: t.id });
  const [request] = await rx.waitFor(1, (r) => r.json?.type === 'member.created' && r.json.data.member_id === m2.body.id);
  rotated = { previous: secret, next: rot.body.secret, request: request! };
  assert.equal(request!.headers['webhook-signature']!.split(' ').length, 2);
});
after(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await rx.close();
  await app.close();
});

test('the TypeScript (node:crypto) verification of the docs verifies a real delivery, and refuses a wrong secret or body', async () => {
  const file = path.join(dir, 'verify.ts');
  fs.writeFileSync(file, snippet('typescript', 'ts'));
  const { verifyPatronWebhook } = (await import(pathToFileURL(file).href)) as { verifyPatronWebhook: (s: string, h: Record<string, string | undefined>, b: string) => unknown };
  assert.deepEqual(verifyPatronWebhook(secret, signed.headers, signed.body), JSON.parse(signed.body));
  assert.throws(() => verifyPatronWebhook(newSecret(), signed.headers, signed.body), /no matching signature/);
  assert.throws(() => verifyPatronWebhook(secret, signed.headers, signed.body.replace('Ana', 'Eve').replace('member.created', 'member.updated')), /no matching signature/);
  assert.throws(() => verifyPatronWebhook(secret, { ...signed.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600) }, signed.body), /tolerance/);
  // Either secret of a rotation verifies while both sign.
  verifyPatronWebhook(rotated.previous, rotated.request.headers, rotated.request.body);
  verifyPatronWebhook(rotated.next, rotated.request.headers, rotated.request.body);
});

const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const noPython = python.error || python.status !== 0 ? 'python3 is not installed: the Python snippet of docs/webhooks.md was not run' : false;

test('the Python (stdlib) verification of the docs verifies a real delivery, and refuses a wrong secret or body', { skip: noPython }, () => {
  const driver = `
import sys
request = json.loads(sys.stdin.read())
try:
    event = verify_patron_webhook(request["secret"], request["headers"], request["body"].encode("utf-8"))
except ValueError as err:
    print("refused: " + str(err))
    sys.exit(3)
print(json.dumps(event))
`;
  const program = `${snippet('python', 'python')}\n${driver}`;
  const run = (s: string, r: Pick<Received, 'headers' | 'body'>) => spawnSync('python3', ['-c', program], { input: JSON.stringify({ secret: s, headers: r.headers, body: r.body }), encoding: 'utf8' });

  const ok = run(secret, signed);
  assert.equal(ok.status, 0, ok.stderr + ok.stdout);
  assert.deepEqual(JSON.parse(ok.stdout), JSON.parse(signed.body));
  const wrong = run(newSecret(), signed);
  assert.equal(wrong.status, 3, wrong.stderr);
  assert.match(wrong.stdout, /no matching signature/);
  const tampered = run(secret, { ...signed, body: signed.body.replace('member.created', 'member.updated') });
  assert.equal(tampered.status, 3, tampered.stderr);
  for (const s of [rotated.previous, rotated.next]) {
    const both = run(s, rotated.request);
    assert.equal(both.status, 0, both.stderr + both.stdout);
  }
});

test('the email about a disabled endpoint tells, in every language, to replay with status "missed" after re-enabling', () => {
  for (const locale of LOCALES) {
    const text = JSON.stringify(defaultTemplate('webhook_endpoint_disabled', locale));
    assert.match(text, /\\"missed\\"/, locale);
    // The fan-out makes no delivery for a disabled endpoint: nothing it missed is "in the delivery log".
    assert.doesNotMatch(text, /stay in the delivery log|остават в журнала|pozostają w dzienniku|rămân în jurnalul|сохранены в журнале/, locale);
  }
});
