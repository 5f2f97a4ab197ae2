import type { IndexMatch } from '../index-match.js';
import { ListEntryError } from '../../core/errors.js';
import { tagForward } from './string-hash.js';
import { StringTable, type SharedStringTable } from './string-table.js';

/** An `AppIndex` as worker threads receive it: shared memory and counts only. */
export interface SharedAppIndex {
  kind: 'apps';
  /** Entries the index was built from. */
  size: number;
  packages: SharedStringTable;
}

export type ParsedAppPackage = { ok: true; package: string } | { ok: false; reason: string };

/** Control characters, and whitespace at either end: never part of a package id or process name. */
const NOT_A_PACKAGE = /[\u0000-\u001f\u007f]|^\s|\s$/;

/**
 * Validates one `package` cell of an `apps` list; the list importer calls it on every row. The id is kept
 * exactly as written (no case folding, no trimming): Android package ids are case-sensitive, and a process
 * name on a PC is matched as the device reports it. Refused: empty ids, control characters, and
 * whitespace at either end (a sign of a badly exported CSV rather than a real id).
 */
export function parseAppPackage(raw: string): ParsedAppPackage {
  if (typeof raw !== 'string' || raw === '') return { ok: false, reason: 'empty package id' };
  if (NOT_A_PACKAGE.test(raw)) {
    return { ok: false, reason: `package id has control characters or surrounding whitespace: ${JSON.stringify(raw)}` };
  }
  return { ok: true, package: raw };
}

/**
 * The compiled `apps` list: matches the `package` of an `app` event exactly and case-sensitively
 * (`com.example.chat` does not match `com.example.Chat` or `com.example.chat.beta`).
 */
export class AppIndex {
  readonly size: number;
  private table: StringTable | undefined;

  private constructor(size: number, table: StringTable) {
    this.size = size;
    this.table = table;
  }

  /**
   * Builds an index in which entry `i` is `packages[i]`. Throws a `ListEntryError` (code `LIST_INVALID`)
   * naming the position of the first id `parseAppPackage` refuses.
   */
  static build(packages: readonly string[]): AppIndex {
    const keys = packages.map((raw, i) => {
      const parsed = parseAppPackage(raw);
      if (!parsed.ok) throw new ListEntryError(i, parsed.reason);
      return oneByteKey(parsed.package);
    });
    return new AppIndex(packages.length, StringTable.build(keys, keys.map((_, i) => i), tagForward));
  }

  /** Wraps an index built in another thread: the same memory, no copy, no rebuild. */
  static fromShared(shared: SharedAppIndex): AppIndex {
    return new AppIndex(shared.size, StringTable.fromShared(shared.packages));
  }

  toShared(): SharedAppIndex {
    return { kind: 'apps', size: this.size, packages: this.live().toShared() };
  }

  /** Bytes of shared memory the index occupies. */
  get byteLength(): number {
    return this.live().byteLength;
  }

  /** An `app` event: the entries whose id equals `pkg` exactly. */
  match(pkg: string): IndexMatch[] {
    const table = this.live();
    const out: IndexMatch[] = [];
    if (typeof pkg !== 'string') return out;
    const key = oneByteKey(pkg);
    const slot = table.find(tagForward(key), key, 0, key.length);
    if (slot >= 0) table.pushMatches(slot, out);
    return out;
  }

  /** Drops this thread's view of the shared memory. Using the index afterwards is a bug and throws. */
  dispose(): void {
    this.table = undefined;
  }

  private live(): StringTable {
    if (this.table === undefined) throw new Error('AppIndex used after dispose()');
    return this.table;
  }
}

/**
 * The string table holds one-byte characters, and package ids are nearly always ASCII; process names on a
 * PC may not be. So every code unit above 0x7e, and `\` itself, is written `\` plus four hex digits. ASCII
 * ids stay as they are, and since `\` is always escaped, two different ids (lone surrogates included)
 * never give the same key.
 */
function oneByteKey(id: string): string {
  let plain = true;
  for (let i = 0; i < id.length && plain; i++) {
    const c = id.charCodeAt(i);
    plain = c < 0x7f && c !== 0x5c;
  }
  if (plain) return id;
  let out = '';
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    out += c < 0x7f && c !== 0x5c ? id[i] : `\\${c.toString(16).padStart(4, '0')}`;
  }
  return out;
}
