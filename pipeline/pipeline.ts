/**
 * From durable events to stored alerts. Ingest submits events once they are journaled; the
 * pipeline routes the matchable ones (text, dns, url, app) in batches to the worker pool — a task
 * per event would cost more in dispatch than in matching — applies rules on this thread, then
 * stores the batch's alerts and removes its events from the journal in one transaction.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { DeviceId, Metrics, NewAlert, StoredEvent, SubjectId } from '../core/index.js';
import type { AlertStore, EvidenceRecord, Journal } from '../store/index.js';
import type { AlertBuilder } from './alert-builder.js';
import type { AlertFeed } from './alert-feed.js';
import type { ListWatcher, TaskRunner } from './list-watcher.js';
import type { MatchInput } from './worker-messages.js';

export interface PipelineItem {
  deviceId: DeviceId;
  event: StoredEvent;
  /** performance.now() when ingest received the frame, for latency metrics. */
  receivedAt: number;
  attempts?: number;
  /** Where the event is in the journal (absent for an event that was never journaled). */
  journalKey?: number;
  /** The journal's value, until the journal has written it (`JournaledEvent.encoded`). */
  encoded?: Uint8Array | undefined;
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
  batchSize: number;
  maxInFlight: number;
  subjectOf: (deviceId: DeviceId) => SubjectId | undefined;
  /** Told of every live event, to move the device's heartbeat deadline. */
  heard?: (deviceId: DeviceId, seq: number) => void;
  /** Asks the device for a screenshot; returns the capture id, or undefined if it could not be sent. */
  requestCapture: (deviceId: DeviceId, reason: string) => string | undefined;
}

const MAX_ATTEMPTS = 3;
const MAX_BATCH = 8192;
const RETRY_DELAY_MS = 500;

function toInput(i: number, e: StoredEvent): MatchInput | undefined {
  switch (e.type) {
    case 'text': return { i, type: 'text', text: e.text };
    case 'dns': return { i, type: 'dns', domain: e.domain };
    case 'url': return { i, type: 'url', url: e.url };
    case 'app': return { i, type: 'app', package: e.package };
    default: return undefined;
  }
}

/** Evidence ids name the event they came from; the alert records point at them. */
export const evidenceIdOf = (deviceId: DeviceId, seq: number): string => `ev-${deviceId}-${seq}`;

export class Pipeline {
  readonly #o: PipelineOptions;
  readonly #queue: PipelineItem[] = [];
  #inFlight = 0;
  #inFlightEvents = 0;
  #idle: (() => void)[] = [];

  constructor(options: PipelineOptions) {
    this.#o = options;
  }

  /** Events waiting or being matched. Ingest refuses new events when this passes its limit. */
  get depth(): number { return this.#queue.length + this.#inFlightEvents }

  submit(items: readonly PipelineItem[], live = true): void {
    const heard = live ? this.#o.heard : undefined;
    for (const item of items) {
      this.#queue.push(item);
      heard?.(item.deviceId, item.event.seq);
    }
    this.#pump();
  }

  /** Resolves when everything submitted so far has been processed. */
  drain(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Submits every event left in the journal by an earlier run, a page at a time; returns how many. */
  async recover(journal: Journal, highWater: number): Promise<number> {
    let n = 0;
    const now = performance.now();
    let page: PipelineItem[] = [];
    const submit = async (): Promise<void> => {
      this.submit(page, false);
      n += page.length;
      page = [];
      if (this.depth >= highWater) await this.drain();
    };
    for (const { deviceId, event, journalKey } of journal.pending()) {
      if (page.length > 0 && page[0]!.journalKey !== journalKey) await submit();
      page.push({ deviceId, event, receivedAt: now, journalKey });
    }
    if (page.length > 0) await submit();
    await this.drain();
    return n;
  }

  #pump(): void {
    while (this.#inFlight < this.#o.maxInFlight && this.#queue.length > 0) {
      // Under load, batches grow with the queue: each costs one worker round trip and one commit.
      const size = Math.min(MAX_BATCH, Math.max(this.#o.batchSize, Math.ceil(this.#queue.length / this.#o.maxInFlight)));
      let batch = this.#queue.splice(0, size);
      // The rest of the last event's page comes too (pages come whole, in order).
      const key = batch[batch.length - 1]!.journalKey;
      let more = 0;
      while (key !== undefined && more < this.#queue.length && this.#queue[more]!.journalKey === key) more++;
      if (more > 0) batch = batch.concat(this.#queue.splice(0, more));
      this.#inFlight++;
      this.#inFlightEvents += batch.length;
      this.#process(batch)
        .catch((err: unknown) => this.#retry(batch, err))
        .finally(() => {
          this.#inFlight--;
          this.#inFlightEvents -= batch.length;
          this.#pump();
          if (this.depth === 0) for (const done of this.#idle.splice(0)) done();
        });
    }
  }

  #retry(batch: PipelineItem[], err: unknown): void {
    const again = batch.filter((b) => (b.attempts = (b.attempts ?? 0) + 1) < MAX_ATTEMPTS);
    this.#o.log.error({ err, events: batch.length, retrying: again.length },
      'batch failed; its events stay in the journal and are retried');
    if (again.length > 0) setTimeout(() => this.submit(again, false), RETRY_DELAY_MS).unref();
  }

  async #process(batch: PipelineItem[]): Promise<void> {
    const { runner, watcher, builder, alerts, metrics, feed } = this.#o;
    const inputs: MatchInput[] = [];
    batch.forEach((item, i) => {
      const input = toInput(i, item.event);
      if (input) inputs.push(input);
    });
    const snapshot = watcher.snapshot;
    const now = Date.now();
    const candidates: { alert: NewAlert; item: PipelineItem }[] = [];
    const context = (item: PipelineItem) => {
      const subjectId = this.#o.subjectOf(item.deviceId);
      return subjectId === undefined ? undefined : { deviceId: item.deviceId, subjectId, event: item.event, now };
    };
    if (inputs.length > 0 && snapshot.lists.length > 0) {
      const result = await runner.run({ type: 'match', snapshot, inputs });
      if (result.type !== 'match') throw new Error(`matching failed: ${result.type === 'error' ? result.message : result.type}`);
      for (const hit of result.hits) {
        const item = batch[hit.i];
        const ctx = item && context(item);
        const alert = ctx && builder.fromHit(ctx, hit);
        if (item && alert) candidates.push({ alert, item });
      }
    }
    const evidence: EvidenceRecord[] = [];
    batch.forEach((item, i) => {
      const e = item.event;
      const rules = builder.hasRules(e);
      if (!rules && (e.type !== 'image' || e.hits.length === 0)) return;
      const ctx = context(item);
      if (!ctx) return;
      if (rules) for (const alert of builder.fromRules(ctx)) candidates.push({ alert, item });
      if (e.type !== 'image' || e.hits.length === 0) return;
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
    });
    const journalKeys: number[] = [];
    for (const b of batch) {
      if (b.journalKey !== undefined && b.journalKey !== journalKeys[journalKeys.length - 1]) journalKeys.push(b.journalKey);
    }
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
