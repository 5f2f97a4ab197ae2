import type { IndexMatch } from '../index-match.js';
import { HASH_SEED, hashStep, hashTag } from './string-hash.js';
import type { StringTable } from './string-table.js';

const DOT = 0x2e;
const HYPHEN = 0x2d;

/**
 * 1 for every UTF-16 code unit that cannot appear in a label of a plain domain (see `isPlainDomain`), 0 for
 * `a`-`z`, `0`-`9`, `-` and `_`; the dot is handled apart. A table rather than a chain of comparisons: in
 * random-looking names letters and digits alternate unpredictably, and each mispredicted branch costs more than
 * the load. 64 KiB, of which a lookup only ever touches the first 128 bytes unless the name is not ASCII.
 */
const NOT_IN_LABEL = new Uint8Array(0x10000).fill(1);
for (const [from, to] of [[0x61, 0x7a], [0x30, 0x39], [HYPHEN, HYPHEN], [0x5f, 0x5f]] as const) {
  NOT_IN_LABEL.fill(0, from, to + 1);
}

/**
 * Matches a `dns` event's domain against the bare-domain table in one right-to-left pass, provided the domain is
 * plain (`isPlainDomain`): see `scanSuffixes`. Returns false, having looked nothing up, when the domain is not
 * plain: the caller normalises it the slow way.
 *
 * The suffixes are looked up once the whole name has been checked, through `StringTable.screen` (every filter
 * word, then the slots of the suffixes the filter lets past), so that the reads of one name overlap.
 */
export function matchPlainDomain(table: StringTable, domain: string, out: IndexMatch[]): boolean {
  ensureScratch(domain.length);
  const { tags, starts, passed } = scratch;
  const count = scanSuffixes(domain, tags, starts, 0);
  if (count < 0) return false;
  scratch.touched = table.screen(tags, count, passed);
  for (let c = 0; c < count; c++) {
    if (passed[c] === 0) continue;
    const slot = table.probe(tags[c] ?? 0, domain, starts[c] ?? 0, domain.length);
    if (slot >= 0) table.pushMatches(slot, out);
  }
  return true;
}

/** Receives one match of a batch: the query's position in the batch, and the list entry it matched. */
export type DomainHit = (query: number, entry: number) => void;

/**
 * Queries whose lookups `matchPlainDomains` overlaps. Enough that the slot reads of a chunk keep the core's
 * outstanding-miss buffers full (a chunk has one to three reads a query); few enough that the slots read in
 * one phase are still in the first-level cache when the next phase compares them.
 */
const CHUNK = 32;

/**
 * `matchPlainDomain` for many domains at once, for a worker that holds a batch of `dns` events. One domain's
 * lookup is a chain of dependent steps that ends in a cache miss on its slot (the slots of a million keys are
 * tens of MiB); done one domain after another, those misses queue. Here a chunk of domains goes through each
 * phase together (scan and hash, filter, touch the home slots, then compare), so the slot reads of a chunk are
 * all in flight at once and the comparing phase finds them in cache.
 *
 * Calls `hit(k, entry)` for each match of `domains[k]`, in the order `matchPlainDomain` would give them,
 * domain after domain; calls `slow(k)` instead, in its turn, for a domain that is not plain (or not a string),
 * which the caller normalises and matches itself. Allocates nothing.
 */
export function matchPlainDomains(
  table: StringTable, domains: readonly unknown[], hit: DomainHit, slow: (query: number) => void,
): void {
  for (let first = 0; first < domains.length; first += CHUNK) {
    const last = Math.min(first + CHUNK, domains.length);
    // Phase 1: scan each domain, keeping its suffixes' tags; queryEnd[q] is where domain first + q's end.
    let n = 0;
    for (let k = first; k < last; k++) {
      const domain = domains[k];
      let count = -1;
      if (typeof domain === 'string') {
        ensureScratch(n + domain.length);
        count = scanSuffixes(domain, scratch.tags, scratch.starts, n);
      }
      scratch.plain[k - first] = count < 0 ? 0 : 1;
      if (count > 0) n += count;
      scratch.queryEnd[k - first] = n;
    }
    const { tags, starts, passed, plain, queryEnd } = scratch;
    // Phases 2 and 3: the filter words of every suffix, then the home slots of those that got past.
    scratch.touched = table.screen(tags, n, passed);
    // Phase 4: compare, now from cache, and report, domain by domain.
    let c = 0;
    for (let k = first; k < last; k++) {
      const stop = queryEnd[k - first] ?? 0;
      if (plain[k - first] === 0) {
        slow(k);
        continue;
      }
      const domain = domains[k] as string;
      for (; c < stop; c++) {
        if (passed[c] === 0) continue;
        const slot = table.probe(tags[c] ?? 0, domain, starts[c] ?? 0, domain.length);
        if (slot >= 0) table.reportMatches(slot, k, hit);
      }
    }
  }
}

/**
 * Scans `domain` right to left and writes the tag and start of each suffix to look up into `tags` and `starts`
 * from position `at` on, narrowest first; returns how many, or -1 if the domain is not plain (nothing written
 * counts then). The running hash is the hash of the suffix read so far, so at every dot it is the hash of a
 * parent, taken there and then, without making a substring. The pass checks, as it goes, what `isPlainDomain`
 * checks, so a plain name is read once.
 *
 * A leading `www.` is dropped as `canonicalHost` drops it: the suffix after it is then the whole name, and the
 * name with `www.` is not looked up. The arrays must have room for `domain.length` more suffixes past `at`.
 */
function scanSuffixes(domain: string, tags: Int32Array, starts: Int32Array, at: number): number {
  const end = domain.length;
  let h = HASH_SEED;
  let refused = 0;
  let labelEnd = end;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    const c = domain.charCodeAt(i);
    if (c === DOT) {
      // The label after this dot is complete: it must be non-empty and not punycode, and if it is the last
      // label, it must not start with a digit (the URL parser would read the name as IPv4).
      if (refused !== 0 || labelEnd === i + 1 || isPunycode(domain, i + 1, labelEnd)) return -1;
      if (count === 0 && isDigit(domain.charCodeAt(i + 1))) return -1;
      tags[at + count] = hashTag(h);
      starts[at + count] = i + 1;
      count++;
      labelEnd = i;
    } else {
      refused |= NOT_IN_LABEL[c] ?? 1;
    }
    h = hashStep(h, c);
  }
  if (refused !== 0 || labelEnd === 0 || isPunycode(domain, 0, labelEnd)) return -1;
  if (count === 0 && isDigit(domain.charCodeAt(0))) return -1;
  // `www.` goes only when a dot remains after it (`wwwLength`): the suffix after its dot is the whole name.
  if (!(count >= 2 && labelEnd === 3 && domain.startsWith('www'))) {
    tags[at + count] = hashTag(h);
    starts[at + count] = 0;
    count++;
  }
  return count;
}

/**
 * Per-thread scratch: the tags and starts of the suffixes being looked up (a name of n characters has at most
 * n suffixes to look up, counting the one with no dot) and whether each got past the filter; per query of a
 * chunk, whether it is plain and where its suffixes end; and what the last touch read. Grown, never shrunk.
 */
const scratch = {
  tags: new Int32Array(256),
  starts: new Int32Array(256),
  passed: new Uint8Array(256),
  plain: new Uint8Array(CHUNK),
  queryEnd: new Int32Array(CHUNK),
  touched: 0,
};

/** Makes room for `suffixes` suffixes (plus one), keeping what is there. */
function ensureScratch(suffixes: number): void {
  if (suffixes < scratch.tags.length) return;
  let length = scratch.tags.length;
  while (length <= suffixes) length *= 2;
  const grow = (from: Int32Array): Int32Array<ArrayBuffer> => {
    const to = new Int32Array(length);
    to.set(from);
    return to;
  };
  scratch.tags = grow(scratch.tags);
  scratch.starts = grow(scratch.starts);
  const passed = new Uint8Array(length);
  passed.set(scratch.passed);
  scratch.passed = passed;
}

/** Whether the label `domain.slice(start, end)` starts with `xn--`, which the URL parser would validate. */
function isPunycode(domain: string, start: number, end: number): boolean {
  return end - start >= 4 && domain.charCodeAt(start + 3) === HYPHEN && domain.startsWith('xn-', start);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
