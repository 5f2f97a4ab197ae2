/**
 * A list of 256-bit perceptual hashes (PDQ or blockhash) searchable within a Hamming radius, held in
 * SharedArrayBuffers so that every worker thread reads one copy.
 *
 * Search is multi-index hashing on 16-bit half-words with an inline filter (word-postings.ts), exact by
 * two pigeonhole steps. For a threshold T: a hash within T of the query has, among its 8 words, one
 * within t = floor(T / 8) (eight words each at t + 1 or more would sum past T); and that word has a half
 * within r = floor(t / 2) of the query's half (two halves each at r + 1 or more would sum past t).
 * At PDQ's T = 31: t = 3, r = 1, so each of the 16 halves is probed at its value and its 16 one-bit
 * neighbours, the classic 16 x 16-bit scheme. What beats the classic scheme is the filter: a bucket entry
 * is kept only if its whole word is within t, checked on the half stored beside it, which rejects about
 * 99.7% of random entries before any hash is read. The published scheme reads every bucket entry's full
 * hash, a cache miss each: about 330,000 per query with 8 dihedral hashes at 10 million listed hashes.
 *
 * Each hash is found through one half only: through the high half when that is within r, else through
 * the low half (which then must be within r) with the high half beyond r. Duplicates across words and
 * across the query's dihedral hashes are removed with a small set before the full distance is taken.
 * Radii above MAX_RADIUS, and lists too small to repay 4 MiB of bucket tables, are scanned instead.
 */
import { CandidateSet } from './candidate-set.js';
import type { EntryNumbers, WordRecords } from './hex-words.js';
import { hamming256, popcount16, POPCOUNT16 } from './popcount.js';
import { scanHashes, type HitSink } from './simd-scan.js';
import { buildPostings, postingsScratch, viewPostings, type WordPostings } from './word-postings.js';

/** A `HammingIndex` as worker threads receive it: shared memory and numbers only. */
export interface SharedHammingIndex {
  /** Hashes held. */
  count: number;
  /** Largest distance that matches. */
  threshold: number;
  /** 8 words per hash, in list order. */
  hashes: SharedArrayBuffer;
  /** The list entry of each hash (Uint32); empty when hash i is entry i. */
  entries: SharedArrayBuffer;
  /** Posting lists of each of the 8 words; none when the index scans. */
  postings: SharedArrayBuffer[];
}

const WORDS = 8;
/** Half-word probe radius up to which multi-index hashing beats the scan (radius 2: T <= 47). */
const MAX_RADIUS = 2;

/** All 16-bit masks of at most MAX_RADIUS bits, fewest bits first, with their bit counts. */
const PROBE_MASKS: Uint16Array = masksUpTo(MAX_RADIUS);
const PROBE_BITS: Uint8Array = Uint8Array.from(PROBE_MASKS, popcount16);
/** Probes at radius r: the first PROBE_COUNT[r] masks. */
const PROBE_COUNT = [1, 17, 137] as const;

function masksUpTo(radius: number): Uint16Array {
  const masks: number[] = [];
  for (let m = 0; m < 1 << 16; m++) if (popcount16(m) <= radius) masks.push(m);
  masks.sort((a, b) => popcount16(a) - popcount16(b) || a - b);
  return Uint16Array.from(masks);
}

/** Half-word probe radius for threshold `threshold` (see the file comment). */
function probeRadius(threshold: number): number {
  return Math.floor(Math.floor(threshold / WORDS) / 2);
}

/** Whether a list of `count` hashes at `threshold` is worth posting lists, given the size floor. */
export function usesPostings(count: number, threshold: number, minEntries: number): boolean {
  return count > 0 && count >= minEntries && probeRadius(threshold) <= MAX_RADIUS;
}

export class HammingIndex {
  readonly count: number;
  readonly threshold: number;
  private readonly shared: SharedHammingIndex;
  private readonly hashes: Uint32Array;
  private readonly entries: Uint32Array | undefined;
  private readonly postings: WordPostings[];
  private readonly seen = new CandidateSet();
  /** Per probe of one word: start and end of its high-half bucket, then of its low-half bucket. */
  private readonly ranges = new Uint32Array(4 * PROBE_MASKS.length);

  private constructor(shared: SharedHammingIndex) {
    this.shared = shared;
    this.count = shared.count;
    this.threshold = shared.threshold;
    this.hashes = new Uint32Array(shared.hashes);
    this.entries = shared.entries.byteLength === 0 ? undefined : new Uint32Array(shared.entries);
    this.postings = shared.postings.map((b) => viewPostings(b, shared.count));
  }

  /**
   * Compiles the hashes read so far into shared memory; `withPostings` (see `usesPostings`) adds the
   * multi-index posting lists, 64 bytes per hash.
   */
  static build(records: WordRecords, entries: EntryNumbers, threshold: number, withPostings: boolean): HammingIndex {
    const count = records.length;
    const hashes = records.toShared();
    const postings: SharedArrayBuffer[] = [];
    if (withPostings) {
      const view = new Uint32Array(hashes);
      const scratch = postingsScratch(count);
      for (let w = 0; w < WORDS; w++) postings.push(buildPostings(view, count, w, scratch));
    }
    const entryTable = entries.isIdentity() ? new SharedArrayBuffer(0) : entries.toShared();
    return new HammingIndex({ count, threshold, hashes, entries: entryTable, postings });
  }

  static fromShared(shared: SharedHammingIndex): HammingIndex {
    return new HammingIndex(shared);
  }

  toShared(): SharedHammingIndex {
    return this.shared;
  }

  get byteLength(): number {
    const { hashes, entries, postings } = this.shared;
    return hashes.byteLength + entries.byteLength + postings.reduce((sum, b) => sum + b.byteLength, 0);
  }

  /** Whether `search` uses the posting lists (else it scans). */
  get indexed(): boolean {
    return this.postings.length === WORDS;
  }

  /**
   * Every listed hash within the threshold of any of `queries` (8 words each), once, with its smallest
   * distance: `sink(entry, distance)`, in no particular order.
   */
  search(queries: readonly Uint32Array[], sink: HitSink): void {
    if (!this.indexed) {
      this.scan(queries, sink);
      return;
    }
    const seen = this.seen;
    seen.clear();
    const t = Math.floor(this.threshold / WORDS);
    const r = probeRadius(this.threshold);
    const probes = PROBE_COUNT[r as 0 | 1 | 2];
    const verify = (position: number): void => {
      if (!seen.add(position)) return;
      let best = this.threshold + 1;
      for (const q of queries) {
        const d = hamming256(this.hashes, position * WORDS, q, 0);
        if (d < best) best = d;
      }
      if (best <= this.threshold) sink(this.entryOf(position), best);
    };
    const ranges = this.ranges;
    for (const q of queries) {
      for (let w = 0; w < WORDS; w++) {
        const { hiStarts, loStarts, hiIds, hiLow, loHigh } = this.postings[w]!;
        const qHigh = q[w]! >>> 16;
        const qLow = q[w]! & 0xffff;
        // Bucket bounds of every probe first, then a first read of every bucket: independent loads, whose
        // cache misses the CPU overlaps, instead of one miss after another inside the scan below.
        let touched = 0;
        for (let p = 0, at = 0; p < probes; p++, at += 4) {
          const mask = PROBE_MASKS[p]!;
          const hb = qHigh ^ mask;
          const lb = qLow ^ mask;
          ranges[at] = hiStarts[hb]!;
          ranges[at + 1] = hiStarts[hb + 1]!;
          ranges[at + 2] = loStarts[lb]!;
          ranges[at + 3] = loStarts[lb + 1]!;
        }
        for (let p = 0, at = 0; p < probes; p++, at += 4) {
          if (ranges[at]! < ranges[at + 1]!) touched += hiLow[ranges[at]!]!;
          if (ranges[at + 2]! < ranges[at + 3]!) touched += loHigh[ranges[at + 2]!]!;
        }
        if (touched < 0) throw new Error('unreachable: sums of unsigned values'); // keeps the loads alive
        for (let p = 0, at = 0; p < probes; p++, at += 4) {
          const limit = t - PROBE_BITS[p]!;
          // High half within r: keep entries whose low half is within what the word has left.
          for (let k = ranges[at]!, end = ranges[at + 1]!; k < end; k++) {
            if (POPCOUNT16[hiLow[k]! ^ qLow]! <= limit) verify(hiIds[k]!);
          }
          // Low half within r, high half beyond r (else found above) and within what is left.
          if (limit <= r) continue;
          const lb = qLow ^ PROBE_MASKS[p]!;
          let previous = -1;
          for (let k = ranges[at + 2]!, end = ranges[at + 3]!; k < end; k++) {
            const high = loHigh[k]!;
            if (high === previous) continue; // equal words: the same hashes, looked up once
            previous = high;
            const d = POPCOUNT16[high ^ qHigh]!;
            if (d > r && d <= limit) this.forEachWithWord(w, high, lb, verify);
          }
        }
      }
    }
  }

  /** The brute-force baseline: every listed hash against every query (SIMD where available). */
  scan(queries: readonly Uint32Array[], sink: HitSink): void {
    scanHashes(this.hashes, this.count, queries, this.threshold, (position, d) => sink(this.entryOf(position), d));
  }

  private entryOf(position: number): number {
    return this.entries === undefined ? position : this.entries[position]!;
  }

  /** Calls `fn` with the position of every hash whose word `w` is (high << 16 | low). */
  private forEachWithWord(w: number, high: number, low: number, fn: (position: number) => void): void {
    const { hiStarts, hiIds, hiLow } = this.postings[w]!;
    let lo = hiStarts[high]!;
    let hi = hiStarts[high + 1]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hiLow[mid]! < low) lo = mid + 1;
      else hi = mid;
    }
    const end = hiStarts[high + 1]!;
    for (let k = lo; k < end && hiLow[k] === low; k++) fn(hiIds[k]!);
  }
}
