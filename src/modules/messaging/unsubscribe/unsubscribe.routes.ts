/**
 * The public unsubscribe link (no key): `GET /u/:token` shows what will happen, with a button; `POST /u/:token`
 * withdraws the consent — the page's button, and RFC 8058 one-click unsubscribe, which a mail client sends as
 * `List-Unsubscribe=One-Click` (form-encoded) to the URL of the List-Unsubscribe header. Any form POST to a valid
 * token unsubscribes, whatever its fields: the token is the authority, and some clients send the body as multipart.
 *
 * HTML pages, not API: hidden from the OpenAPI document; an invalid token is a 404 page. No caching, no referrer
 * (the URL holds the token), never framed.
 */
import crypto from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../../platform/errors.js';
import { LOCALES } from '../../../platform/http/schema.js';
import type { HttpServer } from '../../../platform/http/server.js';
import type { Locale } from '../messaging.types.js';
import { renderUnsubscribePage, type UnsubscribePageInput } from './unsubscribe.page.js';
import type { UnsubscribeLinks } from './unsubscribe.js';

const FORM_LIMIT = 16 * 1024;
const TokenParams = Type.Object({ token: Type.String({ maxLength: 200 }) });
const hidden = { hide: true };
// The form as it arrives (read as text and not needed: the token alone decides).
const FormBody = Type.String({ maxLength: FORM_LIMIT });

/** The language of a page without a member to go by: the browser's first of ours, else English. */
function browserLocale(req: FastifyRequest): Locale {
  const header = req.headers['accept-language'];
  for (const part of (typeof header === 'string' ? header : '').split(',')) {
    const tag = part.split(';')[0]!.trim().toLowerCase().slice(0, 2);
    if ((LOCALES as readonly string[]).includes(tag)) return tag as Locale;
  }
  return 'en';
}

function sendPage(reply: FastifyReply, status: number, page: Omit<UnsubscribePageInput, 'nonce'>): FastifyReply {
  const nonce = crypto.randomBytes(16).toString('base64');
  reply.header('content-security-policy', `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`);
  reply.header('x-frame-options', 'DENY');
  reply.header('cache-control', 'no-store');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-content-type-options', 'nosniff');
  return reply.code(status).type('text/html; charset=utf-8').send(renderUnsubscribePage({ ...page, nonce }));
}

export function unsubscribeRoutes(deps: { links: UnsubscribeLinks }) {
  const { links } = deps;
  return async function (app: HttpServer) {
    // Form bodies for these routes only (the API stays JSON-only). The body is not needed: read and ignored.
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data']) {
      app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_req, body, done) => done(null, body));
    }
    app.setErrorHandler((err, req, reply) => {
      const e = err as { statusCode?: number; status?: number };
      const given = isAppError(err) ? err.status : e.statusCode;
      const status = typeof given === 'number' && given >= 400 && given < 500 ? given : 500;
      if (status === 500) req.log.error({ err }, 'unsubscribe page failed');
      return sendPage(reply, status, { kind: 'invalid', locale: browserLocale(req) });
    });
    const common = { config: { auth: 'public' as const } };

    app.get('/u/:token', { ...common, schema: { ...hidden, params: TokenParams } }, async (req, reply) => {
      const target = await links.open(req.params.token);
      if (!target) return sendPage(reply, 404, { kind: 'invalid', locale: browserLocale(req) });
      return sendPage(reply, 200, { kind: target.granted && !target.erased ? 'confirm' : 'already', locale: target.locale, channel: target.channel, program: target.program });
    });

    app.post('/u/:token', { ...common, schema: { ...hidden, params: TokenParams, body: FormBody } }, async (req, reply) => {
      const target = await links.unsubscribe(req.params.token);
      if (!target) return sendPage(reply, 404, { kind: 'invalid', locale: browserLocale(req) });
      return sendPage(reply, 200, { kind: 'done', locale: target.locale, channel: target.channel, program: target.program });
    });
  };
}
