/**
 * The piscina pool that runs matchers off the ingest thread. A failing task becomes an `error`
 * result rather than a rejection, so one bad batch never takes the pipeline down.
 */
import { Piscina } from 'piscina';
import type { TransferListItem } from 'node:worker_threads';
import { keepDecodesInMemory } from '../matchers/index.js';
import type { WorkerResult, WorkerTask } from './worker-messages.js';

export class WorkerPool {
  readonly #pool: Piscina<WorkerTask, WorkerResult>;

  /** `evidenceKey` (hex) goes to the workers once, at start, so that they can seal matching images. */
  constructor(threads: number, evidenceKey?: string) {
    keepDecodesInMemory(); // from this thread: the workers' decodes read the process environment, not theirs
    this.#pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      workerData: { evidenceKey },
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
    });
  }

  async run(task: WorkerTask, transfer?: TransferListItem[]): Promise<WorkerResult> {
    try {
      return await this.#pool.run(task, transfer ? { transferList: transfer } : {});
    } catch (err) {
      const e = err as Error & { code?: unknown };
      return { type: 'error', code: typeof e.code === 'string' ? e.code : 'WORKER_FAILED', message: e.message };
    }
  }

  /** Tasks waiting for a free thread. */
  get queueSize(): number { return this.#pool.queueSize }

  get threads(): number { return this.#pool.threads.length }

  async close(): Promise<void> { await this.#pool.destroy() }
}
