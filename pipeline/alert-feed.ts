/**
 * The alert feed's source of truth is the alert store; this hub only tells subscribers (long-polls,
 * feed sockets, webhooks) that the feed has grown, so each reads from its own cursor at its own pace.
 * A slow subscriber therefore never holds anything up, and nothing is buffered per subscriber here.
 */
import type { Alert, Metrics } from '../core/index.js';
import type { AlertStore } from '../store/index.js';

export type FeedListener = (lastSeq: number) => void;

export class AlertFeed {
  readonly #store: AlertStore;
  readonly #listeners = new Set<FeedListener>();

  constructor(store: AlertStore) {
    this.#store = store;
  }

  /** The highest feed sequence a reader can see now (not one still on its way to disk). */
  get lastSeq(): number { return this.#store.committedSeq() }

  read(after: number, limit: number): Alert[] { return this.#store.readAfter(after, limit) }

  /** Calls `listener` whenever alerts are added; returns the unsubscribe function. */
  subscribe(listener: FeedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get subscribers(): number { return this.#listeners.size }

  /** Called after alerts are committed. */
  published(): void {
    const last = this.#store.committedSeq();
    for (const l of this.#listeners) l(last);
  }
}

/**
 * What every place that stores alerts outside the pipeline's batches does after a commit: count them by category
 * (`vigil_alerts_total`) and, if any was stored, tell the feed's subscribers.
 */
export function announceStored(stored: readonly Alert[], metrics: Metrics, feed: AlertFeed): void {
  for (const a of stored) metrics.alerts.inc({ category: a.category });
  if (stored.length > 0) feed.published();
}
