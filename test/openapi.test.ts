/**
 * The OpenAPI document: generated from the route schemas, valid OpenAPI 3.1
 * by a standard validator, complete (every /v1 route, with its security), and
 * browsable at /docs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { call, startTestApp, type TestApp } from './helpers.js';

let app: TestApp;
let doc: any;
before(async () => {
  app = await startTestApp({ env: { PATRON_OPERATOR_KEY: 'operator_key_0123456789abcdef' } });
  const res = await call(app.url, 'GET', '/openapi.json');
  assert.equal(res.status, 200);
  doc = res.body;
});
after(() => app.close());

/** `/v1/members/:id/block` -> `/v1/members/{id}/block` */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('OpenAPI document', () => {
  test('is OpenAPI 3.1.0 and valid by @seriousme/openapi-schema-validator', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    assert.equal(result.valid, true, `OpenAPI validation errors: ${JSON.stringify(result.errors, null, 2)?.slice(0, 4000)}`);
    assert.equal(validator.version, '3.1');
  });

  test('the validator does reject a broken document (so the check above can fail)', async () => {
    const broken = structuredClone(doc);
    const [firstPath] = Object.keys(broken.paths);
    broken.paths[firstPath!] = { get: { responses: 'nothing' } };
    const result = await new Validator().validate(broken);
    assert.equal(result.valid, false);
  });

  test('every local $ref resolves', () => {
    const missing: string[] = [];
    const walk = (node: unknown) => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') {
          if (!v.startsWith('#/')) missing.push(`${v} (not a local reference)`);
          else {
            const target = v.slice(2).split('/').reduce<any>((o, part) => o?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
            if (target === undefined) missing.push(v);
          }
        } else walk(v);
      }
    };
    walk(doc);
    assert.deepEqual(missing, []);
  });

  test('every /v1 route appears with its method and the security its auth policy needs', () => {
    const routes = app.patron.http!.routeTable.filter((r) => r.url.startsWith('/v1/'));
    assert.ok(routes.length >= 10, `expected the whole API, got ${routes.length} routes`);
    const problems: string[] = [];
    for (const r of routes) {
      const op = doc.paths?.[openApiPath(r.url)]?.[r.method.toLowerCase()];
      if (!op) {
        problems.push(`${r.method} ${r.url}: missing`);
        continue;
      }
      if (!op.summary) problems.push(`${r.method} ${r.url}: no summary`);
      if (!op.responses || Object.keys(op.responses).length === 0) problems.push(`${r.method} ${r.url}: no responses`);
      const security = op.security ?? doc.security;
      const policy = r.policy;
      if (policy === 'public') {
        if (!Array.isArray(security) || security.length !== 0) problems.push(`${r.method} ${r.url}: public route documented with security ${JSON.stringify(security)}`);
      } else {
        if (!Array.isArray(security) || !security.some((s: any) => s && 'bearer' in s)) {
          problems.push(`${r.method} ${r.url}: needs a key (${policy}) but documents security ${JSON.stringify(security)}`);
        }
        if (!op.responses?.['401']) problems.push(`${r.method} ${r.url}: 401 not documented`);
      }
      // Path parameters are documented as such.
      for (const m of r.url.matchAll(/:([A-Za-z0-9_]+)/g)) {
        if (!(op.parameters ?? []).some((p: any) => p.in === 'path' && p.name === m[1])) problems.push(`${r.method} ${r.url}: path parameter ${m[1]} not documented`);
      }
    }
    assert.deepEqual(problems, []);
    assert.equal(doc.components?.securitySchemes?.bearer?.scheme, 'bearer');
  });

  test('the documented operations are exactly the registered ones (no stale paths)', () => {
    const registered = new Set(app.patron.http!.routeTable.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`));
    const stale: string[] = [];
    for (const [p, item] of Object.entries<any>(doc.paths ?? {})) {
      for (const method of Object.keys(item)) {
        if (['get', 'post', 'put', 'patch', 'delete'].includes(method) && !registered.has(`${method} ${p}`)) stale.push(`${method} ${p}`);
      }
    }
    assert.deepEqual(stale, []);
  });

  test('/docs is a browsable HTML page', async () => {
    const res = await call(app.url, 'GET', '/docs');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(res.text, /<html/i);
    assert.match(res.text, /swagger/i);
  });
});
