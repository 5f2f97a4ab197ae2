import type { IndexMatch } from '../index-match.js';

/**
 * The shared form of a `StringTable`: one SharedArrayBuffer and the counts that lay it out.
 * Structured-clonable, so a worker thread receives a view of the same memory, not a copy.
 */
export interface SharedStringTable {
  buffer: SharedArrayBuffer;
  /** Slots in the hash table, a power of two. */
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

/**
 * An immutable set of distinct one-byte strings, each mapped to the list entries it came from, laid out
 * in one SharedArrayBuffer so that every worker thread reads the same copy:
 *
 *   slots    Int32[2 * capacity]  open addressing, linear probing: [tag, record offset + 1], 0 = empty
 *   filter   Int32[filterWords]   a blocked Bloom filter of the tags: two bits in one word per key
 *   records  Uint8[recordBytes]   per key: its length (LEB128), its characters, its entry count (LEB128),
 *                                 then its entry positions (4 bytes each, little-endian)
 *
 * Most lookups are for strings that are absent (most parents of most domains are not listed), and with a
 * million keys the slots alone are 16 MiB, so a probe is a cache miss. The filter, one to two bytes per key,
 * mostly stays in cache and turns about 95% of those lookups away first. Past it, the 32-bit tag in the slot
 * rejects nearly every other absent string without reading a record; a tag that agrees is confirmed by
 * comparing the characters, so a lookup never reports a false positive. The caller computes tags (see
 * string-hash.ts), which lets it hash many prefixes or suffixes of one string in one pass.
 */
export class StringTable {
  readonly keyCount: number;
  private readonly shared: SharedStringTable;
  private readonly mask: number;
  private readonly filterShift: number;
  private readonly slots: Int32Array;
  private readonly filter: Int32Array;
  private readonly records: Uint8Array;

  private constructor(shared: SharedStringTable) {
    const { buffer, capacity, filterWords, keyCount, recordBytes } = shared;
    this.shared = shared;
    this.keyCount = keyCount;
    this.mask = capacity - 1;
    this.filterShift = 32 - Math.log2(filterWords);
    this.slots = new Int32Array(buffer, 0, 2 * capacity);
    this.filter = new Int32Array(buffer, 8 * capacity, filterWords);
    this.records = new Uint8Array(buffer, 8 * capacity + 4 * filterWords, recordBytes);
  }

  /**
   * Builds a table in which `keys[j]` maps to entry `entries[j]`; equal keys share one record, their
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
      recordBytes += leb128Length(key.length) + leb128Length(count) + key.length + 4 * count;
    });
    const capacity = slotCount(distinct.length);
    const filterWords = filterWordCount(distinct.length);
    const buffer = new SharedArrayBuffer(8 * capacity + 4 * filterWords + recordBytes);
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
   * Where the record of the key equal to `s.slice(start, end)`, whose tag is `tag`, begins, or -1 if
   * there is no such key. Takes a range rather than a substring so that suffix and prefix lookups allocate
   * nothing.
   */
  find(tag: number, s: string, start: number, end: number): number {
    const bits = filterBits(tag);
    if (((this.filter[this.filterWord(tag)] ?? 0) & bits) !== bits) return -1;
    const { slots, mask } = this;
    for (let slot = tag & mask; ; slot = (slot + 1) & mask) {
      const offsetPlusOne = slots[2 * slot + 1] ?? 0;
      if (offsetPlusOne === 0) return -1;
      if (slots[2 * slot] === tag && this.keyEquals(offsetPlusOne - 1, s, start, end)) return offsetPlusOne - 1;
    }
  }

  /** Appends one exact match per entry of the key whose record begins at `record` (from `find`). */
  pushMatches(record: number, out: IndexMatch[]): void {
    const { records } = this;
    const length = readLeb128(records, record);
    let at = record + leb128Length(length) + length;
    const count = readLeb128(records, at);
    at += leb128Length(count);
    for (let k = 0; k < count; k++, at += 4) {
      const entry = (records[at] ?? 0) | ((records[at + 1] ?? 0) << 8) | ((records[at + 2] ?? 0) << 16) | ((records[at + 3] ?? 0) << 24);
      out.push({ entry, distance: 0, threshold: 0 });
    }
  }

  /** Fibonacci hashing of the tag picks the word, so that it does not follow the slot (the low tag bits). */
  private filterWord(tag: number): number {
    return Math.imul(tag, FILTER_MULTIPLIER) >>> this.filterShift;
  }

  private keyEquals(record: number, s: string, start: number, end: number): boolean {
    const { records } = this;
    const length = readLeb128(records, record);
    if (length !== end - start) return false;
    for (let i = start, at = record + leb128Length(length); i < end; i++, at++) {
      if (records[at] !== s.charCodeAt(i)) return false;
    }
    return true;
  }

  private fill(distinct: readonly string[], grouped: Int32Array, starts: Int32Array, tag: (key: string) => number): void {
    const { slots, mask, records } = this;
    let at = 0;
    distinct.forEach((key, id) => {
      const record = at;
      const first = starts[id] ?? 0;
      const last = starts[id + 1] ?? 0;
      at = writeLeb128(records, at, key.length);
      for (let i = 0; i < key.length; i++) {
        const code = key.charCodeAt(i);
        if (code > 0xff) throw new RangeError(`key ${JSON.stringify(key)} has a character wider than one byte`);
        records[at++] = code;
      }
      at = writeLeb128(records, at, last - first);
      for (let k = first; k < last; k++) {
        const entry = grouped[k] ?? 0;
        records[at++] = entry & 0xff;
        records[at++] = (entry >>> 8) & 0xff;
        records[at++] = (entry >>> 16) & 0xff;
        records[at++] = entry >>> 24;
      }
      const t = tag(key);
      const word = this.filterWord(t);
      this.filter[word] = (this.filter[word] ?? 0) | filterBits(t);
      let slot = t & mask;
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = t;
      slots[2 * slot + 1] = record + 1;
    });
  }
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

/** The smallest power of two that keeps `keyCount` keys under MAX_LOAD, leaving at least one slot empty. */
function slotCount(keyCount: number): number {
  let capacity = 2;
  while (capacity * MAX_LOAD < keyCount + 1) capacity *= 2;
  return capacity;
}
