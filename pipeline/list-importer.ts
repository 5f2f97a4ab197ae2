/**
 * `vigil lists import`: validates every row of a list file with the matchers' own parsers and
 * writes it as a new list version. The first malformed row stops the import with its line number,
 * and nothing of that import is applied (the store drops the partial version).
 */
import { access, constants, stat } from 'node:fs/promises';
import { ListFormatError, SEVERITIES, UsageError, VigilError } from '../core/index.js';
import { normalizeText, parseAppPackage, parseUrlPattern } from '../matchers/index.js';
import type { ListEntry, ListInfo, ListKind, ListStore } from '../store/index.js';
import { checkKeywordsCompile } from './keyword-check.js';
import { readCsv, type CsvRecord } from './csv-rows.js';

export const LIST_COLUMNS: Readonly<Record<ListKind, readonly string[]>> = {
  hashes: ['type', 'value', 'category', 'ref'],
  urls: ['pattern', 'category', 'ref'],
  keywords: ['term', 'severity', 'ref'],
  apps: ['package', 'category', 'ref'],
};

export const HASH_HEX_LENGTH: Readonly<Record<string, number>> = {
  md5: 32, sha1: 40, sha256: 64, blake3: 64, pdq: 64, blockhash: 64,
};

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks a list name: letters, digits, `.`, `_`, `-`, at most 64 characters. */
export function validListName(name: string): boolean { return NAME_RE.test(name) }

function required(rec: CsvRecord, col: string, max = 1024): string {
  const v = rec.fields[col] ?? '';
  if (v === '') throw new ListFormatError(rec.line, `${col} is empty`);
  if (v.length > max) throw new ListFormatError(rec.line, `${col} is longer than ${max} characters`);
  return v;
}

/** Validates one record into a list entry; throws ListFormatError naming the line. */
export function toEntry(kind: ListKind, rec: CsvRecord): ListEntry {
  switch (kind) {
    case 'hashes': {
      const type = required(rec, 'type').toLowerCase();
      const len = HASH_HEX_LENGTH[type];
      if (len === undefined) throw new ListFormatError(rec.line, `type must be one of ${Object.keys(HASH_HEX_LENGTH).join(', ')}`);
      const value = required(rec, 'value').toLowerCase();
      if (value.length !== len || !/^[0-9a-f]+$/.test(value)) {
        throw new ListFormatError(rec.line, `value must be ${len} hex digits for ${type}`);
      }
      return { value, hashType: type, label: required(rec, 'category', 64), ref: required(rec, 'ref', 256) };
    }
    case 'urls': {
      const raw = required(rec, 'pattern', 8192);
      const parsed = parseUrlPattern(raw);
      if (!parsed.ok) throw new ListFormatError(rec.line, `pattern ${JSON.stringify(raw)}: ${parsed.reason}`);
      return { value: raw, label: required(rec, 'category', 64), ref: required(rec, 'ref', 256) };
    }
    case 'keywords': {
      const term = required(rec, 'term', 512);
      if (normalizeText(term).trim() === '') throw new ListFormatError(rec.line, 'term has no letters or digits to match');
      const severity = required(rec, 'severity', 16).toLowerCase();
      if (!(SEVERITIES as readonly string[]).includes(severity)) {
        throw new ListFormatError(rec.line, `severity must be one of ${SEVERITIES.join(', ')}`);
      }
      return { value: term, label: severity, ref: required(rec, 'ref', 256) };
    }
    case 'apps': {
      const pkg = required(rec, 'package', 512);
      if (/\s/.test(pkg)) throw new ListFormatError(rec.line, 'package must not contain spaces');
      const parsed = parseAppPackage(pkg);
      if (!parsed.ok) throw new ListFormatError(rec.line, parsed.reason);
      return { value: pkg, label: required(rec, 'category', 64), ref: required(rec, 'ref', 256) };
    }
  }
}

/**
 * The rows of `path` as entries. A keyword list is then compiled as the server will compile it, before the
 * store activates the version: a list whose automaton would be too large (many terms in scripts with many
 * distinct characters) is refused here, rather than imported and then left uncompiled by the server.
 */
async function* entries(kind: ListKind, path: string, onCheck: (rows: number) => void, allowEmpty: boolean,
  signal: AbortSignal | undefined): AsyncGenerator<ListEntry> {
  const terms: string[] = [];
  let rows = 0;
  const stopIfAborted = (): void => {
    if (signal?.aborted) throw new VigilError('INTERRUPTED', 'the import was interrupted; nothing of it is applied');
  };
  for await (const rec of readCsv(path, LIST_COLUMNS[kind])) {
    stopIfAborted();
    const entry = toEntry(kind, rec);
    if (kind === 'keywords') terms.push(entry.value);
    rows++;
    yield entry;
  }
  // An empty version would stop all matching against the list: more often a truncated export than a wish.
  if (rows === 0 && !allowEmpty) throw new VigilError('LIST_INVALID', 'the file has a header but no rows; to empty the list on purpose, pass --allow-empty (allowEmpty=true over HTTP)');
  if (kind !== 'keywords') return;
  onCheck(terms.length);
  try {
    // In a thread of its own: a second or more for every ten thousand terms, which on the server (an HTTP upload)
    // held up ingest.
    await checkKeywordsCompile(terms);
  } catch (err) {
    if (err instanceof VigilError) throw new VigilError('LIST_INVALID', `the list cannot be compiled: ${err.message}`);
    throw err;
  }
  stopIfAborted();
}

export interface ImportOptions {
  /** Told the row count as rows are written. */
  onProgress?: (rows: number) => void;
  /** Told once all rows are read and a keyword list is being compiled to check it. */
  onCheck?: (rows: number) => void;
  /** Apply a file with a header and no rows (it empties the list). */
  allowEmpty?: boolean;
  /** Runs inside the transaction that activates the version (`ListStore.importVersion`): for its audit entry. */
  onApplied?: (info: ListInfo) => void;
  /** Where the rows came from, as the list's record says (the file's path unless given). */
  source?: string;
  /**
   * Stops the import while its rows are read (with a `VigilError` coded `INTERRUPTED`): the store then drops what
   * was written, and nothing of it is applied. Aborted once the version is being activated, it completes.
   */
  signal?: AbortSignal;
}

/** Imports `path` as a new version of list `name`. */
export async function importListFile(
  store: ListStore, kind: ListKind, name: string, path: string,
  { onProgress, onCheck = () => {}, allowEmpty = false, onApplied, source = path, signal }: ImportOptions = {},
): Promise<ListInfo> {
  if (!validListName(name)) throw new UsageError(`list name ${JSON.stringify(name)} must be 1-64 letters, digits, '.', '_' or '-'`);
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!(await stat(path)).isFile()) throw new UsageError(`cannot read ${path}: not a regular file`);
  const current = store.get(name);
  if (current && current.kind !== kind) {
    throw new UsageError(`list ${name} is a ${current.kind} list; it cannot be replaced by a ${kind} list (use another --name)`);
  }
  return store.importVersion(name, kind, source, entries(kind, path, onCheck, allowEmpty, signal), onProgress, onApplied);
}
