/**
 * The template language of messages (docs/messaging/templates.md): Liquid (liquidjs), because tenants edit
 * templates and Liquid runs no code: a template can only read the variables it is given and call the filters
 * registered here. Per locale there are two engines: HTML output escapes every `{{ }}` (a member called
 * `<script>` stays text), the text part and the subject do not.
 */
import { Liquid, Tag, type Template, type TagToken, type TopLevelToken } from 'liquidjs';
import type { FieldError } from '../../../platform/errors.js';
import { LOCALES, type Locale } from '../../../platform/http/schema.js';
import type { MessageCategory, RenderedMessage, TemplateVariables } from '../messaging.types.js';
import { layoutHtml, layoutText } from './templates.layout.js';

export interface TemplateSource {
  subject: string;
  html: string;
  text: string;
}

export interface RenderOptions {
  category: MessageCategory;
  /** 'operator': a message to the tenant's own people (webhook_endpoint_disabled), with a footer saying so. */
  audience?: 'member' | 'operator';
}

/** Intl locale per message locale: British English writes "12 March 2027", not "March 12, 2027". */
const INTL_LOCALE: Record<Locale, string> = { en: 'en-GB', bg: 'bg', ru: 'ru', ro: 'ro', pl: 'pl' };

const PLURAL_KEYWORDS = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);

/**
 * `{{ n | plural: one: "# point", other: "# points" }}`: the form Intl.PluralRules picks for n in the locale,
 * `other` when the template lacks it. `#` in a form stands for n formatted like `number`; a form without `#`
 * is returned alone (the word only).
 */
export function pluralForm(locale: Locale, value: unknown, forms: Record<string, string>): string {
  const n = toNumber(value);
  const key = n === null ? 'other' : new Intl.PluralRules(INTL_LOCALE[locale]).select(n);
  const form = forms[key] ?? forms.other ?? '';
  return n === null ? form.replace(/#/g, String(value ?? '')) : form.replace(/#/g, formatNumber(locale, n));
}

export function formatNumber(locale: Locale, value: unknown): string {
  const n = toNumber(value);
  return n === null ? String(value ?? '') : new Intl.NumberFormat(INTL_LOCALE[locale], { maximumFractionDigits: 2 }).format(n);
}

/**
 * A `YYYY-MM-DD` date in the locale's long form ("12 March 2027", "12 марта 2027 г."). A timestamp gets the time
 * too, in UTC and saying so (operators' messages: `endpoint.failing_since`). Anything else is shown as it is.
 */
export function formatDate(locale: Locale, value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  const s = value instanceof Date ? value.toISOString() : String(value);
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (dateOnly) {
    const d = new Date(Date.UTC(Number(dateOnly[1]), Number(dateOnly[2]) - 1, Number(dateOnly[3])));
    if (Number.isNaN(d.getTime())) return s;
    return new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: 'long', timeZone: 'UTC' }).format(d);
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(s)) {
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return s;
    return `${new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(d)} UTC`;
  }
  return s;
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/**
 * include/render/layout would look templates up by name; a tenant's template has nothing to include, and a
 * clear parse error (a 400 on PUT) beats a lookup failing at send time.
 */
class ForbiddenTag extends Tag {
  constructor(token: TagToken, remainTokens: TopLevelToken[], liquid: Liquid) {
    super(token, remainTokens, liquid);
    throw new Error(`the tag "${token.name}" is not available in message templates`);
  }
  *render(): Generator<unknown, void, unknown> {}
}

function makeEngine(locale: Locale, html: boolean): Liquid {
  const engine = new Liquid({
    outputEscape: html ? 'escape' : undefined,
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    // an empty in-memory file system: nothing is ever read from disk
    templates: {},
    // a tenant's template must not be able to hog the process
    parseLimit: 200_000,
    renderLimit: 1_000,
    memoryLimit: 10_000_000,
  });
  engine.registerFilter('plural', (value: unknown, ...args: unknown[]) => {
    const forms: Record<string, string> = {};
    for (const a of args) {
      if (Array.isArray(a) && a.length === 2 && PLURAL_KEYWORDS.has(String(a[0]))) forms[String(a[0])] = String(a[1] ?? '');
    }
    return pluralForm(locale, value, forms);
  });
  engine.registerFilter('number', (value: unknown) => formatNumber(locale, value));
  engine.registerFilter('date', (value: unknown) => formatDate(locale, value));
  for (const tag of ['include', 'render', 'layout']) engine.registerTag(tag, ForbiddenTag);
  return engine;
}

const ENGINES = new Map<string, Liquid>();
export function engineFor(locale: Locale, kind: 'html' | 'text'): Liquid {
  const key = `${locale}:${kind}`;
  let e = ENGINES.get(key);
  if (!e) ENGINES.set(key, (e = makeEngine(locale, kind === 'html')));
  return e;
}

/**
 * Parsed templates by source: the defaults and a tenant's overrides are rendered again and again. Parsing does
 * not depend on the locale (filters are looked up by name, bound at render), but the cache is per engine anyway.
 */
const PARSED = new Map<string, Template[]>();
const PARSED_MAX = 2_000;
function parse(engine: Liquid, key: string, source: string): Template[] {
  const k = `${key}\0${source}`;
  let t = PARSED.get(k);
  if (!t) {
    t = engine.parse(source);
    if (PARSED.size >= PARSED_MAX) PARSED.delete(PARSED.keys().next().value!);
    PARSED.set(k, t);
  }
  return t;
}

const FIELDS = ['subject', 'html', 'text'] as const;

function liquidMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/^ENOENT: /, '');
}

/**
 * The field errors of a template: Liquid that does not parse (unclosed tags, unknown filters, forbidden tags)
 * and, given variables, Liquid that fails when rendered with them. Empty: fine.
 */
export async function checkTemplate(src: Partial<TemplateSource>, locale: Locale = 'en', variables?: Partial<TemplateVariables>): Promise<FieldError[]> {
  const errs: FieldError[] = [];
  for (const field of FIELDS) {
    const source = src[field];
    if (source === undefined) continue;
    const kind = field === 'html' ? 'html' : 'text';
    const engine = engineFor(locale, kind);
    try {
      const tpl = parse(engine, `${locale}:${kind}`, source);
      if (variables) await engine.render(tpl, variables);
    } catch (e) {
      errs.push({ field, detail: `is not a valid template: ${liquidMessage(e)}` });
    }
  }
  return errs;
}

/**
 * Russian and Bulgarian long dates end in "г." (year); a sentence ending in a date would otherwise get a second
 * full stop ("до 12 марта 2027 г..").
 */
function yearDot(locale: Locale, s: string): string {
  return locale === 'ru' || locale === 'bg' ? s.replace(/(\sг\.)((?:<\/[a-z]+>)*)\./g, '$1$2') : s;
}

/** Blank lines collapsed (a false `{% if %}` leaves one behind) and the ends trimmed. */
function tidyText(s: string): string {
  return s.replace(/[ \t]+$/gm, '').replace(/\n{3,}/g, '\n\n').trim();
}

/**
 * The preheader (the line inboxes show after the subject): the text part's first paragraph after the greeting.
 */
function preheaderOf(text: string): string {
  const paras = text.split(/\n\s*\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter(Boolean);
  const first = paras.length > 1 && paras[0]!.length <= 60 && /[,!]$/.test(paras[0]!) ? paras[1]! : paras[0] ?? '';
  return first.length > 150 ? `${first.slice(0, 147).trimEnd()}…` : first;
}

/**
 * Renders a template (a default or a tenant's) for one message: the subject as a single trimmed line, the HTML
 * content inside the shared responsive layout, the text part with its footer. Marketing messages carry the
 * unsubscribe link (variables.links.unsubscribe) in both parts.
 */
export async function renderTemplate(src: TemplateSource, locale: Locale, variables: Partial<TemplateVariables>, opts: RenderOptions): Promise<RenderedMessage> {
  const textEngine = engineFor(locale, 'text');
  const htmlEngine = engineFor(locale, 'html');
  const scope = variables as Record<string, unknown>;
  const subject = yearDot(locale, String(await textEngine.render(parse(textEngine, `${locale}:text`, src.subject), scope)).replace(/\s+/g, ' ').trim());
  const content = yearDot(locale, String(await htmlEngine.render(parse(htmlEngine, `${locale}:html`, src.html), scope)));
  const body = yearDot(locale, tidyText(String(await textEngine.render(parse(textEngine, `${locale}:text`, src.text), scope))));
  const frame = {
    locale,
    subject,
    programName: variables.program?.name ?? '',
    preheader: preheaderOf(body),
    category: opts.category,
    audience: opts.audience ?? 'member',
    unsubscribe: variables.links?.unsubscribe ?? null,
    portal: variables.links?.portal ?? null,
  };
  return { subject, html: layoutHtml(frame, content), text: layoutText(frame, body) };
}

export { LOCALES };
