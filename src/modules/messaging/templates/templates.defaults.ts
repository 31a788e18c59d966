/**
 * The shipped wording of every trigger in every language. Each language file (templates.defaults.<locale>.ts)
 * defines a message once as blocks; the HTML and text templates are both produced from it here, so the two parts
 * cannot drift apart and a translator edits one thing. What comes out is ordinary Liquid (subject, html, text):
 * the same format a tenant's override is stored in, and what GET /v1/messaging/templates/{trigger}/{locale}
 * shows as the starting point for one.
 */
import type { Locale } from '../../../platform/http/schema.js';
import type { TriggerName } from '../messaging.types.js';
import type { TemplateSource } from './templates.engine.js';
import { ACCENT, BUTTON_STYLE, escapeHtml } from './templates.layout.js';
import { BG } from './templates.defaults.bg.js';
import { EN } from './templates.defaults.en.js';
import { PL } from './templates.defaults.pl.js';
import { RO } from './templates.defaults.ro.js';
import { RU } from './templates.defaults.ru.js';

/**
 * A block of a message. A string is a paragraph of Liquid in which `**text**` is bold and a newline a line
 * break. `href` and `code` and `quote` name a variable (a Liquid expression such as `survey.link`); a block
 * whose variable is empty is left out.
 */
export type Block =
  | string
  | { button: string; href: string }
  | { code: string }
  | { quote: string }
  | { if: string; then: Block[]; else?: Block[] };

export interface DefaultMessage {
  subject: string;
  blocks: Block[];
  /** Instead of the language's greeting / sign-off (the operators' message). */
  greeting?: string;
  signoff?: string;
}

export interface LanguageDefaults {
  /** Liquid; must read well when member.name is empty. */
  greeting: string;
  signoff: string;
  messages: Record<TriggerName, DefaultMessage>;
}

const LIQUID = /({{.*?}}|{%.*?%})/gs;

/** HTML-escapes the literal copy of a paragraph, leaving its Liquid alone (the engine escapes the output). */
function escapeLiteral(s: string): string {
  return s.split(LIQUID).map((part, i) => (i % 2 === 1 ? part : escapeHtml(part))).join('');
}

function inlineHtml(s: string): string {
  return escapeLiteral(s).replace(/\*\*(.+?)\*\*/gs, '<strong>$1</strong>').replace(/\n/g, '<br>\n');
}

function inlineText(s: string): string {
  return s.replace(/\*\*(.+?)\*\*/gs, '$1');
}

const P = 'margin:0 0 16px';

function blockHtml(b: Block): string {
  if (typeof b === 'string') return `<p style="${P}">${inlineHtml(b)}</p>`;
  if ('button' in b) {
    return `{% if ${b.href} != blank %}<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 24px"><tr><td class="button-cell" style="border-radius:6px;background:${ACCENT}"><a class="button" href="{{ ${b.href} }}" style="${BUTTON_STYLE}">${inlineHtml(b.button)}</a></td></tr></table>{% endif %}`;
  }
  if ('code' in b) {
    return `{% if ${b.code} != blank %}<p style="${P};text-align:center"><span style="display:inline-block;padding:12px 20px;border:2px dashed ${ACCENT};border-radius:6px;font-family:'SFMono-Regular',Consolas,'Liberation Mono',monospace;font-size:22px;letter-spacing:2px;color:#111827">{{ ${b.code} }}</span></p>{% endif %}`;
  }
  if ('quote' in b) {
    // escaped first, then the line breaks made visible; `raw` stops the engine escaping the <br>s again
    return `{% if ${b.quote} != blank %}<blockquote style="margin:0 0 16px;padding:12px 16px;border-left:4px solid ${ACCENT};background:#f9fafb;color:#111827">{{ ${b.quote} | escape | newline_to_br | raw }}</blockquote>{% endif %}`;
  }
  return `{% if ${b.if} %}${b.then.map(blockHtml).join('\n')}${b.else ? `{% else %}${b.else.map(blockHtml).join('\n')}` : ''}{% endif %}`;
}

function blockText(b: Block): string {
  if (typeof b === 'string') return inlineText(b);
  if ('button' in b) return `{% if ${b.href} != blank %}${inlineText(b.button)}:\n{{ ${b.href} }}{% endif %}`;
  if ('code' in b) return `{% if ${b.code} != blank %}    {{ ${b.code} }}{% endif %}`;
  if ('quote' in b) return `{% if ${b.quote} != blank %}{{ ${b.quote} }}{% endif %}`;
  // blank lines left by a false condition are collapsed when the text is rendered
  return `{% if ${b.if} %}${b.then.map(blockText).join('\n\n')}${b.else ? `{% else %}${b.else.map(blockText).join('\n\n')}` : ''}{% endif %}`;
}

export function buildTemplate(lang: LanguageDefaults, m: DefaultMessage): TemplateSource {
  const greeting = m.greeting ?? lang.greeting;
  const signoff = m.signoff ?? lang.signoff;
  const blocks: Block[] = [greeting, ...m.blocks, signoff];
  return {
    subject: m.subject,
    html: `${blocks.map(blockHtml).join('\n')}\n`,
    text: `${blocks.map(blockText).join('\n\n')}\n`,
  };
}

const LANGUAGES: Record<Locale, LanguageDefaults> = { en: EN, bg: BG, ru: RU, ro: RO, pl: PL };

const BUILT = new Map<string, TemplateSource>();

/** The shipped template of a trigger in a language. */
export function defaultTemplate(trigger: TriggerName, locale: Locale): TemplateSource {
  const key = `${trigger}:${locale}`;
  let t = BUILT.get(key);
  if (!t) {
    const lang = LANGUAGES[locale];
    BUILT.set(key, (t = buildTemplate(lang, lang.messages[trigger])));
  }
  return t;
}
