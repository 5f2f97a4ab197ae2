/**
 * Messages between the pipeline and its worker threads: discriminated unions, plain data only
 * (SharedArrayBuffers are shared, not copied). No `any` crosses a thread.
 */
import type { SharedKeywordIndex, SharedWebIndex, SharedAppIndex } from '../matchers/index.js';
import type { ListKind } from '../store/index.js';

export type SharedIndex = SharedKeywordIndex | SharedWebIndex | SharedAppIndex;

/** One list version compiled for matching. */
export interface CompiledList { name: string; kind: ListKind; version: number; index: SharedIndex }

/** Every list the workers should match against; `id` changes whenever any list does. */
export interface IndexSnapshot { id: number; lists: CompiledList[] }

/** The part of an event a matcher needs; `i` is its position in the batch. */
export type MatchInput =
  | { i: number; type: 'text'; text: string }
  | { i: number; type: 'dns'; domain: string }
  | { i: number; type: 'url'; url: string }
  | { i: number; type: 'app'; package: string };

export interface MatchHit {
  i: number;
  list: string;
  version: number;
  entry: number;
  distance: number;
  threshold: number;
  /** For keyword hits: where in the text the term was found (original offsets). */
  start?: number;
  end?: number;
}

export type WorkerTask =
  | { type: 'match'; snapshot: IndexSnapshot; inputs: MatchInput[] }
  | { type: 'build'; dataDir: string; name: string; kind: ListKind; version: number };

export type WorkerResult =
  | { type: 'match'; hits: MatchHit[]; micros: number }
  | { type: 'build'; list: CompiledList; micros: number }
  | { type: 'error'; code: string; message: string };
