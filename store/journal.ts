/**
 * The durable event journal. Ingest appends events; the journal groups everything appended in
 * the same moment into one LMDB transaction (group commit) and resolves the batch's promise only
 * once the transaction is flushed to disk, so an ack never runs ahead of durability. An entry
 * stays in the journal only until its event has been matched: the alert store deletes it in the
 * same transaction that stores the event's alerts, so a crash can neither lose nor repeat one.
 *
 * Entries are keyed by an integer that grows with every append, so a commit writes at the right-hand
 * end of the B-tree and the alert store's deletions fall at the left-hand end, in few pages. Keyed by
 * device and sequence instead, the events of a thousand devices land all over the tree and every commit
 * rewrites most of its pages: measured with 3,000 events a commit over a 12,000-entry journal
 * (bench/journal-keys.ts), the commit took about twice as long and the deletions four times as long.
 */
import type { JournaledEvent, StoredEvent } from '../core/events.js';
import { asDeviceId, type DeviceId } from '../core/ids.js';
import type { Databases } from './database.js';

/** Told once per group commit: which entries became durable, or failed to. */
export interface JournalListener<T> {
  durable(entries: T[]): void;
  failed(entries: T[], err: unknown): void;
}

export class Journal<T extends JournaledEvent = JournaledEvent> {
  readonly #db: Databases;
  readonly #maxBatch: number;
  readonly #listener: JournalListener<T>;
  #open: T[] = [];
  #scheduled = false;
  #inFlight = 0;
  /** The key the next appended entry gets. */
  #nextKey: number;

  constructor(db: Databases, maxBatch: number, listener: JournalListener<T>) {
    this.#db = db;
    this.#maxBatch = maxBatch;
    this.#listener = listener;
    this.#nextKey = this.#upgradeAndFindNextKey();
  }

  /** Highest sequence number stored durably for the device, 0 if none. */
  lastSeq(deviceId: DeviceId): number {
    return this.#db.deviceSeq.get(deviceId) ?? 0;
  }

  /**
   * Queues an event for the next group commit; the listener hears when it is durable.
   * Events of one device must be appended in sequence order.
   */
  append(entry: T): void {
    entry.journalKey = this.#nextKey++;
    this.#open.push(entry);
    if (this.#open.length >= this.#maxBatch) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  /** Number of commits in flight (for metrics and tests). */
  get inFlight(): number { return this.#inFlight }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#open;
    if (batch.length === 0) return;
    this.#open = [];
    this.#inFlight++;
    const { journal, deviceSeq, root } = this.#db;
    const txn = root.transaction(() => {
      const highest = new Map<DeviceId, number>();
      for (const { deviceId, event, journalKey } of batch) {
        journal.put(journalKey!, [deviceId, event]);
        if ((highest.get(deviceId) ?? 0) < event.seq) highest.set(deviceId, event.seq);
      }
      for (const [deviceId, seq] of highest) {
        if ((deviceSeq.get(deviceId) ?? 0) < seq) deviceSeq.put(deviceId, seq);
      }
    });
    txn
      .then(() => root.flushed)
      .then(() => { this.#inFlight--; this.#listener.durable(batch); },
        (err: unknown) => { this.#inFlight--; this.#listener.failed(batch, err); });
  }

  /** Resolves when everything appended so far is durable. */
  async settle(): Promise<void> {
    this.#flush();
    while (this.#inFlight > 0) await new Promise((r) => setTimeout(r, 1));
  }

  /** Events journaled but not yet matched, in the order they were appended (for recovery after a restart). */
  *pending(): Generator<JournaledEvent & { journalKey: number }> {
    for (const { key, value } of this.#db.journal.getRange({})) {
      const [deviceId, event] = value as [string, StoredEvent];
      yield { deviceId: asDeviceId(deviceId), event, journalKey: key as number };
    }
  }

  /**
   * Rewrites entries left by a version that keyed the journal by [deviceId, seq] (value: the event) into
   * the integer-keyed form, after the entries already in it, in one transaction; returns the first free key.
   * Reads one key when there is nothing to rewrite.
   */
  #upgradeAndFindNextKey(): number {
    const { journal, root } = this.#db;
    // Integer keys sort before the old [deviceId, seq] arrays: if the last key is an integer, none is left.
    for (const last of journal.getKeys({ reverse: true, limit: 1 })) if (typeof last === 'number') return last + 1;
    let next = 1;
    const old: [string, number][] = [];
    for (const key of journal.getKeys({})) { // keys only: a long journal's values are not decoded here
      if (typeof key === 'number') next = Math.max(next, key + 1);
      else old.push(key as [string, number]);
    }
    if (old.length === 0) return next;
    root.transactionSync(() => {
      for (const key of old) {
        const event = journal.get(key) as StoredEvent;
        journal.remove(key);
        journal.put(next++, [key[0], event]);
      }
    });
    return next;
  }

  /** Number of journal entries awaiting matching. */
  pendingCount(): number {
    return this.#db.journal.getCount();
  }
}
