/**
 * The durable event journal. Ingest appends events; the journal groups everything appended in
 * the same event-loop turn into one LMDB transaction (group commit), committed and synced to disk
 * at the end of the turn, and only then tells its listener, so an ack never runs ahead of durability. An entry
 * stays in the journal only until its event has been matched: the alert store deletes it in the
 * same transaction that stores the event's alerts, so a crash can neither lose nor repeat one.
 *
 * A group commit writes one record, a page holding all its entries (store/journal-codec.ts), under an
 * integer key that grows with every page; every entry of the page has the page's key as its `journalKey`,
 * and the pipeline matches and deletes a page as a whole. One record per commit rather than one per event
 * takes the per-event LMDB work (a put at commit, a delete once matched) off ingest's thread, and the
 * growing key keeps writes at the right-hand end of the B-tree and deletions at the left-hand end
 * (bench/journal-keys.ts measures the layouts). Values are mostly the devices' own frames, as bytes.
 *
 * A device's highest durable seq (`hello`'s lastSeq after a restart) is the highest of its entries still in the
 * journal, or else what `deviceSeq` holds. `deviceSeq` is written only when a device's newest page is deleted
 * (`releasing`), in the transaction that deletes the page, so a commit, which holds ingest's thread, does not write
 * a record per device (measured: that took more than half of each commit's time at 50,000 events/s). The pipeline
 * usually matches a page before the next one is committed, so those deletions do write many: 100-800 records a
 * batch at 50,000 events/s (counted by hand). LMDB's write thread writes them, and leaving them out made no difference
 * beyond the noise to ack latency in four alternating runs (bench/README.md, eighth session).
 */
import { performance } from 'node:perf_hooks';
import type { JournaledEvent, StoredEvent } from '../core/events.js';
import type { DeviceId } from '../core/ids.js';
import type { Databases, Key } from './database.js';
import { decodeRecord, encodeEntry, encodePage, recordSize } from './journal-codec.js';

/** A page as written: its key, its value (`encodePage`) and how many entries it holds. */
export interface DurablePage { key: number; value: Uint8Array; size: number }

/** Told, in commit order, which entries became durable (group commits made in one go are told as one), or failed to. */
export interface JournalListener<T> {
  /**
   * `entries` became durable, written as `pages`, in the same order: the first page holds the first `size` entries,
   * and so on. The pipeline takes the pages as they are, so that nothing of each event has to wait for matching
   * on ingest's thread but the bytes already written.
   */
  durable(entries: T[], pages: DurablePage[]): void;
  failed(entries: T[], err: unknown): void;
  /** How long a commit of `entries` events took, in seconds, disk sync included (it holds the event loop). */
  committed?(seconds: number, entries: number): void;
}

interface Outcome<T> { batch: T[]; pages?: DurablePage[]; err?: unknown }

/** A page holding more than this is closed and the commit's other entries go in the next (images make entries large). */
export const MAX_PAGE_BYTES = 8 * 1024 * 1024;

export class Journal<T extends JournaledEvent = JournaledEvent> {
  readonly #db: Databases;
  readonly #maxBatch: number;
  readonly #listener: JournalListener<T>;
  #open: T[] = [];
  #scheduled = false;
  /** Commits made but not yet told to the listener (see `#report`). */
  #outcomes: Outcome<T>[] = [];
  /** The key the next page gets. */
  #nextKey: number;
  /** Highest durable seq per device, for the devices this journal has read or written. */
  readonly #durableSeq = new Map<DeviceId, number>();
  /** The pages not yet deleted: how many entries each holds (for `pendingCount`), and its devices. */
  readonly #pages = new Map<number, { size: number; devices: DeviceId[] }>();
  /** Each device's newest page, while it is in `#pages`. */
  readonly #lastPage = new Map<DeviceId, number>();
  /** Pages an earlier run left that cannot be decoded (see `unreadable`). */
  readonly #unreadable: number[] = [];

  constructor(db: Databases, maxBatch: number, listener: JournalListener<T>) {
    this.#db = db;
    this.#maxBatch = maxBatch;
    this.#listener = listener;
    this.#nextKey = this.#upgradeAndFindNextKey();
    this.#readPages();
  }

  /**
   * Learns the devices, and their highest seqs, of the pages an earlier run left. A page that cannot be decoded
   * (only damage could make one) is kept as it is and listed in `unreadable`, rather than stopping the server.
   */
  #readPages(): void {
    for (const { key, value } of this.#db.journal.getRange({})) {
      const highest = new Map<DeviceId, number>();
      let entries;
      try {
        entries = decodeRecord(value);
      } catch {
        this.#unreadable.push(key);
        this.#addPage(key, safeRecordSize(value), highest);
        continue;
      }
      for (const { deviceId, event } of entries) if ((highest.get(deviceId) ?? 0) < event.seq) highest.set(deviceId, event.seq);
      this.#addPage(key, entries.length, highest);
    }
  }

  /** Notes a page on disk (written now, or left by an earlier run): its size, its devices and their highest seqs. */
  #addPage(key: number, size: number, highest: ReadonlyMap<DeviceId, number>): void {
    this.#pages.set(key, { size, devices: [...highest.keys()] });
    for (const [deviceId, seq] of highest) {
      this.#lastPage.set(deviceId, key);
      if (this.lastSeq(deviceId) < seq) this.#durableSeq.set(deviceId, seq);
    }
  }

  /**
   * What `deviceSeq` must record when these pages are deleted, in the same transaction: for each device whose
   * newest page is among them, its highest durable seq (a device with a newer page is still covered by it).
   * Read when the deletion is issued, from values that only grow, so a later deletion never writes less.
   */
  releasing(keys: readonly number[]): Map<DeviceId, number> {
    const out = new Map<DeviceId, number>();
    for (const key of keys) {
      for (const deviceId of this.#pages.get(key)?.devices ?? []) {
        if (this.#lastPage.get(deviceId) === key) out.set(deviceId, this.lastSeq(deviceId));
      }
    }
    return out;
  }

  /** The pages were deleted: by the pipeline (`releasing` gave what went with them) or by retention. */
  released(keys: readonly number[]): void {
    for (const key of keys) {
      for (const deviceId of this.#pages.get(key)?.devices ?? []) {
        if (this.#lastPage.get(deviceId) === key) this.#lastPage.delete(deviceId);
      }
      this.#pages.delete(key);
    }
  }

  /**
   * Keys of the pages found on opening that cannot be decoded. They stay in the journal: the pipeline tries them
   * (and gives up after its attempts), and the retention sweep deletes them once `journalMaxAgeHours` have passed,
   * as it does any page left unmatched. Their devices are not known, so neither is what they held of each device's
   * sequence: a device whose newest events were in one may resend them, and they are then stored again.
   */
  get unreadable(): readonly number[] { return this.#unreadable }

  /** Highest sequence number stored durably for the device, 0 if none. */
  lastSeq(deviceId: DeviceId): number {
    let seq = this.#durableSeq.get(deviceId);
    if (seq === undefined) {
      seq = this.#db.deviceSeq.get(deviceId) ?? 0;
      this.#durableSeq.set(deviceId, seq);
    }
    return seq;
  }

  /**
   * Queues an event for the next group commit; the listener hears when it is durable.
   * Events of one device must be appended in sequence order.
   */
  append(entry: T): void {
    this.#open.push(entry);
    if (this.#open.length >= this.#maxBatch) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  /**
   * Writes what was appended since the last flush, at the end of the event-loop turn that appended it: one
   * synchronous transaction, committed and on disk (fsync) when `transactionSync` returns, so the listener hears
   * of it, and devices get their acks, within the same turn. Measured against an asynchronous batch whose commit
   * is reported back in a later turn, this halved ack latency at 50,000 events/s (bench/README.md); with one
   * page per commit the transaction is short.
   */
  #flush(): void {
    this.#scheduled = false;
    const batch = this.#open;
    if (batch.length === 0) return;
    this.#open = [];
    const { journal, root } = this.#db;
    const pages: { key: number; value: Buffer; size: number; devices: Map<DeviceId, number> }[] = [];
    try {
      // Encoded first, so that nothing can throw half-way through the transaction.
      let entries: Uint8Array[] = [];
      let devices = new Map<DeviceId, number>();
      let bytes = 0;
      for (const entry of batch) {
        const { deviceId, event } = entry;
        const value = entry.encoded ?? encodeEntry(deviceId, event);
        entry.encoded = undefined;
        if (entries.length > 0 && bytes + value.byteLength > MAX_PAGE_BYTES) {
          pages.push({ key: this.#nextKey++, value: encodePage(entries), size: entries.length, devices });
          entries = [];
          devices = new Map();
          bytes = 0;
        }
        entry.journalKey = this.#nextKey;
        entries.push(value);
        if ((devices.get(deviceId) ?? 0) < event.seq) devices.set(deviceId, event.seq);
        bytes += value.byteLength;
      }
      pages.push({ key: this.#nextKey++, value: encodePage(entries), size: entries.length, devices });
      const started = performance.now();
      root.transactionSync(() => {
        for (const { key, value } of pages) journal.put(key, value);
      });
      this.#listener.committed?.((performance.now() - started) / 1000, batch.length);
    } catch (err) {
      this.#report({ batch, err }); // nothing is acked: the devices resend
      return;
    }
    for (const { key, size, devices } of pages) this.#addPage(key, size, devices);
    this.#report({ batch, pages });
  }

  /**
   * Tells the listener once the current callback is done, in flush order. Durable batches flushed in one go
   * (maxBatch reached more than once in a turn) are told as one, so that a device whose events were in several
   * of them gets one ack.
   */
  #report(outcome: Outcome<T>): void {
    this.#outcomes.push(outcome);
    if (this.#outcomes.length === 1) queueMicrotask(() => this.#tell());
  }

  #tell(): void {
    const outcomes = this.#outcomes;
    this.#outcomes = [];
    let durable: T[] = [];
    let pages: DurablePage[] = [];
    for (const o of outcomes) {
      if (!('err' in o)) {
        durable = durable.length === 0 ? o.batch : durable.concat(o.batch);
        pages = pages.length === 0 ? o.pages ?? [] : pages.concat(o.pages ?? []);
        continue;
      }
      if (durable.length > 0) this.#listener.durable(durable, pages);
      durable = [];
      pages = [];
      this.#listener.failed(o.batch, o.err);
    }
    if (durable.length > 0) this.#listener.durable(durable, pages);
  }

  /** Resolves when everything appended so far is durable and told. */
  async settle(): Promise<void> {
    this.#flush();
    await Promise.resolve();
    while (this.#outcomes.length > 0) await new Promise((r) => setImmediate(r));
  }

  /**
   * The pages not yet matched, in the order they were written (for recovery after a restart), each value a copy
   * of its own. A record an earlier version wrote alone, one entry, comes as a page of one.
   */
  *pendingPages(): Generator<DurablePage> {
    for (const { key, value } of this.#db.journal.getRange({})) {
      const bytes = value as Uint8Array;
      // A copy (a Buffer's slice() would be another view of LMDB's read buffer).
      yield { key, value: new Uint8Array(bytes), size: this.#pages.get(key)?.size ?? safeRecordSize(bytes) };
    }
  }

  /**
   * Moves what earlier versions left in the legacy journal database into this one, in one transaction:
   * entries keyed by integer keep their key, and entries keyed [deviceId, seq] (value: the event) follow
   * them under fresh keys. Returns the first free key. Reads a key or two when there is nothing to move.
   */
  #upgradeAndFindNextKey(): number {
    const { journal, legacyJournal, root } = this.#db;
    let next = 1;
    for (const last of journal.getKeys({ reverse: true, limit: 1 })) next = last + 1;
    let left = false;
    for (const _ of legacyJournal.getKeys({ limit: 1 })) left = true;
    if (!left) return next;
    root.transactionSync(() => {
      const moved: Key[] = [];
      const old: { deviceId: DeviceId; event: StoredEvent }[] = [];
      for (const { key, value } of legacyJournal.getRange({})) {
        moved.push(key);
        if (typeof key === 'number') {
          const [deviceId, event] = value as [DeviceId, StoredEvent];
          journal.put(key, encodeEntry(deviceId, event));
          next = Math.max(next, key + 1);
        } else old.push({ deviceId: (key as [string, number])[0] as DeviceId, event: value as StoredEvent });
      }
      for (const { deviceId, event } of old) journal.put(next++, encodeEntry(deviceId, event));
      for (const key of moved) legacyJournal.remove(key);
    });
    return next;
  }

  /** Number of journal entries awaiting matching. */
  pendingCount(): number {
    const { journal } = this.#db;
    let n = 0;
    for (const key of journal.getKeys({})) {
      const page = this.#pages.get(key);
      if (page) n += page.size;
      else { // written by another journal on the same folder (tests)
        const value = journal.getBinaryFast(key);
        if (value !== undefined) n += safeRecordSize(value);
      }
    }
    return n;
  }
}

/** The number of entries a record says it holds, or 0 when even that cannot be read (a page cut short). */
function safeRecordSize(value: Uint8Array): number {
  try {
    return recordSize(value);
  } catch {
    return 0;
  }
}
