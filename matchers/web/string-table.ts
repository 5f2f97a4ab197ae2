import type { IndexMatch } from '../index-match.js';

/**
 * The shared form of a `StringTable`: one SharedArrayBuffer and the counts that lay it out.
 * Structured-clonable, so a worker thread receives a view of the same memory, not a copy.
 */
export interface SharedStringTable {
  buffer: SharedArrayBuffer;
  /** Slots in the hash table. */
  capacity: number;
  /** 32-bit words of the filter in front of it, a power of two. */
  filterWords: number;
  /** Distinct strings held. */
  keyCount: number;
  /** Bytes of the records that follow the slots and the filter. */
  recordBytes: number;
}

/** Slots stay at most this full, so a probe for a string that is absent ends on an empty slot quickly. */
const MAX_LOAD = 0.7;
/** At least this many filter bits per key: about 5% of absent strings get past it, at worst. */
const FILTER_BITS_PER_KEY = 8;
/** 2^32 divided by the golden ratio, for Fibonacci hashing. */
const FILTER_MULTIPLIER = 0x9e3779b1 | 0;
/** Bytes per slot: two fit in a 64-byte cache line and, the buffer being page-aligned, none straddles two. */
const SLOT_BYTES = 32;
/** Where a slot's length byte is, and its first characters after it. */
const LENGTH_BYTE = 8;
/** Characters a slot holds: keys up to this long are compared without leaving the slot. */
const INLINE_CHARS = SLOT_BYTES - LENGTH_BYTE - 1;
/** The length byte of keys this long or longer, whose exact length is in their record. */
const LONG = 255;

/**
 * An immutable set of distinct one-byte strings, each mapped to the list entries it came from, laid out
 * in one SharedArrayBuffer so that every worker thread reads the same copy:
 *
 *   slots    32 bytes x capacity  open addressing, linear probing; per slot:
 *                                   Int32 tag; Int32 ref: 0 = empty, n > 0 = the key's only entry is n - 1,
 *                                   n < 0 = its record is at -n - 1; Uint8 length (255: 255 or more);
 *                                   the key's first 23 characters
 *   filter   Int32[filterWords]   a blocked Bloom filter of the tags: two bits in one word per key
 *   records  Uint8[recordBytes]   only for keys longer than 23 characters or listed more than once: the
 *                                 length (LEB128), entry count (LEB128), entry positions (4 bytes each,
 *                                 little-endian), then the characters after the first 23
 *
 * Most lookups are for strings that are absent (most parents of most domains are not listed), and with a
 * million keys the slots are 45 MiB, so a probe is a cache miss. The filter, one to two bytes per key,
 * mostly stays in cache and turns about 95% of those lookups away first. Past it, the 32-bit tag in the slot
 * rejects nearly every other absent string. A tag that agrees is confirmed by comparing every character,
 * so a lookup never reports a false positive; for a key of up to 23 characters listed once (most domains)
 * the characters and the entry are in the slot itself, so a hit costs one cache miss, not two. The caller
 * computes tags (see string-hash.ts), which lets it hash many prefixes or suffixes of one string in one pass.
 */
export class StringTable {
  readonly keyCount: number;
  private readonly shared: SharedStringTable;
  private readonly capacity: number;
  private readonly filterShift: number;
  /** The slots as 32-bit words (eight a slot) and as bytes: two views of the same memory. */
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly filter: Int32Array;
  private readonly records: Uint8Array;

  private constructor(shared: SharedStringTable) {
    const { buffer, capacity, filterWords, keyCount, recordBytes } = shared;
    this.shared = shared;
    this.keyCount = keyCount;
    this.capacity = capacity;
    this.filterShift = 32 - Math.log2(filterWords);
    this.words = new Int32Array(buffer, 0, (SLOT_BYTES / 4) * capacity);
    this.bytes = new Uint8Array(buffer, 0, SLOT_BYTES * capacity);
    this.filter = new Int32Array(buffer, SLOT_BYTES * capacity, filterWords);
    this.records = new Uint8Array(buffer, SLOT_BYTES * capacity + 4 * filterWords, recordBytes);
  }

  /**
   * Builds a table in which `keys[j]` maps to entry `entries[j]`; equal keys share one slot, their
   * entries in list order. `tag` must be the function the caller will use to tag its queries. Every key
   * must be one-byte (code units below 256); callers escape anything wider first.
   */
  static build(keys: readonly string[], entries: readonly number[], tag: (key: string) => number): StringTable {
    if (keys.length !== entries.length) throw new RangeError('keys and entries differ in length');
    const { distinct, keyOf } = dedupe(keys);
    const starts = groupStarts(keyOf, distinct.length);
    const grouped = groupEntries(keyOf, entries, starts);

    let recordBytes = 0;
    distinct.forEach((key, id) => {
      const count = (starts[id + 1] ?? 0) - (starts[id] ?? 0);
      if (hasRecord(key, count)) recordBytes += recordLength(key, count);
    });
    const capacity = slotCount(distinct.length);
    const filterWords = filterWordCount(distinct.length);
    const buffer = new SharedArrayBuffer(SLOT_BYTES * capacity + 4 * filterWords + recordBytes);
    const table = new StringTable({ buffer, capacity, filterWords, keyCount: distinct.length, recordBytes });
    table.fill(distinct, grouped, starts, tag);
    return table;
  }

  /** Wraps the memory of a table built elsewhere (another thread, usually): no copy, no rebuild. */
  static fromShared(shared: SharedStringTable): StringTable {
    return new StringTable(shared);
  }

  toShared(): SharedStringTable {
    return this.shared;
  }

  /** Bytes of shared memory the table occupies. */
  get byteLength(): number {
    return this.shared.buffer.byteLength;
  }

  /**
   * The slot of the key equal to `s.slice(start, end)`, whose tag is `tag`, or -1 if there is no such key.
   * Takes a range rather than a substring so that suffix and prefix lookups allocate nothing.
   */
  find(tag: number, s: string, start: number, end: number): number {
    return this.mayHold(tag) ? this.probe(tag, s, start, end) : -1;
  }

  /**
   * The filter's answer for `tag`: false if no key has it, true if one may. Apart from `probe` so that a caller
   * with several tags can read all their filter words before it waits on any (the reads then overlap).
   */
  mayHold(tag: number): boolean {
    const bits = filterBits(tag);
    return ((this.filter[Math.imul(tag, FILTER_MULTIPLIER) >>> this.filterShift] ?? 0) & bits) === bits;
  }

  /** `find` without the filter: the slots only. */
  probe(tag: number, s: string, start: number, end: number): number {
    const { words, bytes, capacity } = this;
    const length = end - start;
    const lengthByte = length < LONG ? length : LONG;
    for (let slot = this.homeSlot(tag); ; slot = slot + 1 === capacity ? 0 : slot + 1) {
      const ref = words[8 * slot + 1] ?? 0;
      if (ref === 0) return -1;
      if (words[8 * slot] === tag && bytes[SLOT_BYTES * slot + LENGTH_BYTE] === lengthByte && this.keyEquals(slot, ref, s, start, end)) {
        return slot;
      }
    }
  }

  /**
   * The first two steps of looking up `count` tags, done for all of them before any is waited on: reads each
   * tag's filter word, setting `passed[c]` to 1 if the filter lets `tags[c]` past and 0 if not, then reads the
   * home slot of each that got past. A lookup is two dependent cache misses (filter, then slot); a caller with
   * many lookups to make screens them together, so that the misses of different lookups overlap instead of
   * queueing, and then probes them (`probe`), finding their slots in cache. The loops are kept small so that
   * the core has many of their reads in flight at once. Returns what the slot reads read, only so that they
   * cannot be left out.
   */
  screen(tags: Int32Array, count: number, passed: Uint8Array): number {
    const { filter, filterShift, words } = this;
    for (let c = 0; c < count; c++) {
      const tag = tags[c] ?? 0;
      const bits = filterBits(tag);
      passed[c] = ((filter[Math.imul(tag, FILTER_MULTIPLIER) >>> filterShift] ?? 0) & bits) === bits ? 1 : 0;
    }
    let touched = 0;
    for (let c = 0; c < count; c++) {
      if (passed[c] === 1) touched ^= words[8 * this.homeSlot(tags[c] ?? 0)] ?? 0;
    }
    return touched;
  }

  /** Appends one exact match per entry of the key in `slot` (from `find`). */
  pushMatches(slot: number, out: IndexMatch[]): void {
    this.reportMatches(slot, 0, (_query, entry) => { out.push({ entry, distance: 0, threshold: 0 }); });
  }

  /** Calls `hit(query, entry)` for each entry of the key in `slot` (from `find`), in list order. */
  reportMatches(slot: number, query: number, hit: (query: number, entry: number) => void): void {
    const ref = this.words[8 * slot + 1] ?? 0;
    if (ref > 0) {
      hit(query, ref - 1);
      return;
    }
    const { records } = this;
    let at = -ref - 1;
    at += leb128Length(readLeb128(records, at));
    const count = readLeb128(records, at);
    at += leb128Length(count);
    for (let k = 0; k < count; k++, at += 4) {
      hit(query, (records[at] ?? 0) | ((records[at + 1] ?? 0) << 8) | ((records[at + 2] ?? 0) << 16) | ((records[at + 3] ?? 0) << 24));
    }
  }

  /**
   * Lemire's multiply-shift maps the unsigned tag onto [0, capacity) without a division, and lets the
   * capacity be any size, so the slots need not round up to a power of two. The product is below 2^53: exact.
   */
  private homeSlot(tag: number): number {
    return Math.floor(((tag >>> 0) * this.capacity) / 4294967296);
  }

  /** The length byte already agrees: compares the characters in the slot, then (long keys) the rest. */
  private keyEquals(slot: number, ref: number, s: string, start: number, end: number): boolean {
    const { bytes } = this;
    const length = end - start;
    const inline = length < INLINE_CHARS ? length : INLINE_CHARS;
    for (let i = 0, at = SLOT_BYTES * slot + LENGTH_BYTE + 1; i < inline; i++, at++) {
      if (bytes[at] !== s.charCodeAt(start + i)) return false;
    }
    if (length <= INLINE_CHARS) return true;
    // A key this long always has a record (ref < 0): its exact length, its entries, then its other characters.
    const { records } = this;
    let at = -ref - 1;
    if (readLeb128(records, at) !== length) return false;
    at += leb128Length(length);
    const count = readLeb128(records, at);
    at += leb128Length(count) + 4 * count;
    for (let i = start + INLINE_CHARS; i < end; i++, at++) {
      if (records[at] !== s.charCodeAt(i)) return false;
    }
    return true;
  }

  private fill(distinct: readonly string[], grouped: Int32Array, starts: Int32Array, tag: (key: string) => number): void {
    const { words, bytes, records, capacity } = this;
    let at = 0;
    distinct.forEach((key, id) => {
      const first = starts[id] ?? 0;
      const last = starts[id + 1] ?? 0;
      for (let i = 0; i < key.length; i++) {
        if (key.charCodeAt(i) > 0xff) throw new RangeError(`key ${JSON.stringify(key)} has a character wider than one byte`);
      }
      if ((grouped[first] ?? 0) >= 2 ** 31 - 1) throw new RangeError(`entry ${grouped[first] ?? 0} is past the largest position a slot holds`);
      let ref = (grouped[first] ?? 0) + 1;
      if (hasRecord(key, last - first)) {
        ref = -at - 1;
        at = writeLeb128(records, at, key.length);
        at = writeLeb128(records, at, last - first);
        for (let k = first; k < last; k++) {
          const entry = grouped[k] ?? 0;
          records[at++] = entry & 0xff;
          records[at++] = (entry >>> 8) & 0xff;
          records[at++] = (entry >>> 16) & 0xff;
          records[at++] = entry >>> 24;
        }
        for (let i = INLINE_CHARS; i < key.length; i++) records[at++] = key.charCodeAt(i);
      }
      const t = tag(key);
      const word = Math.imul(t, FILTER_MULTIPLIER) >>> this.filterShift;
      this.filter[word] = (this.filter[word] ?? 0) | filterBits(t);
      let slot = this.homeSlot(t);
      while (words[8 * slot + 1] !== 0) slot = slot + 1 === capacity ? 0 : slot + 1;
      words[8 * slot] = t;
      words[8 * slot + 1] = ref;
      bytes[SLOT_BYTES * slot + LENGTH_BYTE] = key.length < LONG ? key.length : LONG;
      const inline = Math.min(key.length, INLINE_CHARS);
      for (let i = 0; i < inline; i++) bytes[SLOT_BYTES * slot + LENGTH_BYTE + 1 + i] = key.charCodeAt(i);
    });
  }
}

/** A key needs a record when it does not fit in its slot or has more than one entry. */
function hasRecord(key: string, count: number): boolean {
  return key.length > INLINE_CHARS || count > 1;
}

function recordLength(key: string, count: number): number {
  return leb128Length(key.length) + leb128Length(count) + 4 * count + Math.max(0, key.length - INLINE_CHARS);
}

/** The distinct keys in order of first appearance, and for each item the position of its key among them. */
function dedupe(keys: readonly string[]): { distinct: string[]; keyOf: Int32Array } {
  const idOf = new Map<string, number>();
  const distinct: string[] = [];
  const keyOf = new Int32Array(keys.length);
  keys.forEach((key, j) => {
    let id = idOf.get(key);
    if (id === undefined) {
      id = distinct.length;
      idOf.set(key, id);
      distinct.push(key);
    }
    keyOf[j] = id;
  });
  return { distinct, keyOf };
}

/** `starts[id]` is where the entries of key `id` begin once grouped; `starts[keyCount]` is their total. */
function groupStarts(keyOf: Int32Array, keyCount: number): Int32Array {
  const starts = new Int32Array(keyCount + 1);
  for (const id of keyOf) starts[id + 1] = (starts[id + 1] ?? 0) + 1;
  for (let id = 0; id < keyCount; id++) starts[id + 1] = (starts[id + 1] ?? 0) + (starts[id] ?? 0);
  return starts;
}

/** Entries grouped by key, in list order within a key (a counting sort). */
function groupEntries(keyOf: Int32Array, entries: readonly number[], starts: Int32Array): Int32Array {
  const grouped = new Int32Array(keyOf.length);
  const cursor = starts.slice(0, -1);
  keyOf.forEach((id, j) => {
    const at = cursor[id] ?? 0;
    grouped[at] = entries[j] ?? 0;
    cursor[id] = at + 1;
  });
  return grouped;
}

/** Unsigned LEB128 (7 bits a byte, high bit set on all but the last): one byte below 128. */
function readLeb128(from: Uint8Array, at: number): number {
  let value = 0;
  for (let shift = 0, next = at; ; shift += 7, next++) {
    const byte = from[next] ?? 0;
    value |= (byte & 0x7f) << shift;
    if (byte < 0x80) return value;
  }
}

function leb128Length(n: number): number {
  let bytes = 1;
  for (let rest = n >>> 7; rest > 0; rest >>>= 7) bytes++;
  return bytes;
}

function writeLeb128(into: Uint8Array, at: number, n: number): number {
  let rest = n;
  let next = at;
  while (rest >= 0x80) {
    into[next++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  into[next++] = rest;
  return next;
}

/** The two bits a tag sets in its filter word, chosen by its top ten bits (the slot comes from the low ones). */
function filterBits(tag: number): number {
  return (1 << ((tag >>> 22) & 31)) | (1 << (tag >>> 27));
}

/** Filter words for `keyCount` keys: a power of two, at least 2 (so the shift that picks one is below 32). */
function filterWordCount(keyCount: number): number {
  let words = 2;
  while (32 * words < FILTER_BITS_PER_KEY * keyCount) words *= 2;
  return words;
}

/** Enough slots to keep `keyCount` keys under MAX_LOAD, leaving at least one slot empty. */
function slotCount(keyCount: number): number {
  return Math.max(2, Math.ceil((keyCount + 1) / MAX_LOAD));
}
