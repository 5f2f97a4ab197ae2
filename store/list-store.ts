/**
 * Match lists (PROTOCOL.md §5) as numbered versions. An import writes its rows under a new version
 * in chunks, and only when every row is in does one small transaction make that version active: a
 * server polling `active()` switches to it whole or not at all. An import then deletes the older versions but
 * those a server may still resolve hits against: the version active before it, and those the server says it is
 * matching with (`markInUse`). A server still compiling an earlier import, or one that failed to compile the
 * newest, so keeps its entries, and no hit of its in-flight batches is lost.
 */
import { VigilError } from '../core/errors.js';
import type { Databases } from './database.js';
import { recordedProcessRunning, thisProcess, type ProcessRecord } from './process-identity.js';

export type ListKind = 'hashes' | 'urls' | 'keywords' | 'apps';
export const LIST_KINDS: readonly ListKind[] = ['hashes', 'urls', 'keywords', 'apps'];

/** One list row: `value` is the hash, URL pattern, term or package; `label` the category or severity. */
export interface ListEntry { value: string; label: string; ref: string; hashType?: string }

/** What an index is compiled from: an entry's value, and for hashes its type. */
export interface ListValue { value: string; hashType?: string }

/** A chunk of a version's values, in entry order (`hashTypes` for hash lists). */
interface ListValues { values: string[]; hashTypes?: string[] }

export interface ListInfo {
  name: string;
  kind: ListKind;
  version: number;
  count: number;
  importedAt: number;
  source: string;
}

const CHUNK = 20_000;

/**
 * An import under way, in `meta` under `listImport:<name>:<version>` from the transaction that numbers its version
 * until the one that activates or drops it, renewed while it runs. A version above the active one whose import has
 * no mark, or a mark that lapsed or names a process gone from this host, was abandoned (the import was killed).
 */
interface ImportMark extends ProcessRecord { aliveAt: number }
const IMPORT_RENEW_MS = 5_000;
const IMPORT_LAPSE_MS = 60_000;
const markKey = (name: string, version: number): string => `listImport:${name}:${version}`;

export class ListStore {
  readonly #db: Databases;

  constructor(db: Databases) {
    this.#db = db;
  }

  /** The active version of every list, read from the newest snapshot (another process may have imported). */
  active(): ListInfo[] {
    this.#db.root.resetReadTxn();
    const out: ListInfo[] = [];
    for (const { value } of this.#db.lists.getRange({})) out.push(value as ListInfo);
    return out;
  }

  get(name: string): ListInfo | undefined {
    return this.#db.lists.get(name) as ListInfo | undefined;
  }

  /**
   * Writes `rows` as a new version of list `name` and activates it. Rows are validated by the
   * caller before they reach here; if the iterable throws, the partial version is removed and the
   * active version is untouched. `onApplied` runs inside the transaction that activates the version, so that
   * what it writes (the import's audit entry) commits with it or not at all.
   */
  async importVersion(
    name: string,
    kind: ListKind,
    source: string,
    rows: AsyncIterable<ListEntry> | Iterable<ListEntry>,
    onProgress: (count: number) => void = () => {},
    onApplied: (info: ListInfo) => void = () => {},
  ): Promise<ListInfo> {
    const current = this.get(name);
    if (current && current.kind !== kind) {
      throw new Error(`list ${name} is a ${current.kind} list; it cannot be replaced by a ${kind} list`);
    }
    await this.dropAbandoned();
    const version = await this.#nextVersion(name);
    const key = markKey(name, version);
    // Renewed only while it is there: the transaction that activates or drops the version removes it.
    const renew = setInterval(() => {
      void this.#db.root.transaction(() => {
        const mark = this.#db.meta.get(key) as ImportMark | undefined;
        if (mark) this.#db.meta.put(key, { ...mark, aliveAt: Date.now() });
      }).catch(() => {});
    }, IMPORT_RENEW_MS).unref();
    try {
      return await this.#importRows(name, kind, source, version, rows, onProgress, onApplied);
    } finally {
      clearInterval(renew);
    }
  }

  async #importRows(
    name: string,
    kind: ListKind,
    source: string,
    version: number,
    rows: AsyncIterable<ListEntry> | Iterable<ListEntry>,
    onProgress: (count: number) => void,
    onApplied: (info: ListInfo) => void,
  ): Promise<ListInfo> {
    let count = 0;
    let info: ListInfo;
    let replaced: ListInfo | undefined;
    try {
      let chunk: ListEntry[] = [];
      const writeChunk = async (): Promise<void> => {
        const start = count - chunk.length;
        const rowsToWrite = chunk;
        chunk = [];
        const chunkValues: ListValues = { values: rowsToWrite.map((row) => row.value) };
        if (kind === 'hashes') chunkValues.hashTypes = rowsToWrite.map((row) => row.hashType ?? '');
        // As UTF-8 JSON bytes, in a binary database: as a MessagePack array, or even as one string, the chunk slowed
        // the MessagePack encoding of every entry put after it, taking a 1,000,000-row import from 6 s to 9 s.
        const packed = Buffer.from(JSON.stringify(chunkValues));
        await this.#db.root.transaction(() => {
          rowsToWrite.forEach((row, i) => this.#db.listEntries.put([name, version, start + i], row));
          this.#db.listValues.put([name, version, start / CHUNK], packed);
        });
        onProgress(count);
      };
      for await (const row of rows) {
        chunk.push(row);
        count++;
        if (chunk.length >= CHUNK) await writeChunk();
      }
      if (chunk.length > 0) await writeChunk();
      const applied: ListInfo = { name, kind, version, count, importedAt: Date.now(), source };
      info = applied;
      // A child transaction, which lmdb-js aborts when its callback throws (a plain one commits what was written).
      // Two imports of one list may run at once: the version numbered later wins, whichever finishes first.
      replaced = await this.#db.root.childTransaction(() => {
        const active = this.#db.lists.get(name) as ListInfo | undefined;
        if (active && active.kind !== kind) { // another kind's import won
          throw new VigilError('LIST_INVALID', `list ${name} became a ${active.kind} list meanwhile; this ${kind} import (version ${version}) is not applied`);
        }
        if (active && active.version > version) {
          throw new VigilError('LIST_INVALID', `list ${name}: version ${active.version}, imported meanwhile, is newer; this import (version ${version}) is not applied`);
        }
        // Its mark gone, the version was taken for abandoned (the import stalled past the lapse) and its rows dropped.
        if (this.#db.meta.get(markKey(name, version)) === undefined) {
          throw new VigilError('LIST_INVALID', `list ${name}: this import (version ${version}) was taken for abandoned and its rows deleted; it is not applied`);
        }
        this.#db.lists.put(name, applied);
        this.#db.meta.remove(markKey(name, version));
        onApplied(applied);
        return active;
      });
    } catch (err) {
      // Nothing of it is applied (a bad row, a newer import, its audit entry failing): its rows and mark go.
      await this.#dropVersion(name, version);
      await this.#db.meta.remove(markKey(name, version));
      throw err;
    }
    // Older versions go, but the one just replaced and those a server says it reads; newer ones may be imports
    // still being written.
    const keep = new Set([version, ...this.inUse(name)]);
    if (replaced) keep.add(replaced.version);
    for (const old of this.#versions(name)) {
      if (old < version && !keep.has(old)) await this.#dropVersion(name, old);
    }
    return info;
  }

  /**
   * A server records the versions of list `name` its matching may still resolve hits against (the one it has
   * switched to, and the one before, for batches in flight), so that an import does not delete them.
   */
  async markInUse(name: string, versions: readonly number[]): Promise<void> {
    await this.#db.meta.put(`listInUse:${name}`, [...versions]);
  }

  /** The versions of list `name` a server last said it matches with (none if no server has). */
  inUse(name: string): number[] {
    const v = this.#db.meta.get(`listInUse:${name}`);
    return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
  }

  /** Entries of one version, in index order. */
  *entries(name: string, version: number): Generator<ListEntry> {
    this.#db.root.resetReadTxn();
    for (const { value } of this.#db.listEntries.getRange({ start: [name, version, 0], end: [name, version + 1, 0] })) {
      yield value as ListEntry;
    }
  }

  /**
   * The values of one version, in index order, for compiling it. They are read a chunk of 20,000 a record: reading
   * 1,000,000 entries one record each took 1.3-1.7 s of a list switch's 5 s (timed by hand). A version imported
   * before the chunks existed is read entry by entry.
   */
  *values(name: string, version: number): Generator<ListValue> {
    this.#db.root.resetReadTxn();
    let chunks = 0;
    for (const { value } of this.#db.listValues.getRange({ start: [name, version, 0], end: [name, version + 1, 0] })) {
      const chunk = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString()) as ListValues;
      chunks++;
      for (let i = 0; i < chunk.values.length; i++) {
        const hashType = chunk.hashTypes?.[i];
        yield hashType === undefined ? { value: chunk.values[i]! } : { value: chunk.values[i]!, hashType };
      }
    }
    if (chunks === 0) yield* this.entries(name, version);
  }

  entry(name: string, version: number, index: number): ListEntry | undefined {
    return this.#db.listEntries.get([name, version, index]) as ListEntry | undefined;
  }

  /** Numbers the next version of `name`, and marks its import as under way in the same transaction. */
  async #nextVersion(name: string): Promise<number> {
    const key = `listVersion:${name}`;
    return this.#db.root.transaction(() => {
      const next = ((this.#db.meta.get(key) as number | undefined) ?? 0) + 1;
      this.#db.meta.put(key, next);
      this.#db.meta.put(markKey(name, next), { ...thisProcess(), aliveAt: Date.now() } satisfies ImportMark);
      return next;
    });
  }

  /**
   * Deletes the rows of imports that were abandoned part-way (the importing process was killed): versions above
   * the active one (or of a list never activated) whose import is not under way (`ImportMark`). Every import does
   * this first, and the server on start-up. Returns the versions dropped, as `name@version`.
   */
  async dropAbandoned(now = Date.now()): Promise<string[]> {
    const dropped: string[] = [];
    for (const [name, marked] of this.#listNames()) {
      for (const version of new Set([...this.#versions(name), ...marked])) {
        // Decided, and the mark removed, in one transaction: read outside one, the active version could be stale by
        // then (an import activating it meanwhile), and its rows were deleted. The import's activation checks its mark.
        // Looked at outside one first, so that a clean-up finding nothing commits nothing.
        const seen = this.#abandonedVersion(name, version, now);
        if (seen === 'kept' || (seen === 'older' && this.#db.meta.get(markKey(name, version)) === undefined)) continue;
        const abandoned = await this.#db.root.transaction(() => {
          const verdict = this.#abandonedVersion(name, version, now);
          if (verdict !== 'kept' && this.#db.meta.get(markKey(name, version)) !== undefined) this.#db.meta.remove(markKey(name, version));
          return verdict === 'abandoned';
        });
        if (!abandoned) continue;
        await this.#dropVersion(name, version);
        dropped.push(`${name}@${version}`);
      }
    }
    return dropped;
  }

  /** Whether `version` of `name` is abandoned, older than the active one (its mark, if any, is stale), or kept. */
  #abandonedVersion(name: string, version: number, now: number): 'abandoned' | 'older' | 'kept' {
    const active = this.#db.lists.get(name) as ListInfo | undefined;
    if (version === active?.version || this.inUse(name).includes(version)) return 'kept';
    // Older versions are the next import's to drop (it keeps the one it replaces).
    if (version < (active?.version ?? 0)) return 'older';
    const mark = this.#db.meta.get(markKey(name, version)) as ImportMark | undefined;
    const live = mark !== undefined && now - mark.aliveAt < IMPORT_LAPSE_MS && recordedProcessRunning(mark);
    return live ? 'kept' : 'abandoned';
  }

  /** Names that may have rows (lists with a record, those of chunks), with the versions of their import marks. */
  #listNames(): Map<string, number[]> {
    this.#db.root.resetReadTxn();
    const names = new Map<string, number[]>();
    const add = (name: string) => names.get(name) ?? names.set(name, []).get(name)!;
    for (const key of this.#db.lists.getKeys({})) add(key as string);
    for (const key of this.#db.listValues.getKeys({})) add((key as [string, number, number])[0]);
    for (const key of this.#db.meta.getKeys({ start: 'listImport:', end: 'listImport;' })) {
      const rest = (key as string).slice('listImport:'.length);
      const at = rest.lastIndexOf(':');
      add(rest.slice(0, at)).push(Number(rest.slice(at + 1)));
    }
    return names;
  }

  #versions(name: string): number[] {
    const seen = new Set<number>();
    let probe: [string, number, number] = [name, 0, 0];
    for (;;) {
      let found: number | undefined;
      for (const key of this.#db.listEntries.getKeys({ start: probe, end: [name, Number.MAX_SAFE_INTEGER, 0], limit: 1 })) {
        const k = key as [string, number, number];
        if (k[0] === name) found = k[1];
      }
      if (found === undefined) return [...seen];
      seen.add(found);
      probe = [name, found + 1, 0];
    }
  }

  async #dropVersion(name: string, version: number): Promise<void> {
    const range = { start: [name, version, 0], end: [name, version + 1, 0] };
    const chunks = [...this.#db.listValues.getKeys(range)];
    if (chunks.length > 0) await this.#db.root.transaction(() => { for (const k of chunks) this.#db.listValues.remove(k); });
    const keys = [...this.#db.listEntries.getKeys(range)];
    for (let i = 0; i < keys.length; i += CHUNK) {
      const part = keys.slice(i, i + CHUNK);
      await this.#db.root.transaction(() => { for (const k of part) this.#db.listEntries.remove(k); });
    }
  }
}
