/**
 * Messages between the pipeline and its worker threads: discriminated unions, plain data only
 * (SharedArrayBuffers are shared, not copied). No `any` crosses a thread.
 */
import type { SharedKeywordIndex, SharedWebIndex, SharedAppIndex, SharedHashIndex } from '../matchers/index.js';
import type { ListHit, SealedEvidence, StoredEvent } from '../core/index.js';
import type { ListKind } from '../store/index.js';

export type SharedIndex = SharedKeywordIndex | SharedWebIndex | SharedAppIndex | SharedHashIndex;

/** One list version compiled for matching. */
export interface CompiledList { name: string; kind: ListKind; version: number; index: SharedIndex }

/** Every list the workers should match against; `id` changes whenever any list does. */
export interface IndexSnapshot { id: number; lists: CompiledList[] }

export interface MatchHit extends ListHit {
  /** The event's position in the batch: its pages' entries counted one after the other. */
  i: number;
  /** For keyword hits: where in the text the term was found (original offsets). */
  start?: number;
  end?: number;
}

/** One image to decode, hash and match. `bytes` is transferred to the worker, never copied. */
export interface ImageTask {
  type: 'image';
  snapshot: IndexSnapshot;
  bytes: Uint8Array;
  deviceId: string;
  seq: number;
  maxBytes: number;
  maxPixels: number;
  /** Longest its decode may run, in whole seconds (ingest.maxImageDecodeSeconds). */
  maxDecodeSeconds: number;
}

/**
 * An entry of a batch's pages that the pipeline needs back to make alerts: one with a matcher hit, one a rule
 * looks at (`hasRules`), or an image with the hits it was journaled with.
 */
export interface PageEntry { i: number; deviceId: string; event: StoredEvent }

export type WorkerTask =
  /** Journal pages as written (store/journal-codec.ts), to be decoded and matched here, off ingest's thread. */
  | { type: 'pages'; snapshot: IndexSnapshot; pages: Uint8Array[] }
  | ImageTask
  | { type: 'build'; dataDir: string; name: string; kind: ListKind; version: number };

/** Per-stage time for one image, in microseconds (for metrics and benchmarks). */
export interface ImageTimings { decode: number; pdq: number; blockhash: number; exact: number; lookup: number }

export type WorkerResult =
  | { type: 'pages'; hits: MatchHit[]; entries: PageEntry[]; events: number; micros: number }
  /**
   * `timedOut`: a decode of the image was stopped at `maxDecodeSeconds`. The image is refused, unless its exact hashes,
   * which need only its bytes, matched.
   */
  | { type: 'image'; ok: true; hits: ListHit[]; evidence?: SealedEvidence; quality: number; timings: ImageTimings; timedOut?: true }
  | { type: 'image'; ok: false; code: 'IMAGE_UNDECODABLE' | 'IMAGE_TOO_LARGE'; message: string; timedOut?: true }
  | { type: 'build'; list: CompiledList; micros: number }
  | { type: 'error'; code: string; message: string };
