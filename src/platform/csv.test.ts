import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spreadsheetSafe } from './csv.js';

test('text that a spreadsheet would run as a formula gets a leading apostrophe; other text is unchanged', () => {
  for (const bad of ['=1+1', '+SUM(A1)', '-2+3', '@cmd', '\t=x', '\r=x']) assert.equal(spreadsheetSafe(bad), `'${bad}`);
  for (const ok of ['c-100', 'abc', '', "'quoted", '1=1']) assert.equal(spreadsheetSafe(ok), ok);
});
