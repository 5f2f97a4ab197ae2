/**
 * Images are matched before they are journaled, so that an image that matches nothing is never
 * written anywhere. Ingest hands an accepted image here; its bytes are transferred (not copied) to a
 * worker, which decodes, hashes and looks it up, and hands back only the hits and, for a match, the
 * sealed evidence. At most `maxInFlight` images are held at once; ingest refuses more with
 * RATE_LIMITED, so a burst of images costs bounded memory.
 *
 * The pool's threads also match the journal's pages (every keyword, URL and domain alert), and one large image
 * holds a thread for seconds. So at most `threads` images are handed to the pool at once; the others wait here, in
 * arrival order, and the rest of the pool's threads are always free for pages.
 */
import type { ImageEvent, Metrics, StoredImageEvent } from '../core/index.js';
import { Counter, Histogram } from '../core/index.js';
import type { ListWatcher } from './list-watcher.js';
import type { WorkerPool } from './worker-pool.js';

export type ImageOutcome =
  | { ok: true; event: StoredImageEvent }
  | { ok: false; code: 'IMAGE_UNDECODABLE' | 'IMAGE_TOO_LARGE'; message: string };

/** ingest.maxImageBytes, ingest.maxImagePixels and ingest.maxImageDecodeSeconds. */
export interface ImageLimits { maxBytes: number; maxPixels: number; maxDecodeSeconds: number }

export interface ImageAnalyserOptions {
  limits: ImageLimits;
  /** Images held at once, waiting or in the pool (pipeline.maxImagesInFlight). */
  maxInFlight: number;
  /** Images in the pool at once, each a thread (pipeline.imageThreads). */
  threads: number;
}

type Stage = 'decode' | 'pdq' | 'blockhash' | 'exact' | 'lookup';

export class ImageAnalyser {
  readonly #pool: WorkerPool;
  readonly #watcher: ListWatcher;
  readonly #limits: ImageLimits;
  readonly #maxInFlight: number;
  readonly #threads: number;
  #inFlight = 0;
  /** Images in the pool. */
  #running = 0;
  /** Images waiting for one of the pool's threads to be theirs, first come first served. */
  readonly #waiting: (() => void)[] = [];
  readonly #stage: Record<Stage, Histogram>;
  readonly #timeouts: Counter;

  constructor(pool: WorkerPool, watcher: ListWatcher, options: ImageAnalyserOptions, metrics: Metrics) {
    this.#pool = pool;
    this.#watcher = watcher;
    this.#limits = options.limits;
    this.#maxInFlight = options.maxInFlight;
    this.#threads = options.threads;
    const h = (stage: string) => metrics.register(new Histogram(`vigil_image_${stage}_seconds`, `Time per image in ${stage}`));
    this.#stage = { decode: h('decode'), pdq: h('pdq'), blockhash: h('blockhash'), exact: h('exact'), lookup: h('lookup') };
    this.#timeouts = metrics.register(new Counter('vigil_image_decode_timeouts_total',
      'Images whose decode was stopped at ingest.maxImageDecodeSeconds (refused IMAGE_UNDECODABLE unless an exact hash matched)'));
    metrics.gauge('vigil_images_in_flight', 'Images being decoded, hashed and matched, or waiting for a thread', () => this.#inFlight);
    metrics.gauge('vigil_images_waiting', 'Images waiting for a pool thread (pipeline.imageThreads are decoding)', () => this.#waiting.length);
  }

  get inFlight(): number { return this.#inFlight }
  /** True when another image would pass the in-flight limit. */
  get full(): boolean { return this.#inFlight >= this.#maxInFlight }

  async analyse(deviceId: string, event: ImageEvent): Promise<ImageOutcome> {
    this.#inFlight++;
    try {
      await this.#thread();
      return await this.#run(deviceId, event);
    } finally {
      this.#inFlight--;
    }
  }

  /** Resolves when the image may go to the pool; `#run` gives its turn to the next one after. */
  #thread(): Promise<void> | undefined {
    if (this.#running < this.#threads) {
      this.#running++;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async #run(deviceId: string, event: ImageEvent): Promise<ImageOutcome> {
    try {
      const { bytes, ...rest } = event;
      const result = await this.#pool.run({
        type: 'image', snapshot: this.#watcher.snapshot, bytes, deviceId, seq: event.seq,
        maxBytes: this.#limits.maxBytes, maxPixels: this.#limits.maxPixels, maxDecodeSeconds: this.#limits.maxDecodeSeconds,
      }, [bytes.buffer as ArrayBuffer]);
      if (result.type === 'error') {
        return { ok: false, code: 'IMAGE_UNDECODABLE', message: `the image could not be processed (${result.code})` };
      }
      if (result.type !== 'image') throw new Error(`unexpected worker result ${result.type}`);
      if (result.timedOut) this.#timeouts.inc();
      if (!result.ok) return { ok: false, code: result.code, message: result.message };
      for (const [stage, us] of Object.entries(result.timings)) this.#stage[stage as Stage].observe(us / 1e6);
      const stored: StoredImageEvent = { ...rest, hits: result.hits };
      if (result.evidence) stored.evidence = result.evidence;
      return { ok: true, event: stored };
    } finally {
      const next = this.#waiting.shift();
      if (next) next(); // the thread passes to it
      else this.#running--;
    }
  }
}
