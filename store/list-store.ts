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
   * active version is untouched.
   */
  async importVersion(
    name: string,
    kind: ListKind,
    source: string,
    rows: AsyncIterable<ListEntry> | Iterable<ListEntry>,
    onProgress: (count: number) => void = () => {},
  ): Promise<ListInfo> {
    const current = this.get(name);
    if (current && current.kind !== kind) {
      throw new Error(`list ${name} is a ${current.kind} list; it cannot be replaced by a ${kind} list`);
    }
    const version = await this.#nextVersion(name);
    let count = 0;
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
    } catch (err) {
      await this.#dropVersion(name, version);
      throw err;
    }
    const info: ListInfo = { name, kind, version, count, importedAt: Date.now(), source };
    // Two imports of one list may run at once: the version numbered later wins, whichever finishes first.
    const outcome = await this.#db.root.transaction(() => {
      const active = this.#db.lists.get(name) as ListInfo | undefined;
      if (active && active.version > version) return { applied: false as const, active };
      if (active && active.kind !== kind) return { applied: false as const, active }; // another kind's import won
      this.#db.lists.put(name, info);
      return { applied: true as const, active };
    });
    if (!outcome.applied) {
      await this.#dropVersion(name, version);
      throw new VigilError('LIST_INVALID', outcome.active.kind !== kind
        ? `list ${name} became a ${outcome.active.kind} list meanwhile; this ${kind} import (version ${version}) is not applied`
        : `list ${name}: version ${outcome.active.version}, imported meanwhile, is newer; this import (version ${version}) is not applied`);
    }
    // Older versions go, but the one just replaced and those a server says it reads; newer ones may be imports
    // still being written.
    const keep = new Set([version, ...this.inUse(name)]);
    if (outcome.active) keep.add(outcome.active.version);
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

  async #nextVersion(name: string): Promise<number> {
    const key = `listVersion:${name}`;
    return this.#db.root.transaction(() => {
      const next = ((this.#db.meta.get(key) as number | undefined) ?? 0) + 1;
      this.#db.meta.put(key, next);
      return next;
    });
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
