/**
 * The response page, served by Patron without a key: an invitation's link (`/s/:token`), the anonymous public link
 * (`/s/p/:tenantId/:surveyId`) and the public link in an iframe (`?embed=1`; an invitation page is never framed). GET shows the survey, POST stores the answers
 * through SurveysService.respond and redirects (303) to a thank-you page, so a reload never sends twice.
 *
 * These are HTML pages, not API: they are hidden from the OpenAPI document, and every error is a page in the
 * respondent's language (404, 410 expired or closed, 409 answered, 413, 415, 429), never problem+json.
 *
 * Headers: a CSP that allows nothing but the page's own nonce'd style and script and posting to itself
 * (`frame-ancestors *` only for ?embed=1, else 'none'); no caching (the page can hold earlier answers); no referrer
 * (the URL holds the invitation's token).
 *
 * Abuse: a POST body is at most FORM_LIMIT bytes; POSTs are limited per client IP (`rateLimit`), on top of the
 * server's global limit.
 */
import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Db } from '../../../platform/db/db.js';
import { AppError, isAppError } from '../../../platform/errors.js';
import { isUuid } from '../../../platform/ids.js';
import type { HttpServer } from '../../../platform/http/server.js';
import { CLOSED, type OpenedSurvey, type SurveysService } from '../surveys.service.js';
import { LANGUAGES, type AnswerInput, type Language } from '../surveys.types.js';
import { formFields, formValuesOf, readForm, type AnswerProblem, type FormFields } from './page.form.js';
import { pageT } from './page.i18n.js';
import { availableLanguages, isLanguage, negotiate, pickLanguage, resolveText } from './page.language.js';
import { renderMessagePage, renderSurveyPage, type LanguageLink } from './page.render.js';

/** The largest form body: ten long answers in Cyrillic (2,000 characters, 6 bytes each once percent-encoded) and more. */
export const FORM_LIMIT = 128 * 1024;
const TOKEN_RE = /^[A-Za-z0-9_.-]{1,200}$/;

export interface SurveyPageDeps {
  db: Db;
  surveys: Pick<SurveysService, 'openInvitation' | 'openPublic' | 'respond'>;
  /** Answers posted per client IP and window; null: no limit of its own (the server's global one still applies). */
  rateLimit: { max: number; windowMs: number } | null;
}

type PageQuery = { lang?: string; embed?: string };
// Other parameters (a shop's utm_source …) are allowed and ignored: a link is not an API call.
const Query = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 20 })), embed: Type.Optional(Type.String({ maxLength: 5 })) }, { additionalProperties: true });
const TokenParams = Type.Object({ token: Type.String({ maxLength: 300 }) });
const PublicParams = Type.Object({ tenantId: Type.String({ maxLength: 100 }), surveyId: Type.String({ maxLength: 100 }) });
// The form as it arrives: the raw urlencoded text (read by page.form.ts against the survey's questions).
const FormBody = Type.String({ maxLength: FORM_LIMIT });
const hidden = { hide: true };

/** Where a page is: the invitation or the public link, and how to build its URLs. */
interface Where {
  base: string;
  embed: boolean;
  channel: 'invitation' | 'public_link' | 'embed';
  open: () => Promise<OpenedSurvey>;
}

const isEmbed = (q: PageQuery) => q.embed === '1' || q.embed === 'true';
/** Whether this page may be framed: ?embed=1 on the public link only (/s/p/…); invitation pages never. */
const framable = (req: FastifyRequest<{ Querystring: PageQuery }>) => req.url.startsWith('/s/p/') && isEmbed(req.query ?? {});

function url(path: string, params: { lang?: Language | undefined; embed: boolean }): string {
  const qs = new URLSearchParams();
  if (params.lang) qs.set('lang', params.lang);
  if (params.embed) qs.set('embed', '1');
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

/** The language of a page that has no survey to go by (an unknown link): ?lang=, the browser's, English. */
function fallbackLanguage(req: FastifyRequest<{ Querystring: PageQuery }>): Language {
  const q = req.query?.lang;
  return isLanguage(q) ? q : negotiate(req.headers['accept-language'], LANGUAGES) ?? 'en';
}

function sendPage(reply: FastifyReply, status: number, html: string, nonce: string, embed: boolean): FastifyReply {
  reply.header('content-security-policy', [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    "form-action 'self'",
    "base-uri 'none'",
    `frame-ancestors ${embed ? '*' : "'none'"}`,
  ].join('; '));
  if (!embed) reply.header('x-frame-options', 'DENY');
  reply.header('cache-control', 'no-store');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('vary', 'accept-language');
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

const newNonce = () => crypto.randomBytes(16).toString('base64');

type MessageKey = 'not_found' | 'expired' | 'closed' | 'answered' | 'too_many' | 'error';

function sendMessage(reply: FastifyReply, status: number, lang: Language, embed: boolean, key: MessageKey): FastifyReply {
  const t = pageT(lang);
  const nonce = newNonce();
  return sendPage(reply, status, renderMessagePage({ lang, nonce, embed, heading: t(`${key}_title`), text: t(`${key}_body`) }), nonce, embed);
}

/** An error of the surveys service (or of the request) as the page the respondent sees. */
function sendError(req: FastifyRequest<{ Querystring: PageQuery }>, reply: FastifyReply, err: unknown, lang = fallbackLanguage(req)): FastifyReply {
  const embed = framable(req);
  if (isAppError(err)) {
    switch (err.code) {
      case 'not_found':
        return sendMessage(reply, 404, lang, embed, 'not_found');
      // Both are 410s; the service names which (CLOSED: the survey, EXPIRED: the invitation).
      case 'gone':
        return sendMessage(reply, 410, lang, embed, err.errors[0]?.field === CLOSED.field ? 'closed' : 'expired');
      case 'conflict':
        return sendMessage(reply, 409, lang, embed, 'answered');
      case 'rate_limited':
        for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
        return sendMessage(reply, 429, lang, embed, 'too_many');
      default:
        if (err.status < 500) return sendMessage(reply, err.status, lang, embed, 'error');
        break;
    }
  }
  const e = err as { code?: string; statusCode?: number };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendMessage(reply, 413, lang, embed, 'error');
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendMessage(reply, 415, lang, embed, 'error');
  // The server's global rate limit (it has set Retry-After).
  if (e.statusCode === 429) return sendMessage(reply, 429, lang, embed, 'too_many');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return sendMessage(reply, e.statusCode, lang, embed, 'error');
  req.log.error({ err }, 'survey page failed');
  return sendMessage(reply, 500, lang, embed, 'error');
}

/** Maps the service's own answer errors (`answers.<key>[.<item>]`) onto the page's questions. */
function problemsOf(err: AppError, questionKeys: string[]): Record<string, AnswerProblem> | null {
  const out: Record<string, AnswerProblem> = {};
  for (const e of err.errors) {
    const m = /^answers\.([a-z][a-z0-9_]*)/.exec(e.field);
    if (!m || !questionKeys.includes(m[1]!)) return null;
    out[m[1]!] = { code: e.detail === 'is required' ? 'required' : 'invalid_choice' };
  }
  return Object.keys(out).length > 0 ? out : null;
}

export function surveyPageRoutes(deps: SurveyPageDeps) {
  const { db, surveys } = deps;

  return async function (app: HttpServer) {
    // The browser's form encoding, for these routes only (the API stays JSON-only: a form post to /v1 is a 415).
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_req, body, done) => done(null, body));
    app.setErrorHandler((err, req, reply) => sendError(req as FastifyRequest<{ Querystring: PageQuery }>, reply, err));

    const postLimit = deps.rateLimit ? app.createRateLimit({ max: deps.rateLimit.max, timeWindow: deps.rateLimit.windowMs, keyGenerator: (req: FastifyRequest) => req.ip }) : null;
    const limitPosts = async (req: FastifyRequest) => {
      if (!postLimit) return;
      const r = await postLimit(req);
      if (!r.isAllowed && r.isExceeded) throw new AppError('rate_limited', 'Too many answers from this address.', [], { 'retry-after': String(Math.max(1, r.ttlInSeconds)) });
    };

    const languageOf = (req: FastifyRequest<{ Querystring: PageQuery }>, s: OpenedSurvey) => {
      const available = availableLanguages(s.definition, s.default_language);
      return {
        available,
        lang: pickLanguage({ query: req.query.lang, member: s.member_language, acceptLanguage: req.headers['accept-language'], available, surveyDefault: s.default_language }),
      };
    };

    /** The survey page (GET, or a POST whose answers need attention). */
    const showSurvey = (reply: FastifyReply, where: Where, s: OpenedSurvey, lang: Language, available: Language[], status: number, values?: FormFields, problems?: Record<string, AnswerProblem>) => {
      const nonce = newNonce();
      // The switcher only on public links: an invitation already speaks the member's language.
      const languages: LanguageLink[] | undefined = where.channel === 'invitation' ? undefined : available.map((l) => ({ lang: l, href: url(where.base, { lang: l, embed: where.embed }) }));
      const html = renderSurveyPage({
        definition: s.definition, lang, surveyDefault: s.default_language, action: url(where.base, { lang, embed: where.embed }), nonce, embed: where.embed,
        values: values ?? (s.previous ? formValuesOf(s.previous.answers) : undefined), problems, editing: s.previous !== null, languages,
      });
      return sendPage(reply, status, html, nonce, where.embed);
    };

    const get = async (req: FastifyRequest<{ Querystring: PageQuery }>, reply: FastifyReply, where: Where) => {
      const s = await where.open();
      const { lang, available } = languageOf(req, s);
      return showSurvey(reply, where, s, lang, available, 200);
    };

    const post = async (req: FastifyRequest<{ Querystring: PageQuery }>, reply: FastifyReply, where: Where) => {
      await limitPosts(req);
      const s = await where.open();
      const { lang, available } = languageOf(req, s);
      const fields = formFields(typeof req.body === 'string' ? req.body : '');
      const form = readForm(s.definition, fields);
      if (Object.keys(form.problems).length > 0) return showSurvey(reply, where, s, lang, available, 422, fields, form.problems);
      try {
        await db.tx((tx) => surveys.respond(tx, s.tenantId, {
          survey_id: s.survey.id,
          ...(s.invitation ? { invitation_id: s.invitation.id } : {}),
          channel: where.channel,
          language: lang,
          answers: form.answers satisfies AnswerInput,
        }));
      } catch (err) {
        // The survey changed between showing and answering (a new version): show the new one with what does not fit.
        const problems = isAppError(err) && err.code === 'validation_failed' ? problemsOf(err, s.definition.questions.map((q) => q.key)) : null;
        if (problems) return showSurvey(reply, where, s, lang, available, 422, fields, problems);
        throw err;
      }
      return reply.redirect(url(`${where.base}/thanks`, { lang, embed: where.embed }), 303);
    };

    const thanks = async (req: FastifyRequest<{ Querystring: PageQuery }>, reply: FastifyReply, where: Where, answeredIsFine: boolean) => {
      const embed = where.embed;
      let s: OpenedSurvey | null = null;
      try {
        s = await where.open();
      } catch (err) {
        // Answered and no longer editable: still a thank-you (the respondent just answered, or reloads the page).
        if (!(answeredIsFine && isAppError(err) && err.code === 'conflict')) throw err;
      }
      const lang = s ? languageOf(req, s).lang : fallbackLanguage(req);
      const t = pageT(lang);
      if (s && where.channel === 'invitation' && !s.previous) return reply.redirect(url(where.base, { lang, embed }), 303); // not answered yet
      const text = s ? resolveText(s.definition.thank_you, lang, s.default_language) || t('thanks_body') : t('thanks_body');
      const link = s?.previous ? { href: url(where.base, { lang, embed }), label: t('thanks_edit') } : undefined;
      const nonce = newNonce();
      return sendPage(reply, 200, renderMessagePage({ lang, nonce, embed, heading: t('thanks_title'), text, ...(link ? { link } : {}) }), nonce, embed);
    };

    // ── An invitation ────────────────────────────────────────────────────────
    const invitation = (req: FastifyRequest<{ Params: { token: string }; Querystring: PageQuery }>): Where => {
      const token = req.params.token;
      // Never framed: a personal page (pre-filled with the member's answers in the edit window) framed by any origin
      // invites clickjacking of its submit. ?embed=1 is the public link's.
      return {
        base: `/s/${encodeURIComponent(token)}`, embed: false, channel: 'invitation',
        open: () => (TOKEN_RE.test(token) ? surveys.openInvitation(db, token) : Promise.reject(new AppError('not_found', 'No such survey invitation.'))),
      };
    };
    const common = { config: { auth: 'public' as const } };
    app.get('/s/:token', { ...common, schema: { ...hidden, params: TokenParams, querystring: Query } }, (req, reply) => get(req, reply, invitation(req)));
    app.post('/s/:token', { ...common, schema: { ...hidden, params: TokenParams, querystring: Query, body: FormBody } }, (req, reply) => post(req, reply, invitation(req)));
    app.get('/s/:token/thanks', { ...common, schema: { ...hidden, params: TokenParams, querystring: Query } }, (req, reply) => thanks(req, reply, invitation(req), true));

    // ── The public link (and its embed) ─────────────────────────────────────────
    const publicLink = (req: FastifyRequest<{ Params: { tenantId: string; surveyId: string }; Querystring: PageQuery }>): Where => {
      const { tenantId, surveyId } = req.params;
      const embed = isEmbed(req.query);
      return {
        base: `/s/p/${encodeURIComponent(tenantId)}/${encodeURIComponent(surveyId)}`, embed, channel: embed ? 'embed' : 'public_link',
        open: () => (isUuid(tenantId) && isUuid(surveyId) ? surveys.openPublic(db, tenantId, surveyId) : Promise.reject(new AppError('not_found', 'No such survey.'))),
      };
    };
    app.get('/s/p/:tenantId/:surveyId', { ...common, schema: { ...hidden, params: PublicParams, querystring: Query } }, (req, reply) => get(req, reply, publicLink(req)));
    app.post('/s/p/:tenantId/:surveyId', { ...common, schema: { ...hidden, params: PublicParams, querystring: Query, body: FormBody } }, (req, reply) => post(req, reply, publicLink(req)));
    app.get('/s/p/:tenantId/:surveyId/thanks', { ...common, schema: { ...hidden, params: PublicParams, querystring: Query } }, (req, reply) => thanks(req, reply, publicLink(req), false));
  };
}
