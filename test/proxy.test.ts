/**
 * Behind a load balancer every request comes from the proxy's address. With TRUST_PROXY naming the proxy, the
 * per-client limit of the public survey pages counts each respondent (X-Forwarded-For) on their own; without it,
 * a forwarded address is not believed (anyone could send one).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers.js';

async function publicSurvey(app: TestApp): Promise<string> {
  const t = await app.newTenant();
  const made = await t.api('POST', '/v1/surveys', { body: { name: 'Proxy', touchpoint: 'custom', public_link: true, definition: { questions: [{ key: 'nps', type: 'nps' }] } } });
  assert.equal(made.status, 201, made.text);
  assert.equal((await t.api('POST', `/v1/surveys/${made.body.id}/publish`)).status, 200);
  return `${app.url}/s/p/${t.id}/${made.body.id}`;
}

const answer = (url: string, from: string) =>
  fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from }, body: 'nps=9' });

describe('TRUST_PROXY and the survey pages\' per-client limit', () => {
  let trusted: TestApp;
  let untrusted: TestApp;
  before(async () => {
    const env = { RATE_LIMIT_ENABLED: 'true', SURVEY_PAGE_RATE_LIMIT_MAX: '1' };
    trusted = await startTestApp({ env: { ...env, TRUST_PROXY: '127.0.0.1' } });
    untrusted = await startTestApp({ env });
  });
  after(async () => {
    await trusted?.close();
    await untrusted?.close();
  });

  test('behind a trusted proxy each client has its own limit', async () => {
    const url = await publicSurvey(trusted);
    assert.equal((await answer(url, '203.0.113.7')).status, 303);
    assert.equal((await answer(url, '203.0.113.7')).status, 429, 'the same client again');
    assert.equal((await answer(url, '198.51.100.20')).status, 303, 'another client behind the same proxy');
  });

  test('without TRUST_PROXY a forwarded address is not believed', async () => {
    const url = await publicSurvey(untrusted);
    assert.equal((await answer(url, '203.0.113.7')).status, 303);
    assert.equal((await answer(url, '198.51.100.20')).status, 429, 'both count as the loopback client');
  });
});
