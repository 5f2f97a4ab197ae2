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
 * plain (`isPlainDomain`): the running hash is the hash of the suffix read so far, so at every dot it is the
 * hash of a parent, looked up there and then, without making a substring. The pass checks, as it goes, what
 * `isPlainDomain` checks, so a plain name is read once and nothing is allocated but the matches.
 *
 * A leading `www.` is dropped as `canonicalHost` drops it: the suffix after it is then the whole name, and the
 * name with `www.` is not looked up.
 *
 * The suffixes are looked up once the whole name has been checked: first every suffix's filter word, then the
 * slots of those the filter lets past, so that the filter reads of one name overlap rather than queue.
 * Returns false, having looked nothing up, when the domain is not plain: the caller normalises it the slow way.
 */
export function matchPlainDomain(table: StringTable, domain: string, out: IndexMatch[]): boolean {
  const end = domain.length;
  let tags: Int32Array = scratchTags;
  let starts: Int32Array = scratchStarts;
  let h = HASH_SEED;
  let refused = 0;
  let labelEnd = end;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    const c = domain.charCodeAt(i);
    if (c === DOT) {
      // The label after this dot is complete: it must be non-empty and not punycode, and if it is the last
      // label, it must not start with a digit (the URL parser would read the name as IPv4).
      if (refused !== 0 || labelEnd === i + 1 || isPunycode(domain, i + 1, labelEnd)) return false;
      if (count === 0 && isDigit(domain.charCodeAt(i + 1))) return false;
      if (count === tags.length) [tags, starts] = growScratch();
      tags[count] = hashTag(h);
      starts[count] = i + 1;
      count++;
      labelEnd = i;
    } else {
      refused |= NOT_IN_LABEL[c] ?? 1;
    }
    h = hashStep(h, c);
  }
  if (refused !== 0 || labelEnd === 0 || isPunycode(domain, 0, labelEnd)) return false;
  if (count === 0 && isDigit(domain.charCodeAt(0))) return false;
  // `www.` goes only when a dot remains after it (`wwwLength`): the suffix after its dot is the whole name.
  if (!(count >= 2 && labelEnd === 3 && domain.startsWith('www'))) {
    if (count === tags.length) [tags, starts] = growScratch();
    tags[count] = hashTag(h);
    starts[count] = 0;
    count++;
  }
  // All the filter words first, then the slots of the suffixes that got past: the reads of one phase do not
  // wait on each other, so their cache misses overlap instead of adding up. Past 32 suffixes (a name of 33 or
  // more labels) the bits wrap, and some suffixes are probed without the filter's leave: a wasted read at
  // worst, never a wrong answer, since the probe compares the characters.
  let passed = 0;
  for (let k = 0; k < count; k++) {
    passed |= (table.mayHold(tags[k] ?? 0) ? 1 : 0) << (k & 31);
  }
  if (passed === 0) return true;
  for (let k = 0; k < count; k++) {
    if (k < 32 && (passed & (1 << k)) === 0) continue;
    const slot = table.probe(tags[k] ?? 0, domain, starts[k] ?? 0, end);
    if (slot >= 0) table.pushMatches(slot, out);
  }
  return true;
}

/** Tags and start positions of the suffixes of the name being matched, widest first; grown for long names. */
let scratchTags: Int32Array = new Int32Array(16);
let scratchStarts: Int32Array = new Int32Array(16);

function growScratch(): [Int32Array, Int32Array] {
  const tags = new Int32Array(2 * scratchTags.length);
  const starts = new Int32Array(2 * scratchStarts.length);
  tags.set(scratchTags);
  starts.set(scratchStarts);
  scratchTags = tags;
  scratchStarts = starts;
  return [tags, starts];
}

/** Whether the label `domain.slice(start, end)` starts with `xn--`, which the URL parser would validate. */
function isPunycode(domain: string, start: number, end: number): boolean {
  return end - start >= 4 && domain.charCodeAt(start + 3) === HYPHEN && domain.startsWith('xn-', start);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
