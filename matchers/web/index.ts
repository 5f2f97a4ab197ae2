/**
 * The web matcher: `dns`, `url` and `app` events against the `urls` and `apps` lists (PROTOCOL.md §5).
 *
 * Data flow: the list importer validates each CSV row with `parseUrlPattern` / `parseAppPackage`, then
 * `WebIndex.build` / `AppIndex.build` normalise every entry and compile it into hash tables laid out in
 * SharedArrayBuffers. `toShared()` is posted to the worker threads, each of which wraps the same memory with
 * `fromShared()`. Per event, a worker calls `matchDomain` (dns), `matchUrl` (url) or `match` (app): the input
 * is normalised the same way (url-normalize.ts) and looked up, and the result is the matching entries'
 * positions as `IndexMatch`es (exact: distance 0, threshold 0), or an empty array.
 */
export { AppIndex, parseAppPackage, type ParsedAppPackage, type SharedAppIndex } from './app-index.js';
export { normalizeDomain, normalizeUrl, type NormalizedDomain, type NormalizedUrl } from './url-normalize.js';
export { parseUrlPattern, type ParsedUrlPattern, type UrlPattern } from './url-pattern.js';
export { WebIndex, type SharedWebIndex } from './web-index.js';
