/**
 * Keeps the event catalog (catalog.ts) and docs/events.md honest: every event type the code can emit is in both,
 * and each catalog entry is well-formed. No database: it reads the sources.
 *
 * How emitted types are found in src/**\/*.ts (tests excluded):
 *  1. the value of every `type:` property (a literal, a ternary of literals, a template), in any file;
 *  2. in every file that writes the outbox (calls emit/emitMany or names outbox_events): every string literal shaped
 *     like an event type (`a.b`) whose aggregate is one the catalog knows or whose verb ends in -ed. That catches
 *     the types handed to a module's own helper (`this.event(tx, 'case.opened', …)`), maps such as ledger's
 *     ENTRY_EVENT, ternaries assigned to a variable, and literals inside SQL (`INSERT INTO outbox_events … 'points.expired'`);
 *  3. template literals shaped like an event type (`analytics_run.${end.status}`) in those places must be listed in
 *     TEMPLATES with the values they take, and those values are read back from the type that bounds them.
 * A literal that looks like an event type but is not one goes in NOT_EVENTS (which must stay true of the code).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { EVENT_CATALOG, EVENT_TYPES } from './catalog.js';
import { DOCS_PATH, renderCatalog, START, END } from './catalog.docs.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SRC = path.join(ROOT, 'src');

const EVENT_SHAPE = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;
const TEMPLATE_SHAPE = /^[a-z][a-z0-9_]*\.[a-z0-9_]*\$\{[^}]+\}[a-z0-9_]*$/;

/**
 * Literals that look like event types but are field paths or option names. Each is `file: literal`, and must still
 * occur in that file (so the list cannot go stale).
 */
const NOT_EVENTS: Record<string, string[]> = {
  'src/modules/rewards/rewards.service.ts': ['voucher.${f}', 'voucher.pool_id', 'event.ends_at', 'event.capacity'],
};

/**
 * Event types built from a template: the source text of the template, the file, and where the values come from
 * (a regexp on that file whose first group holds the quoted values the interpolated expression can take).
 */
const TEMPLATES: Array<{ file: string; template: string; values: RegExp }> = [
  { file: 'src/modules/analytics/analytics.runs.ts', template: 'analytics_run.${end.status}', values: /type RunEnd = \{ status: ([^;]+);/ },
  { file: 'src/modules/analytics/simulator/simulator.service.ts', template: 'analytics_simulation.${outcome.status}', values: /let outcome: (.+);\n/ },
];

/** Catalog types emitted by modules still being built on other branches (webhooks, messaging): not in src yet. */
const NOT_YET_EMITTED = new Set<string>([
]);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

interface Literal { text: string; template: boolean; start: number; end: number }

/** Every string and template literal of a file (comments skipped), with its position. Templates keep `${…}` as written. */
function literals(src: string): Literal[] {
  const out: Literal[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '/' && src[i + 1] === '/') { i = src.indexOf('\n', i); if (i < 0) break; continue; }
    if (c === '/' && src[i + 1] === '*') { i = src.indexOf('*/', i + 2); if (i < 0) break; i += 2; continue; }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      out.push({ text: src.slice(i + 1, j), template: false, start: i, end: j + 1 });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      // Templates: the text as written; the quoted literals inside it (SQL) are reported separately too.
      let j = i + 1;
      let depth = 0;
      while (j < n && !(src[j] === '`' && depth === 0)) {
        if (src[j] === '\\') { j += 2; continue; }
        if (src[j] === '$' && src[j + 1] === '{') { depth++; j += 2; continue; }
        if (src[j] === '}' && depth > 0) depth--;
        j++;
      }
      const body = src.slice(i + 1, j);
      out.push({ text: body, template: true, start: i, end: j + 1 });
      for (const m of body.matchAll(/'([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)'/g)) out.push({ text: m[1]!, template: false, start: i + 1 + m.index!, end: i + 1 + m.index! + m[0].length });
      i = j + 1;
      continue;
    }
    i++;
  }
  return out;
}

/** The end of the expression that starts at `from` (the next top-level `,`, `;`, `}`, `)` or `]`). */
function expressionEnd(src: string, from: number, lits: Literal[]): number {
  let depth = 0;
  let i = from;
  while (i < src.length) {
    const lit = lits.find((l) => l.start === i);
    if (lit) { i = lit.end; continue; }
    const c = src[i]!;
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) { if (depth === 0) return i; depth--; }
    else if ((c === ',' || c === ';') && depth === 0) return i;
    i++;
  }
  return i;
}

const aggregates = new Set(EVENT_CATALOG.map((e) => e.type.split('.')[0]!));
const looksEmitted = (t: string) => aggregates.has(t.split('.')[0]!) || /ed$/.test(t.split('.')[1]!);

interface Found { types: Map<string, Set<string>>; templates: Map<string, string>; ignored: Map<string, Set<string>> }

function scan(): Found {
  const found: Found = { types: new Map(), templates: new Map(), ignored: new Map() };
  const add = (type: string, where: string) => {
    if (!found.types.has(type)) found.types.set(type, new Set());
    found.types.get(type)!.add(where);
  };
  for (const file of sourceFiles(SRC)) {
    const rel = path.relative(ROOT, file).split(path.sep).join('/');
    // The catalog itself names every type; the outbox platform writes whatever it is given.
    if (rel.startsWith('src/platform/outbox/')) continue;
    const src = fs.readFileSync(file, 'utf8');
    const lits = literals(src);
    const notEvents = new Set(NOT_EVENTS[rel] ?? []);
    const candidate = (l: Literal, inTypeProperty: boolean) => {
      if (notEvents.has(l.text)) {
        if (!found.ignored.has(rel)) found.ignored.set(rel, new Set());
        found.ignored.get(rel)!.add(l.text);
        return;
      }
      const line = src.slice(0, l.start).split('\n').length;
      if (!l.template && EVENT_SHAPE.test(l.text) && (inTypeProperty || looksEmitted(l.text))) add(l.text, `${rel}:${line}`);
      if (l.template && TEMPLATE_SHAPE.test(l.text) && (inTypeProperty || aggregates.has(l.text.split('.')[0]!))) found.templates.set(`${rel}|${l.text}`, `${rel}:${line}`);
    };
    // 1. `type:` properties, anywhere.
    for (const m of src.matchAll(/\btype:\s*/g)) {
      const from = m.index! + m[0].length;
      if (lits.some((l) => l.start < m.index! && m.index! < l.end)) continue; // inside a string
      const to = expressionEnd(src, from, lits);
      for (const l of lits) if (l.start >= from && l.end <= to) candidate(l, true);
    }
    // 2. Every event-shaped literal of a file that writes the outbox.
    if (/\bemit(Many)?\(|outbox_events/.test(src)) for (const l of lits) candidate(l, false);
  }
  return found;
}

function templateValues(t: (typeof TEMPLATES)[number]): string[] {
  const src = fs.readFileSync(path.join(ROOT, t.file), 'utf8');
  const m = t.values.exec(src);
  assert.ok(m, `${t.file}: the values of ${t.template} are no longer where TEMPLATES looks (${t.values})`);
  const values = [...m[1]!.matchAll(/'([a-z_]+)'/g)].map((x) => x[1]!);
  assert.ok(values.length > 0, `${t.file}: no values found for ${t.template}`);
  return [...new Set(values)];
}

const found = scan();

describe('event catalog', () => {
  test('finds the known ways types are emitted (the scanner itself works)', () => {
    // A literal passed to emit, a module helper, ENTRY_EVENT, SQL, a ternary and a template: one of each.
    for (const t of ['member.created', 'case.opened', 'points.clawed_back', 'points.activated', 'agent.deactivated', 'wallet.debited', 'tier.downgraded']) {
      assert.ok(found.types.has(t), `the scan should find ${t}`);
    }
    assert.ok([...found.templates.keys()].some((k) => k.endsWith('analytics_run.${end.status}')));
    assert.ok(found.types.size >= 120, `only ${found.types.size} types found: the scan is broken`);
    assert.ok(!found.types.has('voucher.pool_id'), 'NOT_EVENTS are ignored');
  });

  test('every type emitted in the source is in the catalog', () => {
    const missing = [...found.types].filter(([t]) => !EVENT_TYPES.has(t)).map(([t, where]) => `${t} (${[...where].join(', ')})`);
    assert.deepEqual(missing, [], 'add these to src/platform/outbox/catalog.ts (or to NOT_EVENTS in this test if they are not event types)');
  });

  test('every event type built from a template is listed with its values, and each value is in the catalog', () => {
    const listed = new Set(TEMPLATES.map((t) => `${t.file}|${t.template}`));
    const unlisted = [...found.templates].filter(([k]) => !listed.has(k)).map(([k, where]) => `${k.split('|')[1]} (${where})`);
    assert.deepEqual(unlisted, [], 'list these templates in TEMPLATES (catalog.test.ts) with where their values come from');
    for (const t of TEMPLATES) {
      assert.ok(found.templates.has(`${t.file}|${t.template}`), `TEMPLATES lists ${t.template} but ${t.file} no longer has it`);
      const prefix = t.template.slice(0, t.template.indexOf('${'));
      for (const v of templateValues(t)) assert.ok(EVENT_TYPES.has(prefix + v), `${prefix}${v} (from ${t.template}) is not in the catalog`);
    }
  });

  test('NOT_EVENTS still name literals of the code', () => {
    for (const [file, texts] of Object.entries(NOT_EVENTS)) {
      for (const t of texts) assert.ok(found.ignored.get(file)?.has(t), `${file} no longer has ${t}: remove it from NOT_EVENTS`);
    }
  });

  test('every catalog type is emitted somewhere (no stale entries)', () => {
    const fromTemplates = new Set(TEMPLATES.flatMap((t) => templateValues(t).map((v) => t.template.slice(0, t.template.indexOf('${')) + v)));
    const stale = EVENT_CATALOG.map((e) => e.type).filter((t) => !found.types.has(t) && !fromTemplates.has(t) && !NOT_YET_EMITTED.has(t));
    assert.deepEqual(stale, [], 'these catalog types are emitted nowhere');
  });

  test('catalog entries are unique and well-formed', () => {
    const seen = new Set<string>();
    for (const e of EVENT_CATALOG) {
      assert.match(e.type, EVENT_SHAPE, `${e.type}: <aggregate>.<verb>, lower case`);
      assert.ok(!seen.has(e.type), `${e.type} is listed twice`);
      seen.add(e.type);
      assert.ok(e.description.length > 10 && /\.$/.test(e.description), `${e.type}: one sentence, ending with a full stop`);
      assert.equal(typeof e.member, 'boolean');
      assert.ok(Object.keys(e.payload).length > 0, `${e.type}: its payload fields`);
      for (const [k, v] of Object.entries(e.payload)) {
        assert.match(k, /^[a-z][a-z0-9_]*$/, `${e.type}: payload field ${k}`);
        assert.ok(v.length > 0, `${e.type}.${k}: say what it holds`);
      }
      assert.ok(e.module.length > 0);
    }
    // A module's entries are together (the docs have a table per module).
    const order = EVENT_CATALOG.map((e) => e.module).filter((m, i, a) => i === 0 || a[i - 1] !== m);
    assert.equal(new Set(order).size, order.length, 'group each module\'s entries together');
  });

  test('docs/events.md lists every catalog type, and its catalog section is the catalog', () => {
    const page = fs.readFileSync(DOCS_PATH, 'utf8');
    for (const e of EVENT_CATALOG) assert.ok(page.includes(`\`${e.type}\``), `docs/events.md does not mention ${e.type}`);
    const a = page.indexOf(START);
    const b = page.indexOf(END);
    assert.ok(a >= 0 && b > a, 'docs/events.md has its catalog section markers');
    assert.equal(page.slice(a, b + END.length), renderCatalog(), 'docs/events.md is out of date: run node --import tsx src/platform/outbox/catalog.docs.ts --write');
    // Nothing documented outside the catalog either: every event-type-looking code span in the page is a catalog type.
    const documented = [...page.matchAll(/`([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)`/g)].map((m) => m[1]!).filter((t) => looksEmitted(t) && !t.endsWith('.md') && !t.endsWith('.ts'));
    assert.deepEqual(documented.filter((t) => !EVENT_TYPES.has(t)), [], 'docs/events.md names types the catalog does not have');
  });
});
