/**
 * The posting lists of one 32-bit word of a list of 256-bit hashes, for multi-index hashing.
 *
 * Each word (hash bits 32w..32w+31) is cut into a high and a low 16-bit half, and the listed hashes are
 * kept in two orders, each bucketed by one half and carrying the other half inline:
 *
 *   hiStarts  Uint32[65537]  where each high-half value's bucket starts in hiIds / hiLow
 *   loStarts  Uint32[65537]  where each low-half value's bucket starts in loHigh
 *   hiIds     Uint32[n]      positions of the hashes, sorted by (high half, low half)
 *   hiLow     Uint16[n]      the low half of each, alongside
 *   loHigh    Uint16[n]      the high halves, sorted by (low half, high half)
 *
 * A query probes a bucket and filters it on the inline half without touching the hashes themselves
 * (random reads into hundreds of megabytes); only the few that pass are looked up. The low-half order
 * holds no positions: a hash that passes there has a known full word (bucket and inline half), which is
 * found by binary search in its high-half bucket, whose low halves are sorted. So each word costs
 * 4 + 2 + 2 = 8 bytes per hash, 64 bytes over the 8 words.
 */
export const HALF_VALUES = 65536;
const STARTS_BYTES = 4 * (HALF_VALUES + 1);

/** Views of one word's posting lists. */
export interface WordPostings {
  hiStarts: Uint32Array;
  loStarts: Uint32Array;
  hiIds: Uint32Array;
  hiLow: Uint16Array;
  loHigh: Uint16Array;
}

/** Bytes of one word's posting lists for `n` hashes. */
export function postingsBytes(n: number): number {
  return 2 * STARTS_BYTES + 8 * n;
}

/** Views `buffer` (built by `buildPostings` for `n` hashes) as posting lists. */
export function viewPostings(buffer: SharedArrayBuffer, n: number): WordPostings {
  let at = 0;
  const take = <T>(make: (at: number) => T, bytes: number): T => {
    const view = make(at);
    at += bytes;
    return view;
  };
  return {
    hiStarts: take((a) => new Uint32Array(buffer, a, HALF_VALUES + 1), STARTS_BYTES),
    loStarts: take((a) => new Uint32Array(buffer, a, HALF_VALUES + 1), STARTS_BYTES),
    hiIds: take((a) => new Uint32Array(buffer, a, n), 4 * n),
    hiLow: take((a) => new Uint16Array(buffer, a, n), 2 * n),
    loHigh: take((a) => new Uint16Array(buffer, a, n), 2 * n),
  };
}

/** Scratch arrays for `buildPostings`, reused across the 8 words: 8 bytes per hash. */
export interface PostingsScratch {
  positions: Uint32Array;
  values: Uint32Array;
}

export function postingsScratch(n: number): PostingsScratch {
  return { positions: new Uint32Array(n), values: new Uint32Array(n) };
}

/**
 * Builds word `word`'s posting lists for the `n` hashes in `hashes` (8 words each): two stable counting
 * sorts, by low half then by high half, give the (high, low) order, and one pass over it by bucket
 * gives the (low, high) order. Linear in `n`, and no pass reads the hashes in random order.
 */
export function buildPostings(hashes: Uint32Array, n: number, word: number, scratch: PostingsScratch): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(postingsBytes(n));
  const { hiStarts, loStarts, hiIds, hiLow, loHigh } = viewPostings(buffer, n);
  const { positions, values } = scratch;

  for (let j = 0, i = word; j < n; j++, i += 8) {
    const v = hashes[i]!;
    hiStarts[(v >>> 16) + 1]!++;
    loStarts[(v & 0xffff) + 1]!++;
  }
  for (let b = 0; b < HALF_VALUES; b++) {
    hiStarts[b + 1]! += hiStarts[b]!;
    loStarts[b + 1]! += loStarts[b]!;
  }

  // By low half (positions stay in order within a bucket).
  let cursor = loStarts.slice(0, HALF_VALUES);
  for (let j = 0, i = word; j < n; j++, i += 8) {
    const v = hashes[i]!;
    const k = cursor[v & 0xffff]!++;
    positions[k] = j;
    values[k] = v;
  }
  // Then by high half: sorted by (high, low).
  cursor = hiStarts.slice(0, HALF_VALUES);
  for (let k = 0; k < n; k++) {
    const v = values[k]!;
    const t = cursor[v >>> 16]!++;
    hiIds[t] = positions[k]!;
    hiLow[t] = v & 0xffff;
  }
  // Walking the (high, low) order bucket by bucket and placing by low half gives (low, high).
  cursor = loStarts.slice(0, HALF_VALUES);
  for (let hi = 0; hi < HALF_VALUES; hi++) {
    for (let t = hiStarts[hi]!, end = hiStarts[hi + 1]!; t < end; t++) loHigh[cursor[hiLow[t]!]!++] = hi;
  }
  return buffer;
}
