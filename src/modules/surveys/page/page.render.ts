/**
 * One renderer for every survey: (definition, language, earlier answers, problems) → an HTML page. Server-rendered
 * and complete without JavaScript (a plain POST form); a small inline script only hides the questions whose show_if
 * is false, focuses the error summary and, in an iframe, tells the shop page its height.
 *
 * Everything is inline (CSS, script) and nothing is fetched from anywhere, so the page needs no third party and stays
 * a few kilobytes. Accessibility: every scale is a radio group in a <fieldset> with a <legend>, its ends labelled in
 * text (visible, and read with the end values), native inputs (keyboard as the platform does it), a visible focus
 * outline, 44 px touch targets, "required" written out, problems linked to their questions (aria-describedby) and
 * listed in a summary (role=alert). Colours: PALETTE, every pair ≥ 4.5:1 (page.test.ts computes the ratios).
 */
import { esc } from '../html.js';
import type { Language, Question, SurveyDefinition } from '../surveys.types.js';
import { CLI_ITEM_WORDING, CSI_ITEM_WORDING, standardWording } from '../surveys.wording.js';
import { DEFAULT_TEXT_MAX, problemOf, type AnswerProblem, type FormFields } from './page.form.js';
import { LANGUAGE_NAMES, pageT, type PageT } from './page.i18n.js';
import { resolveText } from './page.language.js';
import { answerKeysOf, isRequired, itemsOf, matchingFormValues, scaleOf } from './page.questions.js';

/** The page's colours. Text pairs need 4.5:1 (WCAG AA); the border of an input needs 3:1 (non-text contrast). */
export const PALETTE = {
  text: '#1a1a1a',
  muted: '#4d4d4d',
  background: '#ffffff',
  panel: '#f3f4f6',
  accent: '#1d4ed8',
  onAccent: '#ffffff',
  error: '#b3261e',
  border: '#5c5c5c',
} as const;


const idOf = (answerKey: string) => answerKey.replace(/\./g, '-');

const P = PALETTE;
const CSS = `*{box-sizing:border-box}[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:${P.background};color:${P.text};font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif}
main{max-width:42rem;margin:0 auto;padding:1rem 1rem 3rem}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem}
a{color:${P.accent}}
a:focus-visible,button:focus-visible,textarea:focus-visible,.opt input:focus-visible{outline:3px solid ${P.accent};outline-offset:2px}
.langs{display:flex;flex-wrap:wrap;gap:.25rem .75rem;list-style:none;padding:0;margin:0 0 1rem}
.langs a{display:inline-block;min-height:44px;padding:.6rem .25rem}
.langs a[aria-current]{color:${P.text};font-weight:700;text-decoration:none}
.summary{border:3px solid ${P.error};padding:.75rem 1rem;margin:0 0 1.5rem}
.summary h2{font-size:1.125rem;margin:0 0 .5rem;color:${P.error}}
.summary ul{margin:0;padding-left:1.25rem}.summary a{color:${P.error};font-weight:600}
.q{border:0;margin:0 0 2rem;padding:0;min-width:0}
.q legend,.qt{display:block;font-weight:700;font-size:1.125rem;margin:0 0 .5rem;padding:0}
.q .q{margin:0 0 1.25rem}.q .q legend{font-size:1rem;font-weight:600}
.req{font-weight:400;color:${P.muted}}
.help,.hint{color:${P.muted};margin:0 0 .5rem}
.err{color:${P.error};font-weight:600;margin:0 0 .5rem}
.invalid .scale .pt span,.invalid textarea{border-color:${P.error}}
.scale{display:flex;flex-wrap:wrap;gap:6px}
.pt{position:relative;flex:1 0 44px;max-width:4rem}
.pt input{position:absolute;inset:0;width:100%;height:100%;margin:0;opacity:0;cursor:pointer}
.pt span{display:flex;align-items:center;justify-content:center;min-height:44px;border:2px solid ${P.border};border-radius:6px;font-weight:600;background:${P.background}}
.pt input:checked+span{background:${P.accent};border-color:${P.accent};color:${P.onAccent}}
.pt input:focus-visible+span{outline:3px solid ${P.accent};outline-offset:2px}
.ends{display:flex;justify-content:space-between;gap:1rem;color:${P.muted};font-size:.9375rem;margin:.375rem 0 0}
.ends span:last-child{text-align:right}
.opt{display:flex;align-items:center;gap:.75rem;min-height:44px;padding:.25rem 0;cursor:pointer}
.opt input{width:1.375rem;height:1.375rem;margin:0;flex:none;accent-color:${P.accent}}
textarea{display:block;width:100%;min-height:7rem;padding:.625rem;border:2px solid ${P.border};border-radius:6px;font:inherit;color:inherit;background:${P.background}}
button{min-height:48px;padding:.75rem 1.5rem;border:0;border-radius:6px;background:${P.accent};color:${P.onAccent};font:inherit;font-weight:700;cursor:pointer;width:100%}
@media(min-width:36rem){button{width:auto}}
.vh{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.editing{background:${P.panel};padding:.75rem 1rem;border-radius:6px}
.embed main{padding-top:0}
@media(forced-colors:active){.pt input:checked+span{outline:3px solid Highlight}}`;

/**
 * The inline script (nonce'd by the CSP). Shows a conditional question only when the answer it depends on is one of
 * `data-show`'s values and that question is itself shown; focuses the error summary; in an iframe posts the page's
 * height to the parent (the embed snippet sizes the iframe with it).
 */
const SCRIPT = `(function(){var f=document.querySelector('form'),c=[].slice.call(document.querySelectorAll('[data-show]'));
function v(n){var o=[];if(!f)return o;[].forEach.call(f.elements,function(e){if(e.name!==n)return;if(e.type==='radio'||e.type==='checkbox'){if(e.checked)o.push(e.value)}else if(e.value.trim())o.push(e.value.trim())});return o}
function h(){if(window.parent!==window)parent.postMessage({patron_survey_height:document.documentElement.scrollHeight},'*')}
function u(){c.forEach(function(el){var s=JSON.parse(el.getAttribute('data-show')),src=document.getElementById('q-'+s.q.split('.')[0]);el.hidden=!((!src||!src.hidden)&&v(s.q).some(function(x){return s.v.indexOf(x)>=0}))});h()}
if(f){f.addEventListener('change',u);f.addEventListener('input',u)}u();addEventListener('resize',h);
var m=document.getElementById('summary');if(m)m.focus()})();`;

export interface PageShell {
  lang: Language;
  title: string;
  nonce: string;
  embed: boolean;
  body: string;
}

export function page(shell: PageShell): string {
  return `<!doctype html>
<html lang="${shell.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow"><title>${esc(shell.title)}</title><style nonce="${esc(shell.nonce)}">${CSS}</style></head>
<body${shell.embed ? ' class="embed"' : ''}><main>
${shell.body}
</main><script nonce="${esc(shell.nonce)}">${SCRIPT}</script></body></html>`;
}

export interface LanguageLink {
  lang: Language;
  href: string;
}

function languageSwitcher(t: PageT, current: Language, links: LanguageLink[] | undefined): string {
  if (!links || links.length < 2) return '';
  const items = links.map((l) =>
    `<li><a href="${esc(l.href)}" lang="${l.lang}" hreflang="${l.lang}"${l.lang === current ? ' aria-current="true"' : ''}>${esc(LANGUAGE_NAMES[l.lang])}</a></li>`,
  );
  return `<nav aria-label="${esc(t('language'))}"><ul class="langs">${items.join('')}</ul></nav>`;
}

export interface SurveyPageInput {
  definition: SurveyDefinition;
  lang: Language;
  surveyDefault: Language;
  /** Where the form posts (the page's own URL, with its query). */
  action: string;
  nonce: string;
  embed: boolean;
  /** Values to show chosen: what the respondent sent (a page with problems) or the earlier answers (editing). */
  values?: FormFields;
  problems?: Record<string, AnswerProblem>;
  /** True when the page edits an earlier response (within the edit window). */
  editing?: boolean;
  /** The language switcher's links (public links only). */
  languages?: LanguageLink[];
}

interface Ctx {
  t: PageT;
  lang: Language;
  dflt: Language;
  values: FormFields;
  problems: Record<string, AnswerProblem>;
  def: SurveyDefinition;
}

export function questionText(q: Question, lang: Language, dflt: Language): string {
  return resolveText(q.text, lang, dflt, standardWording(q.type)?.text);
}

function itemText(q: Question, item: string, lang: Language, dflt: Language): string {
  if (q.type === 'csi') return resolveText(q.items?.[item as keyof typeof CSI_ITEM_WORDING], lang, dflt, CSI_ITEM_WORDING[item as keyof typeof CSI_ITEM_WORDING]);
  if (q.type === 'cli') return resolveText(q.items?.[item as keyof typeof CLI_ITEM_WORDING], lang, dflt, CLI_ITEM_WORDING[item as keyof typeof CLI_ITEM_WORDING]);
  return '';
}

export function problemText(t: PageT, p: AnswerProblem): string {
  switch (p.code) {
    case 'required':
      return t('error_required');
    case 'invalid_choice':
      return t('error_invalid_choice');
    case 'too_many_choices':
      return t('error_too_many_choices', { max: p.max });
    case 'too_long':
      return t('error_too_long', { max: p.max });
    case 'invalid_text':
      return t('error_invalid_text');
  }
}

const has = (values: FormFields, name: string, value: string) => (values.get(name) ?? []).includes(value);

function marker(c: Ctx, q: Question): string {
  return ` <span class="req">(${esc(c.t(isRequired(q) ? 'required' : 'optional'))})</span>`;
}

/** The radios of one scale (a question, or one item of a block), with the ends' labels. */
function scaleRadios(c: Ctx, q: Question, name: string, firstId: string): string {
  const scale = scaleOf(q)!;
  const wording = standardWording(q.type)!;
  const low = wording.ends.low[c.lang];
  const high = wording.ends.high[c.lang];
  const points: string[] = [];
  for (let v = scale.min; v <= scale.max; v++) {
    const end = v === scale.min ? low : v === scale.max ? high : null;
    points.push(
      `<label class="pt"><input type="radio" name="${esc(name)}" value="${v}"${v === scale.min ? ` id="${firstId}"` : ''}${has(c.values, name, String(v)) ? ' checked' : ''}>` +
        `<span>${v}${end ? `<span class="vh"> — ${esc(end)}</span>` : ''}</span></label>`,
    );
  }
  // The ends are read with the end values (above); shown once more, for sighted respondents, under the scale.
  const ends = `<p class="ends" aria-hidden="true"><span>${esc(c.t('scale_end', { value: scale.min, label: low }))}</span><span>${esc(c.t('scale_end', { value: scale.max, label: high }))}</span></p>`;
  return `<div class="scale">${points.join('')}</div>${ends}`;
}

function showAttr(c: Ctx, q: Question): string {
  if (!q.show_if) return '';
  const source = c.def.questions.find((s) => s.key === q.show_if!.question.split('.')[0]);
  const values = source ? matchingFormValues(q.show_if, source) : [];
  return ` data-show="${esc(JSON.stringify({ q: q.show_if.question, v: values }))}"`;
}

function renderQuestion(c: Ctx, q: Question): string {
  const id = idOf(q.key);
  const problem = problemOf(c.problems, q.key);
  const help = q.help ? resolveText(q.help, c.lang, c.dflt) : '';
  const helpHtml = help ? `<p class="help" id="h-${id}">${esc(help)}</p>` : '';
  const errHtml = problem ? `<p class="err" id="e-${id}">${esc(problemText(c.t, problem))}</p>` : '';
  const described = [help ? `h-${id}` : '', problem ? `e-${id}` : ''].filter(Boolean);
  const text = esc(questionText(q, c.lang, c.dflt));
  const cls = `q${problem ? ' invalid' : ''}`;
  const attrs = `id="q-${id}" class="${cls}"${showAttr(c, q)}`;

  if (q.type === 'text') {
    const max = q.max_length ?? DEFAULT_TEXT_MAX;
    const value = (c.values.get(q.key) ?? [])[0] ?? '';
    const describedText = [...described, `l-${id}`].join(' ');
    return `<div ${attrs}><label class="qt" for="f-${id}">${text}${marker(c, q)}</label>${helpHtml}${errHtml}` +
      `<textarea id="f-${id}" name="${esc(q.key)}" maxlength="${max}" rows="4" aria-describedby="${describedText}"${isRequired(q) ? ' aria-required="true"' : ''}${problem ? ' aria-invalid="true"' : ''}>${esc(value)}</textarea>` +
      `<p class="hint" id="l-${id}">${esc(c.t('text_limit', { max }))}</p></div>`;
  }

  const describedBy = described.length ? ` aria-describedby="${described.join(' ')}"` : '';
  const open = `<fieldset ${attrs}${describedBy}><legend>${text}${marker(c, q)}</legend>${helpHtml}${errHtml}`;

  if (q.type === 'single_choice' || q.type === 'multiple_choice') {
    const type = q.type === 'single_choice' ? 'radio' : 'checkbox';
    const hint = q.type === 'multiple_choice' && q.max_choices !== undefined ? `<p class="hint">${esc(c.t('choose_up_to', { max: q.max_choices }))}</p>` : '';
    const options = q.options.map((o, i) =>
      `<label class="opt"><input type="${type}" name="${esc(q.key)}" value="${esc(o.key)}"${i === 0 ? ` id="f-${id}"` : ''}${has(c.values, q.key, o.key) ? ' checked' : ''}>` +
        `<span>${esc(resolveText(o.label, c.lang, c.dflt))}</span></label>`,
    );
    return `${open}${hint}${options.join('')}</fieldset>`;
  }

  const items = itemsOf(q);
  if (items.length === 0) return `${open}${scaleRadios(c, q, q.key, `f-${id}`)}</fieldset>`;
  // A block: one radio group per item, each its own fieldset inside the block's.
  const groups = items.map((item, i) => {
    const name = `${q.key}.${item}`;
    return `<fieldset class="q" id="q-${idOf(name)}"><legend>${esc(itemText(q, item, c.lang, c.dflt))}</legend>${scaleRadios(c, q, name, i === 0 ? `f-${id}` : `f-${idOf(name)}`)}</fieldset>`;
  });
  return `${open}${groups.join('')}</fieldset>`;
}

/** The title of a survey in a language (or the word "Survey"). */
export function surveyTitle(def: SurveyDefinition, lang: Language, dflt: Language): string {
  return resolveText(def.title, lang, dflt) || pageT(lang)('survey');
}

export function renderSurveyPage(input: SurveyPageInput): string {
  const t = pageT(input.lang);
  const c: Ctx = { t, lang: input.lang, dflt: input.surveyDefault, values: input.values ?? new Map(), problems: input.problems ?? {}, def: input.definition };
  const title = surveyTitle(input.definition, input.lang, input.surveyDefault);
  const intro = resolveText(input.definition.intro, input.lang, input.surveyDefault);
  const listed = input.definition.questions.filter((q) => problemOf(c.problems, q.key));
  const summary = listed.length === 0 ? '' :
    `<div class="summary" id="summary" role="alert" tabindex="-1"><h2>${esc(t('errors_title', { count: listed.length }))}</h2><ul>` +
    listed.map((q) => `<li><a href="#f-${idOf(q.key)}">${esc(questionText(q, input.lang, input.surveyDefault))}: ${esc(problemText(t, problemOf(c.problems, q.key)!))}</a></li>`).join('') +
    '</ul></div>';
  const body = [
    languageSwitcher(t, input.lang, input.languages),
    `<h1>${esc(title)}</h1>`,
    intro ? `<p>${esc(intro)}</p>` : '',
    input.editing ? `<p class="editing">${esc(t('editing'))}</p>` : '',
    summary,
    `<form method="post" action="${esc(input.action)}" accept-charset="utf-8">`,
    ...input.definition.questions.map((q) => renderQuestion(c, q)),
    `<button type="submit">${esc(t('submit'))}</button></form>`,
  ].filter(Boolean).join('\n');
  return page({ lang: input.lang, title, nonce: input.nonce, embed: input.embed, body });
}

export interface MessagePageInput {
  lang: Language;
  nonce: string;
  embed: boolean;
  heading: string;
  text: string;
  /** A link under the text (the thank-you page's "change my answers"). */
  link?: { href: string; label: string };
  languages?: LanguageLink[];
}

/** The thank-you page and the error pages (expired, unknown, closed, already answered). */
export function renderMessagePage(input: MessagePageInput): string {
  const t = pageT(input.lang);
  const body = [
    languageSwitcher(t, input.lang, input.languages),
    `<h1>${esc(input.heading)}</h1>`,
    input.text ? `<p>${esc(input.text)}</p>` : '',
    input.link ? `<p><a href="${esc(input.link.href)}">${esc(input.link.label)}</a></p>` : '',
  ].filter(Boolean).join('\n');
  return page({ lang: input.lang, title: input.heading, nonce: input.nonce, embed: input.embed, body });
}

/** The answer keys the form can carry for a definition (for tests and the pre-fill). */
export const formKeysOf = (def: SurveyDefinition): string[] => def.questions.flatMap(answerKeysOf);
