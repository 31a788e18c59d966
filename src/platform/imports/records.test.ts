/** The file readers on their own: line numbers, broken records, chunk boundaries. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvItems, FileError, ndjsonItems, type ByteSource, type FileItem } from './records.js';

/** A file served in chunks of `size` bytes, like the stored upload chunks. */
function source(text: string | Buffer, size: number): ByteSource {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return {
    async *read(from: number) {
      for (let i = from; i < bytes.length; i += size) yield bytes.subarray(i, Math.min(i + size, bytes.length));
    },
  };
}

async function all(items: AsyncIterable<FileItem>): Promise<FileItem[]> {
  const out: FileItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const brief = (items: FileItem[]) =>
  items.map((i) => (i.kind === 'header' ? `header:${i.columns.join('|')}` : i.kind === 'row' ? `${i.line}:${JSON.stringify(i.values)}` : `${i.line}!${i.reason}`));

for (const size of [1, 3, 7, 64, 1 << 20]) {
  test(`CSV: line numbers, quoted line breaks, CRLF, blank lines and broken records (chunks of ${size} bytes)`, async () => {
    const text =
      '\ufeffexternal_id,name\r\n' + // 1 (BOM and CRLF)
      'a,Ann\r\n' + // 2
      '\r\n' + // 3 blank
      'b,"Bo\r\nB"\r\n' + // 4-5 quoted CRLF
      'c,"Cy\nC"\n' + // 6-7 quoted LF, then LF endings
      'd,Di,extra\n' + // 8 wrong field count
      'e,"Ed"x\n' + // 9 text after a closing quote
      'f,O"Brien\n' + // 10 a quote inside an unquoted field is kept
      '\n\n' + // 11-12 blank
      'g,"unclosed\n' + // 13 quote never closed
      'h,Ha\n' + // 14 (swallowed by the open quote, then re-read)
      'i,Ib'; // 15, no final line break
    const items = brief(await all(csvItems(source(text, size))));
    assert.deepEqual(items, [
      'header:external_id|name',
      '2:{"external_id":"a","name":"Ann"}',
      '4:{"external_id":"b","name":"Bo\\r\\nB"}',
      '6:{"external_id":"c","name":"Cy\\nC"}',
      '8!3 fields where the header has 2',
      '9:{"external_id":"e","name":"\\"Ed\\"x"}', // lenient, as spreadsheets are: the quotes are kept
      '10:{"external_id":"f","name":"O\\"Brien"}',
      '13!not valid CSV: a quoted field is never closed',
      '14:{"external_id":"h","name":"Ha"}',
      '15:{"external_id":"i","name":"Ib"}',
    ]);
  });
}

test('CSV: a broken header fails the file', async () => {
  await assert.rejects(all(csvItems(source('"external_id,name\na,b\n', 4))), (err: unknown) => err instanceof FileError && /line 1/.test(err.message));
});

test('CSV: a runaway quoted field stops at the size limit, and the next line is read', async () => {
  const text = `k,v\nx,"${'a'.repeat(1024 * 1024 + 100)}\ny,ok\n`;
  const items = brief(await all(csvItems(source(text, 256 * 1024))));
  assert.deepEqual(items, ['header:k|v', '2!not valid CSV: the record is longer than 1024 KiB (an unclosed quote?)', '3:{"k":"y","v":"ok"}']);
});

test('CSV: ends of records are byte offsets into the file', async () => {
  const text = 'x\n1\n22\n';
  const items = await all(csvItems(source(text, 2)));
  assert.deepEqual(items.filter((i) => i.kind === 'row').map((i) => (i as { end: number }).end), [4, 7]);
});

for (const size of [1, 5, 1 << 20]) {
  test(`NDJSON: objects per line, blank lines, bad lines (chunks of ${size} bytes)`, async () => {
    const text = '\ufeff{"external_id":"a"}\n\n{"external_id":"b"}\r\nnot json\n[1]\n{"external_id":"é"}';
    const items = brief(await all(ndjsonItems(source(text, size))));
    assert.equal(items.length, 5);
    assert.equal(items[0], '1:{"external_id":"a"}');
    assert.equal(items[1], '3:{"external_id":"b"}');
    assert.match(items[2]!, /^4!not valid JSON/);
    assert.equal(items[3], '5!not a JSON object');
    assert.equal(items[4], '6:{"external_id":"é"}');
  });
}

test('NDJSON: a line over the size limit is rejected and the next one kept', async () => {
  const long = `{"external_id":"${'x'.repeat(1024 * 1024 + 10)}"}`;
  const items = brief(await all(ndjsonItems(source(`${long}\n{"external_id":"ok"}\n`, 300_000))));
  assert.deepEqual(items, ['1!longer than 1024 KiB', '2:{"external_id":"ok"}']);
});
