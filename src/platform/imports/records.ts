/**
 * Reads an uploaded file as a stream of records, each with the line it starts
 * on: CSV through csv-parse (the first record is the header), NDJSON through a
 * line splitter. Neither holds more than a slice of the file in memory.
 *
 * A record that cannot be read (a CSV quote left open, a line that is not
 * JSON, a record over the size limit) becomes a `bad` item with its line, and
 * reading goes on with the next line: the valid rows after it are kept.
 */
import { once } from 'node:events';
import { parse, type CsvError, type Info } from 'csv-parse';

/** The file's bytes from an offset on, in order. */
export interface ByteSource {
  read(fromOffset: number): AsyncIterable<Buffer>;
}

export type FileItem =
  | { kind: 'header'; columns: string[] }
  | { kind: 'row'; line: number; end: number; values: Record<string, unknown> }
  | { kind: 'bad'; line: number; end: number; reason: string };

/** A problem with the file as a whole (no header, a broken header): the import fails. */
export class FileError extends Error {
  override name = 'FileError';
}

export const MAX_RECORD_BYTES = 1024 * 1024;
/** Slices fed to the CSV parser: keeps the records it buffers at once few. */
const FEED_BYTES = 64 * 1024;
const LF = 10;
const CR = 13;

// ── CSV ──────────────────────────────────────────────────────────────────

/**
 * The bytes fed to the parser and not yet passed by the reader, to count lines
 * exactly: csv-parse reports the bytes of each record reliably, but its line
 * count drifts on CRLF inside quoted fields.
 */
class Window {
  private parts: Array<{ at: number; buf: Buffer }> = [];

  push(at: number, buf: Buffer): void {
    this.parts.push({ at, buf });
  }

  /** Drops what lies wholly before `offset`. */
  trim(offset: number): void {
    while (this.parts.length > 0 && this.parts[0]!.at + this.parts[0]!.buf.length <= offset) this.parts.shift();
  }

  /** Walks the bytes in [from, to): the offset of the first byte that is not CR/LF, and the LFs before it and in all. */
  scan(from: number, to: number): { firstContent: number; lfBefore: number; lfTotal: number } {
    let firstContent = -1;
    let lfBefore = 0;
    let lfTotal = 0;
    for (const { at, buf } of this.parts) {
      const end = at + buf.length;
      if (end <= from || at >= to) continue;
      let i = Math.max(from, at) - at;
      const stop = Math.min(to, end) - at;
      if (firstContent < 0) {
        for (; i < stop; i++) {
          const b = buf[i]!;
          if (b === LF) lfBefore++;
          else if (b !== CR) {
            firstContent = at + i;
            break;
          }
        }
        lfTotal = lfBefore;
        if (firstContent < 0) continue;
      }
      for (let j = buf.indexOf(LF, i); j >= 0 && j < stop; j = buf.indexOf(LF, j + 1)) lfTotal++;
    }
    return { firstContent, lfBefore, lfTotal };
  }
}

const CSV_REASONS: Record<string, string> = {
  CSV_INVALID_CLOSING_QUOTE: 'not valid CSV: a closing quote must be followed by a comma or the end of the line',
  CSV_QUOTE_NOT_CLOSED: 'not valid CSV: a quoted field is never closed',
  CSV_INVALID_OPENING_QUOTE: 'not valid CSV: a quote may only open a field',
  CSV_MAX_RECORD_SIZE: `not valid CSV: the record is longer than ${MAX_RECORD_BYTES / 1024} KiB (an unclosed quote?)`,
};

const csvReason = (err: CsvError): string => CSV_REASONS[err.code] ?? `not valid CSV (${err.code})`;

/**
 * CSV records as objects keyed by the header. The header is the first record;
 * a record with another number of fields than the header is a `bad` item.
 * After a syntax error, reading resumes on the line after the one where the
 * broken record started.
 */
export async function* csvItems(source: ByteSource): AsyncGenerator<FileItem> {
  let header: string[] | null = null;
  // Where the current parser starts: an absolute offset, at the start of a line.
  let segment = 0;
  // The end of the last record read (absolute), and the line number there.
  let pos = 0;
  let line = 1;
  for (;;) {
    let error: CsvError | null = null;
    const parser = parse({
      bom: segment === 0,
      info: true,
      relax_column_count: true,
      // A quote inside an unquoted field (O"Brien) is kept as it is, as spreadsheets do.
      relax_quotes: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n'],
      max_record_size: MAX_RECORD_BYTES,
      skip_records_with_error: true,
      on_skip: (err) => {
        error ??= err ?? null;
        return undefined;
      },
    });
    const window = new Window();
    const stop = new AbortController();
    const feeding = (async () => {
      let at = segment;
      try {
        for await (const chunk of source.read(segment)) {
          for (let i = 0; i < chunk.length && !error; i += FEED_BYTES) {
            const slice = chunk.subarray(i, i + FEED_BYTES);
            window.push(at, slice);
            at += slice.length;
            if (!parser.write(slice)) await once(parser, 'drain', { signal: stop.signal });
          }
          // After a syntax error the parser's state is unusable: read no further.
          if (error) break;
        }
        parser.end();
      } catch (err) {
        if (!stop.signal.aborted) parser.destroy(err as Error);
      }
    })();

    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
        // Records the parser emits after an error come from a broken state.
        if (error && info.records > (error as unknown as { records: number }).records) break;
        const end = segment + info.bytes;
        const { firstContent, lfBefore, lfTotal } = window.scan(pos, end);
        const startLine = line + lfBefore;
        pos = end;
        line += lfTotal;
        window.trim(pos);
        if (firstContent < 0) continue; // nothing but line breaks
        if (header === null) {
          header = record.map((c) => c.trim());
          yield { kind: 'header', columns: header };
          continue;
        }
        if (record.length !== header.length) {
          yield { kind: 'bad', line: startLine, end, reason: `${record.length} fields where the header has ${header.length}` };
          continue;
        }
        // No prototype: a column may be called anything, `__proto__` included.
        const values: Record<string, unknown> = Object.create(null);
        for (let i = 0; i < header.length; i++) values[header[i]!] = record[i];
        yield { kind: 'row', line: startLine, end, values };
      }
    } finally {
      stop.abort();
      parser.destroy();
      await feeding;
    }
    if (!error) return;

    // Skip the broken record's first line, report it, and parse again from the next line.
    const broken = await locateLine(source, pos);
    if (!broken) return; // only line breaks were left
    const brokenLine = line + broken.lfBefore;
    if (header === null) throw new FileError(`The header row (line ${brokenLine}) is ${csvReason(error)}.`);
    const next = broken.nextLine;
    yield { kind: 'bad', line: brokenLine, end: next < 0 ? broken.start : next, reason: csvReason(error) };
    if (next < 0) return;
    segment = next;
    pos = next;
    line = brokenLine + 1;
  }
}

/** From `offset`: the first byte that is not a line break, the LFs before it, and the start of the line after it (-1 at the end). */
async function locateLine(source: ByteSource, offset: number): Promise<{ start: number; lfBefore: number; nextLine: number } | null> {
  let at = offset;
  let start = -1;
  let lfBefore = 0;
  for await (const chunk of source.read(offset)) {
    let i = 0;
    if (start < 0) {
      for (; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (b === LF) lfBefore++;
        else if (b !== CR) {
          start = at + i;
          break;
        }
      }
    }
    if (start >= 0) {
      const nl = chunk.indexOf(LF, i);
      if (nl >= 0) return { start, lfBefore, nextLine: at + nl + 1 };
    }
    at += chunk.length;
  }
  return start < 0 ? null : { start, lfBefore, nextLine: -1 };
}

// ── NDJSON ───────────────────────────────────────────────────────────────

/** One JSON object per line; blank lines are skipped. */
export async function* ndjsonItems(source: ByteSource): AsyncGenerator<FileItem> {
  let line = 1;
  let parts: Buffer[] = [];
  let partBytes = 0;
  let tooLong = false;
  let first = true;

  const finish = (end: number): FileItem | null => {
    const thisLine = line;
    line++;
    if (tooLong) {
      tooLong = false;
      return { kind: 'bad', line: thisLine, end, reason: `longer than ${MAX_RECORD_BYTES / 1024} KiB` };
    }
    let text = (parts.length === 1 ? parts[0]! : Buffer.concat(parts, partBytes)).toString('utf8');
    parts = [];
    partBytes = 0;
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.trim() === '') return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { kind: 'bad', line: thisLine, end, reason: `not valid JSON (${(err as Error).message})` };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { kind: 'bad', line: thisLine, end, reason: 'not a JSON object' };
    }
    return { kind: 'row', line: thisLine, end, values: value as Record<string, unknown> };
  };

  let at = 0;
  for await (const chunk of source.read(0)) {
    let i = 0;
    while (i < chunk.length) {
      const nl = chunk.indexOf(LF, i);
      const stop = nl < 0 ? chunk.length : nl;
      if (!tooLong) {
        if (partBytes + (stop - i) > MAX_RECORD_BYTES) {
          tooLong = true;
          parts = [];
          partBytes = 0;
        } else if (stop > i) {
          parts.push(chunk.subarray(i, stop));
          partBytes += stop - i;
        }
      }
      if (nl < 0) break;
      const item = finish(at + nl + 1);
      if (item) yield item;
      i = nl + 1;
    }
    at += chunk.length;
  }
  if (partBytes > 0 || tooLong) {
    const item = finish(at);
    if (item) yield item;
  }
}
