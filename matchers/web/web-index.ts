import type { IndexMatch } from '../index-match.js';
import { ListEntryError } from '../../core/errors.js';
import { HASH_SEED, hashStep, hashTag, tagForward, tagReverse } from './string-hash.js';
import { StringTable, type SharedStringTable } from './string-table.js';
import { matchPlainDomain, matchPlainDomains, type DomainHit } from './match-plain-domain.js';
import { normalizeDomain, normalizeUrl } from './url-normalize.js';
import { parseUrlPattern } from './url-pattern.js';

/**
 * A `WebIndex` as worker threads receive it: shared memory and counts only, structured-clonable,
 * so every thread reads one copy of the list.
 */
export interface SharedWebIndex {
  kind: 'web';
  /** Entries the index was built from. */
  size: number;
  /** Bare domains, tagged right to left. */
  domains: SharedStringTable;
  /** URL prefix keys, tagged left to right. */
  prefixes: SharedStringTable;
}

const DOT = 0x2e;
const SLASH = 0x2f;
const QUESTION = 0x3f;
const AMPERSAND = 0x26;
const EQUALS = 0x3d;

/**
 * The compiled `urls` list: matches `dns` events (a domain) and `url` events (a URL) against bare-domain
 * and URL-prefix entries. Exact matching, so every match has distance 0 and threshold 0. Matches come
 * widest first: parent domains before subdomains, then shorter prefixes before longer ones.
 */
export class WebIndex {
  readonly size: number;
  private tables: { domains: StringTable; prefixes: StringTable } | undefined;

  private constructor(size: number, domains: StringTable, prefixes: StringTable) {
    this.size = size;
    this.tables = { domains, prefixes };
  }

  /**
   * Builds an index in which entry `i` is `patterns[i]`, a `urls` list pattern (see `parseUrlPattern`).
   * Throws a `ListEntryError` (code `LIST_INVALID`) naming the position of the first invalid pattern.
   */
  static build(patterns: readonly string[]): WebIndex {
    const domainKeys: string[] = [];
    const domainEntries: number[] = [];
    const prefixKeys: string[] = [];
    const prefixEntries: number[] = [];
    patterns.forEach((raw, i) => {
      const parsed = parseUrlPattern(raw);
      if (!parsed.ok) throw new ListEntryError(i, parsed.reason);
      const { pattern } = parsed;
      if (pattern.kind === 'domain') {
        domainKeys.push(pattern.domain);
        domainEntries.push(i);
      } else {
        prefixKeys.push(pattern.prefix);
        prefixEntries.push(i);
      }
    });
    return new WebIndex(
      patterns.length,
      StringTable.build(domainKeys, domainEntries, tagReverse),
      StringTable.build(prefixKeys, prefixEntries, tagForward),
    );
  }

  /** Wraps an index built in another thread: the same memory, no copy, no rebuild. */
  static fromShared(shared: SharedWebIndex): WebIndex {
    return new WebIndex(shared.size, StringTable.fromShared(shared.domains), StringTable.fromShared(shared.prefixes));
  }

  toShared(): SharedWebIndex {
    const { domains, prefixes } = this.live();
    return { kind: 'web', size: this.size, domains: domains.toShared(), prefixes: prefixes.toShared() };
  }

  /** Bytes of shared memory the index occupies. */
  get byteLength(): number {
    const { domains, prefixes } = this.live();
    return domains.byteLength + prefixes.byteLength;
  }

  /**
   * A `dns` event: the bare-domain entries equal to the domain or to one of its parents. URL-prefix
   * entries never match a domain. A domain `normalizeDomain` refuses matches nothing.
   */
  matchDomain(domain: string): IndexMatch[] {
    const { domains } = this.live();
    const out: IndexMatch[] = [];
    if (typeof domain === 'string' && matchPlainDomain(domains, domain, out)) return out;
    return matchNormalised(domains, domain, out);
  }

  /**
   * Many `dns` events at once, as a worker holds them in a batch: calls `hit(k, entry)` for every entry that
   * `matchDomain(domains[k])` returns, in the same order, domain after domain. Faster per domain than
   * `matchDomain`, because the cache misses of neighbouring lookups overlap (see `matchPlainDomains`), and it
   * allocates nothing for a domain that matches nothing.
   */
  matchDomains(domains: readonly unknown[], hit: DomainHit): void {
    const { domains: table } = this.live();
    // Not through `matchDomain`: its fast path would overwrite the scratch the batch is still using.
    matchPlainDomains(table, domains, hit, (k) => {
      for (const m of matchNormalised(table, domains[k] as string, [])) hit(k, m.entry);
    });
  }

  /**
   * A `url` event: the bare-domain entries that match its host as `matchDomain` would, then the prefix
   * entries its normalised key starts with. A prefix matches at a path-segment or query-parameter boundary:
   * `bad.example/a/b` matches `bad.example/a/b`, `.../a/b/c` and `.../a/b?x=1`, never `.../a/bc`, which is
   * another resource; a prefix that itself ends in `/` (or, in the query, `&` or `=`) matches anything after
   * it. Character-level prefixes would turn `/user/12` into `/user/123`, an alert about the wrong page.
   * A URL `normalizeUrl` refuses matches nothing.
   */
  matchUrl(url: string): IndexMatch[] {
    const { domains, prefixes } = this.live();
    const out: IndexMatch[] = [];
    const parsed = normalizeUrl(url);
    if (parsed.ok) {
      matchSuffixes(domains, parsed.host, 0, out);
      matchPrefixes(prefixes, parsed.key, out);
    }
    return out;
  }

  /**
   * Drops this thread's views of the shared memory, which is freed once no thread holds it.
   * Using the index afterwards is a bug and throws.
   */
  dispose(): void {
    this.tables = undefined;
  }

  private live(): { domains: StringTable; prefixes: StringTable } {
    if (this.tables === undefined) throw new Error('WebIndex used after dispose()');
    return this.tables;
  }
}

/**
 * A domain that is not plain (capitals, a trailing dot, IDN, an IP address, or garbage): normalised first, then
 * looked up with its parents. One that `normalizeDomain` refuses matches nothing. Returns `out`.
 */
function matchNormalised(table: StringTable, domain: string, out: IndexMatch[]): IndexMatch[] {
  const parsed = normalizeDomain(domain);
  if (parsed.ok) matchSuffixes(table, parsed.domain, 0, out);
  return out;
}

/**
 * Looks up `domain.slice(start)` and each of its parents in one right-to-left pass: at every dot, the running
 * hash is the hash of the suffix after it. No substring is made. An IP address has no parents in the table:
 * every all-numeric name is read as IPv4 when normalised, so no entry can equal `2.1` of `192.0.2.1`.
 */
function matchSuffixes(table: StringTable, domain: string, start: number, out: IndexMatch[]): void {
  const end = domain.length;
  let h = HASH_SEED;
  for (let i = end - 1; i >= start; i--) {
    const c = domain.charCodeAt(i);
    if (c === DOT) {
      const slot = table.find(hashTag(h), domain, i + 1, end);
      if (slot >= 0) table.pushMatches(slot, out);
    }
    h = hashStep(h, c);
  }
  const slot = table.find(hashTag(h), domain, start, end);
  if (slot >= 0) table.pushMatches(slot, out);
}

/**
 * Looks up every prefix of a URL key that ends at a boundary (see `WebIndex.matchUrl`) in one left-to-right
 * pass. In the path the boundaries are `/` and the `?` that starts the query; in the query, `&` (and `=` at
 * the end of a prefix). Prefix entries always include the host and the `/` after it.
 */
function matchPrefixes(table: StringTable, key: string, out: IndexMatch[]): void {
  const end = key.length;
  const pathStart = key.indexOf('/');
  if (pathStart < 0) return;
  let h = HASH_SEED;
  for (let i = 0; i < pathStart; i++) h = hashStep(h, key.charCodeAt(i));
  let inQuery = false;
  for (let i = pathStart; i < end; i++) {
    const c = key.charCodeAt(i);
    h = hashStep(h, c);
    const endsWithDelimiter = inQuery ? c === AMPERSAND || c === EQUALS : c === SLASH;
    if (c === QUESTION) inQuery = true;
    const next = i + 1 < end ? key.charCodeAt(i + 1) : -1;
    const beforeDelimiter = next === -1 || (inQuery ? next === AMPERSAND : next === SLASH || next === QUESTION);
    if (endsWithDelimiter || beforeDelimiter) {
      const slot = table.find(hashTag(h), key, 0, i + 1);
      if (slot >= 0) table.pushMatches(slot, out);
    }
  }
}
