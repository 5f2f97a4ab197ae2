/**
 * Hash values arrive as hex digits (the list format) and are held as 32-bit words, the first word being
 * the first 8 digits, as `PdqHash` holds them. Parsing goes straight into a word array, with no substring
 * and no intermediate number per digit pair, because a list of 10 million hashes is parsed in one go.
 */

/** Value of each ASCII character as a hex digit, or -1. A table: one load per digit. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(d)] = d;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(d)] = d;
}

/**
 * Writes the `words` words spelled by `hex` into `out` from index `at`. Returns false, writing nothing
 * useful, unless `hex` is exactly `8 * words` hex digits (either case).
 */
export function hexToWords(hex: string, words: number, out: Uint32Array, at: number): boolean {
  if (hex.length !== words * 8) return false;
  for (let w = 0; w < words; w++) {
    let v = 0;
    let bad = 0;
    for (let i = w * 8, end = i + 8; i < end; i++) {
      const d = HEX_VALUE[hex.charCodeAt(i) & 0x7f]! | (hex.charCodeAt(i) & ~0x7f);
      bad |= d;
      v = (v << 4) | (d & 0xf);
    }
    if (bad < 0 || bad > 0xf) return false;
    out[at + w] = v >>> 0;
  }
  return true;
}

/**
 * Fixed-size records of 32-bit words, appended one at a time while a list is read (its length is not
 * known up front), then copied once into shared memory of the exact size.
 */
export class WordRecords {
  readonly wordsPerRecord: number;
  length = 0;
  private words: Uint32Array;

  constructor(wordsPerRecord: number, initialRecords = 1024) {
    this.wordsPerRecord = wordsPerRecord;
    this.words = new Uint32Array(wordsPerRecord * initialRecords);
  }

  /** Appends the record spelled by `hex`; false (and nothing appended) if `hex` does not spell one. */
  pushHex(hex: string): boolean {
    const at = this.length * this.wordsPerRecord;
    if (at + this.wordsPerRecord > this.words.length) this.grow();
    if (!hexToWords(hex, this.wordsPerRecord, this.words, at)) return false;
    this.length++;
    return true;
  }

  /** The records, copied into a SharedArrayBuffer of exactly their size. */
  toShared(): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(this.length * this.wordsPerRecord * 4);
    this.copyTo(new Uint32Array(buffer));
    return buffer;
  }

  copyTo(target: Uint32Array): void {
    target.set(this.words.subarray(0, this.length * this.wordsPerRecord));
  }

  private grow(): void {
    const bigger = new Uint32Array(this.words.length * 2);
    bigger.set(this.words);
    this.words = bigger;
  }
}

/** Entry numbers, appended while a list is read: for each record, which list entry it came from. */
export class EntryNumbers {
  length = 0;
  private values = new Uint32Array(1024);

  push(entry: number): void {
    if (this.length === this.values.length) {
      const bigger = new Uint32Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = entry;
  }

  /** True when record `i` came from entry `i` for every record: no table is then needed. */
  isIdentity(): boolean {
    for (let i = 0; i < this.length; i++) if (this.values[i] !== i) return false;
    return true;
  }

  toShared(): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(this.length * 4);
    this.copyTo(new Uint32Array(buffer));
    return buffer;
  }

  copyTo(target: Uint32Array): void {
    target.set(this.values.subarray(0, this.length));
  }
}
