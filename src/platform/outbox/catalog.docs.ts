/**
 * The catalog section of docs/events.md, rendered from EVENT_CATALOG so the page cannot drift from the code
 * (catalog.test.ts compares them). After changing the catalog:
 *
 *   node --import tsx src/platform/outbox/catalog.docs.ts --write
 */
import fs from 'node:fs';
import path from 'node:path';
import { EVENT_CATALOG } from './catalog.js';

export const DOCS_PATH = path.resolve(import.meta.dirname, '../../../docs/events.md');
export const START = '<!-- catalog:start (generated from src/platform/outbox/catalog.ts; do not edit by hand) -->';
export const END = '<!-- catalog:end -->';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderCatalog(): string {
  const modules = [...new Set(EVENT_CATALOG.map((e) => e.module))];
  const out: string[] = [START, ''];
  for (const m of modules) {
    out.push(`### ${m}`, '', '| Type | When | Member | Payload |', '|---|---|---|---|');
    for (const e of EVENT_CATALOG.filter((x) => x.module === m)) {
      const payload = Object.entries(e.payload).map(([k, v]) => `\`${k}\`: ${cell(v)}`).join('<br>');
      out.push(`| \`${e.type}\` | ${cell(e.description)} | ${e.member ? 'yes' : 'no'} | ${payload} |`);
    }
    out.push('');
  }
  out.push(END);
  return out.join('\n');
}

/** The docs page with its catalog section replaced by `section`. */
export function withCatalog(page: string, section: string): string {
  const a = page.indexOf(START);
  const b = page.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/events.md has no catalog section (${START} … ${END})`);
  return page.slice(0, a) + section + page.slice(b + END.length);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename) && process.argv.includes('--write')) {
  fs.writeFileSync(DOCS_PATH, withCatalog(fs.readFileSync(DOCS_PATH, 'utf8'), renderCatalog()));
  console.log(`wrote ${DOCS_PATH}`);
}
