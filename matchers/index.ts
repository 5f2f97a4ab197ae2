/**
 * Detection code, each matcher pure and testable without a pool. An index is built once from a
 * list's entries, compiled into SharedArrayBuffers so that every worker thread reads one copy,
 * then queried per signal; a query returns the matched entries with distance and threshold.
 */
export type { IndexMatch } from './index-match.js';
export * from './keywords/index.js';
export * from './web/index.js';
