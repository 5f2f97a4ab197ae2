/**
 * Images are matched before they are journaled, so that an image that matches nothing is never
 * written anywhere. Ingest hands an accepted image here; its bytes are transferred (not copied) to a
 * worker, which decodes, hashes and looks it up, and hands back only the hits and, for a match, the
 * sealed evidence. At most `maxInFlight` images are held at once; ingest refuses more with
 * RATE_LIMITED, so a burst of images costs bounded memory.
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

type Stage = 'decode' | 'pdq' | 'blockhash' | 'exact' | 'lookup';

export class ImageAnalyser {
  readonly #pool: WorkerPool;
  readonly #watcher: ListWatcher;
  readonly #limits: ImageLimits;
  readonly #maxInFlight: number;
  #inFlight = 0;
  readonly #stage: Record<Stage, Histogram>;
  readonly #timeouts: Counter;

  constructor(pool: WorkerPool, watcher: ListWatcher, limits: ImageLimits, maxInFlight: number, metrics: Metrics) {
    this.#pool = pool;
    this.#watcher = watcher;
    this.#limits = limits;
    this.#maxInFlight = maxInFlight;
    const h = (stage: string) => metrics.register(new Histogram(`vigil_image_${stage}_seconds`, `Time per image in ${stage}`));
    this.#stage = { decode: h('decode'), pdq: h('pdq'), blockhash: h('blockhash'), exact: h('exact'), lookup: h('lookup') };
    this.#timeouts = metrics.register(new Counter('vigil_image_decode_timeouts_total',
      'Images whose decode was stopped at ingest.maxImageDecodeSeconds (refused IMAGE_UNDECODABLE unless an exact hash matched)'));
    metrics.gauge('vigil_images_in_flight', 'Images being decoded, hashed and matched', () => this.#inFlight);
  }

  get inFlight(): number { return this.#inFlight }
  /** True when another image would pass the in-flight limit. */
  get full(): boolean { return this.#inFlight >= this.#maxInFlight }

  async analyse(deviceId: string, event: ImageEvent): Promise<ImageOutcome> {
    this.#inFlight++;
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
      this.#inFlight--;
    }
  }
}
