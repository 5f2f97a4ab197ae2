/**
 * The hash-list matcher: `image` events against `hashes` lists (cryptographic and perceptual).
 *
 * Data flow: the list importer validates each CSV row (type, hex value); `HashIndex.build` parses the
 * entries into shared memory once: exact digests into open-addressing tables, PDQ and blockhash hashes
 * into flat word arrays with multi-index posting lists (hamming-index.ts). `toShared()` is posted to the
 * worker threads, each of which wraps the same memory with `fromShared()`. Per image, a worker hashes the
 * bytes and pixels (matchers/exact, matchers/pdq, matchers/blockhash) and calls `match` with a `HashQuery`;
 * the result is the matched entries' positions as `HashMatch`es, with distance and threshold, or an empty
 * array. `scanPdq` is the brute-force baseline the index is tested and benchmarked against.
 */
export {
  DEFAULT_BLOCKHASH_THRESHOLD,
  DEFAULT_MIH_MIN_ENTRIES,
  HASH_TYPES,
  HashIndex,
  type HashIndexOptions,
  type HashIndexStats,
  type HashMatch,
  type HashQuery,
  type HashType,
  type SharedHashIndex,
} from './hash-index.js';
export type { SharedExactTable } from './exact-table.js';
export type { SharedHammingIndex } from './hamming-index.js';
