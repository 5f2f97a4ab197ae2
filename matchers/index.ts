/**
 * Detection code, each matcher pure and testable without a pool. An index is built once from a
 * list's entries, compiled into SharedArrayBuffers so that every worker thread reads one copy,
 * then queried per signal; a query returns the matched entries with distance and threshold.
 * Images are decoded (`image/`) and hashed (`pdq/`, `blockhash/`, `exact/`) first, then looked up
 * in a `HashIndex`.
 */
export type { IndexMatch } from './index-match.js';
export * from './keywords/index.js';
export * from './web/index.js';
export * from './image/index.js';
export * from './pdq/index.js';
export * from './blockhash/index.js';
export * from './exact/index.js';
export * from './hash-index/index.js';
