/**
 * Reads a CSV file (RFC 4180 quoting on one line per record, a header row, UTF-8, optional BOM)
 * as records keyed by header name, with their line numbers, streaming so that files of millions of
 * rows never sit in memory.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ListFormatError } from '../core/index.js';

export interface CsvRecord { line: number; fields: Readonly<Record<string, string>> }

/** Splits one CSV line; throws with the line number on an unterminated quote. */
export function splitCsvLine(text: string, line: number): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    // Spaces before a quoted field are not part of it (`a, "b, c"` is two fields).
    let q0 = i;
    while (text[q0] === ' ' || text[q0] === '\t') q0++;
    if (text[q0] === '"') i = q0;
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new ListFormatError(line, 'unterminated quoted field (fields may not span lines)');
        value += text.slice(i, q);
        if (text[q + 1] === '"') { value += '"'; i = q + 2; continue; }
        i = q + 1;
        break;
      }
      out.push(value);
      if (i < text.length && text[i] !== ',') throw new ListFormatError(line, 'unexpected text after a quoted field');
    } else {
      const c = text.indexOf(',', i);
      out.push((c < 0 ? text.slice(i) : text.slice(i, c)).trim());
      i = c < 0 ? text.length : c;
    }
    if (i >= text.length) return out;
    i++; // the comma
  }
}

/** Yields the records of a CSV file whose header must contain `columns`. */
export async function* readCsv(path: string, columns: readonly string[]): AsyncGenerator<CsvRecord> {
  const input = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let header: string[] | undefined;
  let line = 0;
  for await (const raw of input) {
    line++;
    const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() === '') continue;
    // The stream decodes bytes that are not UTF-8 as U+FFFD: a term or pattern so mangled would never match.
    if (text.includes('\uFFFD')) throw new ListFormatError(line, 'the line is not valid UTF-8 (or holds U+FFFD); save the file as UTF-8');
    const cells = splitCsvLine(text, line);
    if (!header) {
      header = cells.map((c) => c.trim().toLowerCase());
      const twice = header.find((h, i) => h !== '' && header!.indexOf(h) !== i);
      if (twice !== undefined) throw new ListFormatError(line, `the header names the column ${twice} twice`);
      const missing = columns.filter((c) => !header!.includes(c));
      if (missing.length > 0) {
        throw new ListFormatError(line, `header must name the columns ${columns.join(',')}; missing ${missing.join(',')}`);
      }
      continue;
    }
    if (cells.length !== header.length) {
      throw new ListFormatError(line, `expected ${header.length} fields, found ${cells.length}`);
    }
    const fields: Record<string, string> = {};
    header.forEach((h, i) => { fields[h] = cells[i] as string });
    yield { line, fields };
  }
  if (!header) throw new ListFormatError(Math.max(line, 1), 'the file is empty: a header row is required');
}
