/**
 * Which language a response page speaks, and which text it shows for every element: pure functions, so the rules
 * are tested without a server.
 *
 *  - The page's language: an explicit `?lang=` (the switcher's links) if the survey can be shown in it; for an
 *    invitation the member's language; then the browser's Accept-Language (by q-value); then the survey's default.
 *    "Can be shown in it" means every text of the survey exists in that language, by the survey's own wording or the
 *    built-in wording of a standard question, so a respondent never gets a page in two languages.
 *  - A text: the survey's text in the page's language, then in the survey's default language, then the built-in
 *    wording (standard questions), then any language the survey has it in.
 */
import { LANGUAGES, type Language, type Question, type SurveyDefinition, type Texts } from '../surveys.types.js';
import { CLI_ITEM_WORDING, CSI_ITEM_WORDING, standardWording, type AllTexts } from '../surveys.wording.js';
import { CLI_ITEMS, CSI_ITEMS } from '../surveys.types.js';

export const isLanguage = (v: unknown): v is Language => typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);

/** The text to show in `lang`, by the fallback chain above; '' when nobody wrote one. */
export function resolveText(texts: Texts | undefined, lang: Language, surveyDefault: Language, builtIn?: AllTexts): string {
  const own = texts?.[lang];
  if (own) return own;
  const dflt = texts?.[surveyDefault];
  if (dflt) return dflt;
  if (builtIn) return builtIn[lang];
  for (const l of LANGUAGES) if (texts?.[l]) return texts[l]!;
  return '';
}

/** A language range of Accept-Language with its weight, best first (q=0 means "not this one" and is dropped). */
export function parseAcceptLanguage(header: string | undefined): Array<{ range: string; q: number }> {
  if (!header) return [];
  const out: Array<{ range: string; q: number; order: number }> = [];
  header.split(',').forEach((part, order) => {
    const [range, ...params] = part.trim().split(';');
    if (!range || !/^(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)$/.test(range.trim())) return;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](\.\d{0,3})?)\s*$/i.exec(p);
      if (m) q = Math.min(1, Number(m[1]));
    }
    if (q > 0) out.push({ range: range.trim().toLowerCase(), q, order });
  });
  return out.sort((a, b) => b.q - a.q || a.order - b.order).map(({ range, q }) => ({ range, q }));
}

/** The best of `available` for an Accept-Language header (primary subtags: "bg-BG" is bg); null when none fits. */
export function negotiate(header: string | undefined, available: readonly Language[]): Language | null {
  for (const { range } of parseAcceptLanguage(header)) {
    if (range === '*') return null; // "anything": the survey's own default is the best answer
    const primary = range.split('-')[0];
    const hit = available.find((l) => l === primary);
    if (hit) return hit;
  }
  return null;
}

/** Every text element of a question (its text, help, options, block items), with the built-in wording where there is one. */
function textsOf(q: Question): Array<{ texts: Texts | undefined; builtIn?: AllTexts }> {
  const wording = standardWording(q.type);
  const out: Array<{ texts: Texts | undefined; builtIn?: AllTexts }> = [{ texts: q.text, ...(wording ? { builtIn: wording.text } : {}) }];
  if (q.help) out.push({ texts: q.help });
  if (q.type === 'single_choice' || q.type === 'multiple_choice') for (const o of q.options) out.push({ texts: o.label });
  if (q.type === 'csi') for (const item of CSI_ITEMS) out.push({ texts: q.items?.[item], builtIn: CSI_ITEM_WORDING[item] });
  if (q.type === 'cli') for (const item of CLI_ITEMS) out.push({ texts: q.items?.[item], builtIn: CLI_ITEM_WORDING[item] });
  return out;
}

/**
 * The languages a survey can be shown in entirely: every text it has exists in that language, or is a standard
 * question's built-in wording the survey did not override. The survey's default language is always one (what is
 * missing in it falls back as `resolveText` says).
 */
export function availableLanguages(def: SurveyDefinition, surveyDefault: Language): Language[] {
  const elements = [
    ...[def.title, def.intro, def.thank_you].filter((t): t is Texts => t !== undefined).map((texts) => ({ texts, builtIn: undefined as AllTexts | undefined })),
    ...def.questions.flatMap(textsOf),
  ];
  return LANGUAGES.filter((lang) =>
    lang === surveyDefault ||
    elements.every((e) => {
      const written = e.texts && Object.values(e.texts).some((v) => v);
      return written ? Boolean(e.texts![lang]) : Boolean(e.builtIn) || !e.texts;
    }),
  );
}

export interface LanguageChoice {
  /** The `lang` query parameter (the switcher's links, or a link the shop built). */
  query?: string | undefined;
  /** The invited member's language; absent for anonymous links. */
  member?: Language | null | undefined;
  acceptLanguage?: string | undefined;
  available: readonly Language[];
  surveyDefault: Language;
}

/** The page's language, by the order in the header comment. */
export function pickLanguage(c: LanguageChoice): Language {
  if (isLanguage(c.query) && c.available.includes(c.query)) return c.query;
  if (c.member && c.available.includes(c.member)) return c.member;
  return negotiate(c.acceptLanguage, c.available) ?? c.surveyDefault;
}
