/**
 * One exact-hash list (MD5, SHA-1, SHA-256 or BLAKE3 digests), looked up exactly, in one SharedArrayBuffer:
 *
 *   slots    Int32[capacity]       open addressing, linear probing: position + 1, 0 = empty
 *   entries  Uint32[count]         the list entry of each digest
 *   digests  Uint32[count * words] the digests, as 32-bit words
 *
 * The slot comes from the digest's first 64 bits (digests are uniformly distributed, so a short mix of
 * two words spreads them); a hit is confirmed on every word of the stored digest, so a lookup never reports
 * a false positive. A digest listed twice occupies two slots, and both entries are reported.
 */
import type { EntryNumbers, WordRecords } from './hex-words.js';

/** An `ExactTable` as worker threads receive it. */
export interface SharedExactTable {
  count: number;
  /** 32-bit words per digest: 4 (MD5), 5 (SHA-1) or 8 (SHA-256, BLAKE3). */
  words: number;
  /** Slots, a power of two at least twice `count`. */
  capacity: number;
  buffer: SharedArrayBuffer;
}

export class ExactTable {
  readonly count: number;
  readonly words: number;
  private readonly shared: SharedExactTable;
  private readonly slots: Int32Array;
  private readonly entries: Uint32Array;
  private readonly digests: Uint32Array;
  private readonly shift: number;

  private constructor(shared: SharedExactTable) {
    const { count, words, capacity, buffer } = shared;
    this.shared = shared;
    this.count = count;
    this.words = words;
    this.shift = 32 - Math.log2(capacity);
    this.slots = new Int32Array(buffer, 0, capacity);
    this.entries = new Uint32Array(buffer, 4 * capacity, count);
    this.digests = new Uint32Array(buffer, 4 * (capacity + count), count * words);
  }

  /** Compiles the digests read so far (`records`, from `entries`) into shared memory. */
  static build(records: WordRecords, entries: EntryNumbers): ExactTable {
    const count = records.length;
    const words = records.wordsPerRecord;
    let capacity = 2;
    while (capacity < 2 * count) capacity *= 2;
    const buffer = new SharedArrayBuffer(4 * (capacity + count + count * words));
    const table = new ExactTable({ count, words, capacity, buffer });
    entries.copyTo(table.entries);
    records.copyTo(table.digests);
    const mask = capacity - 1;
    for (let p = 0; p < count; p++) {
      let s = table.slotOf(table.digests, p * words);
      while (table.slots[s] !== 0) s = (s + 1) & mask;
      table.slots[s] = p + 1;
    }
    return table;
  }

  static fromShared(shared: SharedExactTable): ExactTable {
    return new ExactTable(shared);
  }

  toShared(): SharedExactTable {
    return this.shared;
  }

  get byteLength(): number {
    return this.shared.buffer.byteLength;
  }

  /** Calls `sink` with each entry whose digest equals `digest` (`words` words). */
  lookup(digest: Uint32Array, sink: (entry: number) => void): void {
    if (this.count === 0) return;
    const { slots, digests, words } = this;
    const mask = slots.length - 1;
    for (let s = this.slotOf(digest, 0); ; s = (s + 1) & mask) {
      const held = slots[s]!;
      if (held === 0) return;
      const at = (held - 1) * words;
      let equal = true;
      for (let i = 0; i < words && equal; i++) equal = digests[at + i] === digest[i];
      if (equal) sink(this.entries[held - 1]!);
    }
  }

  private slotOf(words: Uint32Array, at: number): number {
    let h = Math.imul(words[at]!, 0x9e3779b1) ^ words[at + 1]!;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    return (h ^ (h >>> 13)) >>> this.shift;
  }
}
