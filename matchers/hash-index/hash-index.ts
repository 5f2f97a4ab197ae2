import { EXACT_HASH_HEX_LENGTH, EXACT_HASH_TYPES, type ExactHashType } from '../exact/index.js';
import type { IndexMatch } from '../index-match.js';
import { PDQ_HASH_BITS, PDQ_HASH_WORDS, PDQ_MATCH_THRESHOLD, PDQ_MIN_QUALITY, type PdqHash } from '../pdq/index.js';
import { ExactTable, type SharedExactTable } from './exact-table.js';
import { HammingIndex, usesPostings, type SharedHammingIndex } from './hamming-index.js';
import { ListEntryError } from '../../core/errors.js';
import { EntryNumbers, hexToWords, WordRecords } from './hex-words.js';

/** The hash types a `hashes` list holds. */
export type HashType = 'pdq' | 'blockhash' | ExactHashType;
export const HASH_TYPES: readonly HashType[] = ['pdq', 'blockhash', ...EXACT_HASH_TYPES];

/** Blockhash distance that matches unless a list says otherwise (about 4% of 256 bits). */
export const DEFAULT_BLOCKHASH_THRESHOLD = 10;
/**
 * Perceptual lists smaller than this are scanned: below it, the scan takes well under a millisecond,
 * and multi-index hashing's fixed 4 MiB of bucket tables would cost more than the hashes themselves.
 */
export const DEFAULT_MIH_MIN_ENTRIES = 2048;

export interface HashIndexOptions {
  /** PDQ distance that matches, 0..256; default PDQ_MATCH_THRESHOLD (31). */
  pdqThreshold?: number;
  /** Blockhash distance that matches, 0..256; default DEFAULT_BLOCKHASH_THRESHOLD. */
  blockhashThreshold?: number;
  /** Perceptual lists of fewer hashes are scanned rather than indexed; default DEFAULT_MIH_MIN_ENTRIES. */
  mihMinEntries?: number;
}

/** A `HashIndex` as worker threads receive it: SharedArrayBuffers and numbers only, structured-clonable. */
export interface SharedHashIndex {
  kind: 'hashes';
  /** Entries the index was built from. */
  size: number;
  pdq: SharedHammingIndex;
  blockhash: SharedHammingIndex;
  md5: SharedExactTable;
  sha1: SharedExactTable;
  sha256: SharedExactTable;
  blake3: SharedExactTable;
}

/** The hashes of one image. Every field is optional; absent ones are not looked up. */
export interface HashQuery {
  /** The image's PDQ hashes: usually its 8 dihedral hashes, any of which may match. */
  pdq?: readonly PdqHash[];
  /** PDQ quality 0..100; below PDQ_MIN_QUALITY (50) the PDQ hashes are not matched. */
  pdqQuality?: number;
  /** 64 hex digits. */
  blockhash?: string;
  md5?: string;
  sha1?: string;
  sha256?: string;
  blake3?: string;
}

export interface HashMatch extends IndexMatch {
  hashType: HashType;
}

/** Hashes held and shared-memory bytes, per hash type. */
export type HashIndexStats = Record<HashType, { count: number; bytes: number }>;

interface Parts {
  pdq: HammingIndex;
  blockhash: HammingIndex;
  exact: Record<ExactHashType, ExactTable>;
}

/**
 * The compiled `hashes` list: exact lookups for cryptographic digests, Hamming-radius search for the
 * perceptual hashes (hamming-index.ts), all in SharedArrayBuffers. Entry `i` is the i-th entry the index
 * was built from; matches come in entry order.
 */
export class HashIndex {
  readonly size: number;
  /** Bytes of shared memory the index occupies. */
  readonly bytes: number;
  private parts: Parts | undefined;
  /** Parsed query digests; per thread, reused by every query. */
  private readonly digest = new Uint32Array(PDQ_HASH_WORDS);

  private constructor(size: number, parts: Parts) {
    this.size = size;
    this.parts = parts;
    const { pdq, blockhash, exact } = parts;
    this.bytes = pdq.byteLength + blockhash.byteLength + EXACT_HASH_TYPES.reduce((n, t) => n + exact[t].byteLength, 0);
  }

  /**
   * Builds an index in which entry `i` is the i-th of `entries`: a hash type (`pdq`, `blockhash`, `md5`,
   * `sha1`, `sha256`, `blake3`) and its value in hex. Throws a `ListEntryError` (code `LIST_INVALID`)
   * naming the position of the first invalid entry, and a RangeError for an invalid option.
   */
  static build(entries: Iterable<{ hashType: string; value: string }>, options: HashIndexOptions = {}): HashIndex {
    const pdqThreshold = checkThreshold('pdqThreshold', options.pdqThreshold ?? PDQ_MATCH_THRESHOLD);
    const blockhashThreshold = checkThreshold('blockhashThreshold', options.blockhashThreshold ?? DEFAULT_BLOCKHASH_THRESHOLD);
    const minEntries = options.mihMinEntries ?? DEFAULT_MIH_MIN_ENTRIES;
    if (!Number.isInteger(minEntries) || minEntries < 0) throw new RangeError('mihMinEntries must be an integer >= 0');

    const lists = Object.fromEntries(
      HASH_TYPES.map((t) => [t, { records: new WordRecords(hexLength(t) / 8), entries: new EntryNumbers() }]),
    ) as Record<HashType, { records: WordRecords; entries: EntryNumbers }>;
    let i = 0;
    for (const entry of entries) {
      const type = hashTypeOf(entry.hashType);
      if (type === undefined) {
        throw new ListEntryError(i, `unknown hash type ${quote(entry.hashType)} (expected one of ${HASH_TYPES.join(', ')})`);
      }
      const list = lists[type];
      if (typeof entry.value !== 'string' || !list.records.pushHex(entry.value)) {
        throw new ListEntryError(i, `${type} value must be ${hexLength(type)} hex digits, got ${quote(entry.value)}`);
      }
      list.entries.push(i);
      i++;
    }

    const perceptual = (type: 'pdq' | 'blockhash', threshold: number): HammingIndex => {
      const { records, entries: numbers } = lists[type];
      return HammingIndex.build(records, numbers, threshold, usesPostings(records.length, threshold, minEntries));
    };
    const exact = Object.fromEntries(
      EXACT_HASH_TYPES.map((t) => [t, ExactTable.build(lists[t].records, lists[t].entries)]),
    ) as Record<ExactHashType, ExactTable>;
    return new HashIndex(i, { pdq: perceptual('pdq', pdqThreshold), blockhash: perceptual('blockhash', blockhashThreshold), exact });
  }

  /** Wraps an index built in another thread: the same memory, no copy, no rebuild. */
  static fromShared(shared: SharedHashIndex): HashIndex {
    const exact = Object.fromEntries(EXACT_HASH_TYPES.map((t) => [t, ExactTable.fromShared(shared[t])])) as Record<
      ExactHashType,
      ExactTable
    >;
    return new HashIndex(shared.size, {
      pdq: HammingIndex.fromShared(shared.pdq),
      blockhash: HammingIndex.fromShared(shared.blockhash),
      exact,
    });
  }

  toShared(): SharedHashIndex {
    const { pdq, blockhash, exact } = this.live();
    return {
      kind: 'hashes',
      size: this.size,
      pdq: pdq.toShared(),
      blockhash: blockhash.toShared(),
      md5: exact.md5.toShared(),
      sha1: exact.sha1.toShared(),
      sha256: exact.sha256.toShared(),
      blake3: exact.blake3.toShared(),
    };
  }

  /** Hashes held and bytes of shared memory, per type (the perceptual ones include their posting lists). */
  stats(): HashIndexStats {
    const { pdq, blockhash, exact } = this.live();
    const stats = {
      pdq: { count: pdq.count, bytes: pdq.byteLength },
      blockhash: { count: blockhash.count, bytes: blockhash.byteLength },
    } as HashIndexStats;
    for (const t of EXACT_HASH_TYPES) stats[t] = { count: exact[t].count, bytes: exact[t].byteLength };
    return stats;
  }

  /**
   * Every entry the image's hashes match: PDQ entries within the PDQ threshold of any of `q.pdq` (once
   * each, with the smallest distance; none when `q.pdqQuality` is below PDQ_MIN_QUALITY), blockhash entries
   * within the blockhash threshold, and entries equal to an exact digest (distance 0, threshold 0).
   * Throws a TypeError for a malformed query value: hashes come from our own hashers, so that is a bug.
   */
  match(q: HashQuery): HashMatch[] {
    const { pdq, blockhash, exact } = this.live();
    const out: HashMatch[] = [];
    const lowQuality = q.pdqQuality !== undefined && q.pdqQuality < PDQ_MIN_QUALITY;
    if (q.pdq !== undefined && !lowQuality) {
      pdq.search(checkPdq(q.pdq), (entry, distance) => out.push({ entry, distance, threshold: pdq.threshold, hashType: 'pdq' }));
    }
    if (q.blockhash !== undefined) {
      const query = this.parse('blockhash', q.blockhash);
      blockhash.search([query], (entry, distance) =>
        out.push({ entry, distance, threshold: blockhash.threshold, hashType: 'blockhash' }),
      );
    }
    for (const t of EXACT_HASH_TYPES) {
      const value = q[t];
      if (value === undefined) continue;
      exact[t].lookup(this.parse(t, value), (entry) => out.push({ entry, distance: 0, threshold: 0, hashType: t }));
    }
    return out.sort(byEntry);
  }

  /**
   * The brute-force baseline for PDQ: every listed PDQ hash against every one of `q`, with no index.
   * Gives the same matches as `match({ pdq: q })`; kept to measure and test the index against.
   */
  scanPdq(q: readonly PdqHash[]): HashMatch[] {
    const { pdq } = this.live();
    const out: HashMatch[] = [];
    pdq.scan(checkPdq(q), (entry, distance) => out.push({ entry, distance, threshold: pdq.threshold, hashType: 'pdq' }));
    return out.sort(byEntry);
  }

  /**
   * Drops this thread's views of the shared memory, which is freed once no thread holds it.
   * Using the index afterwards is a bug and throws.
   */
  dispose(): void {
    this.parts = undefined;
  }

  private live(): Parts {
    if (this.parts === undefined) throw new Error('HashIndex used after dispose()');
    return this.parts;
  }

  private parse(type: 'blockhash' | ExactHashType, hex: string): Uint32Array {
    const length = hexLength(type);
    const words = this.digest.subarray(0, length / 8);
    if (typeof hex !== 'string' || !hexToWords(hex, length / 8, words, 0)) {
      throw new TypeError(`HashQuery.${type} must be ${length} hex digits, got ${quote(hex)}`);
    }
    return words;
  }
}

const byEntry = (a: HashMatch, b: HashMatch): number => a.entry - b.entry;

function hexLength(type: HashType): number {
  return type === 'pdq' || type === 'blockhash' ? PDQ_HASH_BITS / 4 : EXACT_HASH_HEX_LENGTH[type];
}

function hashTypeOf(raw: unknown): HashType | undefined {
  if (typeof raw !== 'string') return undefined;
  const known = (s: string): s is HashType => (HASH_TYPES as readonly string[]).includes(s);
  if (known(raw)) return raw;
  const lower = raw.toLowerCase();
  return known(lower) ? lower : undefined;
}

function checkThreshold(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > PDQ_HASH_BITS) {
    throw new RangeError(`${name} must be an integer 0..${PDQ_HASH_BITS}, got ${value}`);
  }
  return value;
}

function checkPdq(hashes: readonly PdqHash[]): readonly PdqHash[] {
  for (const h of hashes) {
    if (!(h instanceof Uint32Array) || h.length !== PDQ_HASH_WORDS) {
      throw new TypeError(`HashQuery.pdq must hold PdqHash values (${PDQ_HASH_WORDS}-word Uint32Array)`);
    }
  }
  return hashes;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
}
