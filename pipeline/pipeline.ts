/**
 * From durable events to stored alerts. Ingest hands over the journal's pages once they are written; the
 * pipeline sends them in batches to the worker pool, where they are decoded and their matchable events
 * (text, dns, url, app) matched — a task per event would cost more in dispatch than in matching — and gets
 * back the hits, with the few events that make alerts: those hits', those a rule looks at, and images with
 * the hits they were journaled with. It applies the rules on this thread, then stores the batch's alerts and
 * deletes its pages from the journal in one transaction.
 *
 * So ingest's thread holds, for each event waiting, only its bytes in the page it was written in: no object of
 * its own to build, copy to a worker, or keep alive through the collector's young generation until it has
 * been matched. Handing over events as objects took about a quarter of that thread's busy time at 50,000 events/s
 * (a CPU profile of the server under bench/ingest.ts, on the eighth session's code), and the long callbacks that sent and finished big batches
 * held device sockets unread (bench/README.md, ninth session).
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { DeviceId, Metrics, NewAlert, StoredEvent, SubjectId } from '../core/index.js';
import type { AlertStore, EvidenceRecord, Journal } from '../store/index.js';
import { hasRules, type AlertBuilder } from './alert-builder.js';
import type { AlertFeed } from './alert-feed.js';
import type { ListWatcher, TaskRunner } from './list-watcher.js';
import type { PageEntry } from './worker-messages.js';

/** A journal page waiting to be matched. */
export interface PipelinePage {
  /** Its key in the journal. */
  key: number;
  /** Its value as written (store/journal-codec.ts). */
  bytes: Uint8Array;
  /** How many events it holds. */
  size: number;
  /**
   * performance.now() when ingest received each event's frame, in page order, for latency metrics; a single
   * time for a page read back after a restart.
   */
  receivedAt: Float64Array | number;
  attempts?: number;
}

/** What the pipeline asks of the journal when it deletes pages (store/journal.ts). */
export interface JournalPages {
  releasing(keys: readonly number[]): ReadonlyMap<DeviceId, number>;
  released(keys: readonly number[]): void;
}

export interface PipelineOptions {
  runner: TaskRunner;
  journal: JournalPages;
  watcher: ListWatcher;
  alerts: AlertStore;
  builder: AlertBuilder;
  feed: AlertFeed;
  metrics: Metrics;
  log: Logger;
  /** Events a batch holds at least, when that many are waiting (pages come whole). */
  batchSize: number;
  maxInFlight: number;
  subjectOf: (deviceId: DeviceId) => SubjectId | undefined;
  /** Asks the device for a screenshot; returns the capture id, or undefined if it could not be sent. */
  requestCapture: (deviceId: DeviceId, reason: string) => string | undefined;
}

const MAX_ATTEMPTS = 3;
const MAX_BATCH = 8192;
const RETRY_DELAY_MS = 500;

/** Evidence ids name the event they came from; the alert records point at them. */
export const evidenceIdOf = (deviceId: DeviceId, seq: number): string => `ev-${deviceId}-${seq}`;

/** An event that makes alerts, with what the builder needs. */
interface Found { deviceId: DeviceId; event: StoredEvent; receivedAt: number }

export class Pipeline {
  readonly #o: PipelineOptions;
  readonly #queue: PipelinePage[] = [];
  /** Events in `#queue`. */
  #queued = 0;
  #inFlight = 0;
  #inFlightEvents = 0;
  #idle: (() => void)[] = [];

  constructor(options: PipelineOptions) {
    this.#o = options;
  }

  /** Events waiting or being matched. Ingest refuses new events when this passes its limit. */
  get depth(): number { return this.#queued + this.#inFlightEvents }

  submit(pages: readonly PipelinePage[]): void {
    for (const page of pages) {
      this.#queue.push(page);
      this.#queued += page.size;
    }
    this.#pump();
  }

  /** Resolves when everything submitted so far has been processed. */
  drain(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Submits every page left in the journal by an earlier run; returns how many events they held. */
  async recover(journal: Journal, highWater: number): Promise<number> {
    let n = 0;
    const now = performance.now();
    for (const { key, value, size } of journal.pendingPages()) {
      this.submit([{ key, bytes: value, size, receivedAt: now }]);
      n += size;
      if (this.depth >= highWater) await this.drain();
    }
    await this.drain();
    return n;
  }

  #pump(): void {
    while (this.#inFlight < this.#o.maxInFlight && this.#queue.length > 0) {
      // Under load, batches grow with the queue: each costs one worker round trip and one commit.
      const size = Math.min(MAX_BATCH, Math.max(this.#o.batchSize, Math.ceil(this.#queued / this.#o.maxInFlight)));
      let pages = 1;
      let events = this.#queue[0]!.size;
      // A page being retried goes alone, and fresh pages never join it: when a batch fails, one bad page (it can only
      // be damage on disk, read back at recovery) must not keep the good ones beside it from being matched.
      if (this.#queue[0]!.attempts === undefined) {
        while (pages < this.#queue.length && events < size && this.#queue[pages]!.attempts === undefined) {
          events += this.#queue[pages++]!.size;
        }
      }
      const batch = this.#queue.splice(0, pages);
      this.#queued -= events;
      this.#inFlight++;
      this.#inFlightEvents += events;
      this.#process(batch)
        .catch((err: unknown) => this.#retry(batch, err))
        .finally(() => {
          this.#inFlight--;
          this.#inFlightEvents -= events;
          this.#pump();
          if (this.depth === 0) for (const done of this.#idle.splice(0)) done();
        });
    }
  }

  #retry(batch: PipelinePage[], err: unknown): void {
    const again = batch.filter((b) => (b.attempts = (b.attempts ?? 0) + 1) < MAX_ATTEMPTS);
    this.#o.log.error({ err, pages: batch.length, events: batch.reduce((n, b) => n + b.size, 0), retrying: again.length },
      'batch failed; its events stay in the journal and are retried');
    if (again.length > 0) setTimeout(() => this.submit(again), RETRY_DELAY_MS).unref();
  }

  /** The events the worker sent back, by their position in the batch, with their receipt times. */
  #found(batch: readonly PipelinePage[], entries: readonly PageEntry[]): Map<number, Found> {
    const out = new Map<number, Found>();
    let page = 0;
    let first = 0; // position of the page's first event
    for (const { i, deviceId, event } of entries) {
      while (page < batch.length - 1 && i >= first + batch[page]!.size) first += batch[page++]!.size;
      const at = batch[page]!.receivedAt;
      out.set(i, { deviceId: deviceId as DeviceId, event, receivedAt: typeof at === 'number' ? at : at[i - first] ?? performance.now() });
    }
    return out;
  }

  async #process(batch: PipelinePage[]): Promise<void> {
    const { runner, watcher, builder, alerts, metrics, feed } = this.#o;
    const result = await runner.run({ type: 'pages', snapshot: watcher.snapshot, pages: batch.map((p) => p.bytes) });
    if (result.type !== 'pages') throw new Error(`matching failed: ${result.type === 'error' ? result.message : result.type}`);
    const found = this.#found(batch, result.entries);
    const now = Date.now();
    const candidates: { alert: NewAlert; item: Found }[] = [];
    const context = (item: Found) => {
      const subjectId = this.#o.subjectOf(item.deviceId);
      return subjectId === undefined ? undefined : { deviceId: item.deviceId, subjectId, event: item.event, now };
    };
    for (const hit of result.hits) {
      const item = found.get(hit.i);
      const ctx = item && context(item);
      const alert = ctx && builder.fromHit(ctx, hit);
      if (item && alert) candidates.push({ alert, item });
    }
    const evidence: EvidenceRecord[] = [];
    for (const [i, item] of found) {
      const e = item.event;
      const rules = hasRules(e);
      if (!rules && (e.type !== 'image' || e.hits.length === 0)) continue;
      const ctx = context(item);
      if (!ctx) continue;
      if (rules) for (const alert of builder.fromRules(ctx)) candidates.push({ alert, item });
      if (e.type !== 'image' || e.hits.length === 0) continue;
      // Images were matched before they were journaled; their hits and sealed evidence come with them.
      const evidenceId = e.evidence ? evidenceIdOf(item.deviceId, e.seq) : undefined;
      let kept = false;
      for (const hit of e.hits) {
        const alert = builder.fromHit(ctx, { ...hit, i });
        if (!alert) continue;
        if (evidenceId !== undefined) alert.evidenceId = evidenceId;
        candidates.push({ alert, item });
        kept = true;
      }
      if (kept && e.evidence && evidenceId !== undefined) {
        evidence.push({ id: evidenceId, deviceId: item.deviceId, eventSeq: e.seq, sealed: e.evidence });
      }
    }
    const journalKeys = batch.map((p) => p.key);
    const stored = await alerts.commit(candidates.map((c) => c.alert), journalKeys, evidence, this.#o.journal.releasing(journalKeys));
    this.#o.journal.released(journalKeys);
    if (stored.length === 0) return;
    const end = performance.now();
    const byId = new Map(candidates.map((c) => [c.alert.id as string, c.item]));
    for (const alert of stored) {
      metrics.alerts.inc({ category: alert.category });
      const item = byId.get(alert.id);
      if (item) metrics.alertLatency.observe((end - item.receivedAt) / 1000);
      if (alert.match.kind === 'keyword') this.#o.requestCapture(alert.deviceId, `keyword alert ${alert.id}`);
    }
    feed.published();
  }
}
