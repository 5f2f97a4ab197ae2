/**
 * The PDQ hash value: 256 bits held as eight 32-bit words, the first word being the first 8 hex digits.
 *
 * Why words and not a hex string or 32 bytes: Hamming distance, the operation an index runs millions of
 * times, is then 8 XORs and 8 popcounts on small integers with no parsing and no allocation, and the
 * words sit directly in a `Uint32Array` slab of a whole list (shared memory between workers).
 * Hex, the interchange format, is the reference tool's: 64 lowercase digits.
 */
declare const pdqBrand: unique symbol;

/** 256-bit PDQ hash; 8 words, big-endian by hex digit. Treat as immutable. */
export type PdqHash = Uint32Array & { readonly [pdqBrand]: 'PdqHash' };

export const PDQ_HASH_WORDS = 8;
export const PDQ_HASH_BITS = 256;
/** PDQ's own matching threshold: distance <= 31 is a match. */
export const PDQ_MATCH_THRESHOLD = 31;
/** Hashes of quality below this are not used for perceptual matching (the PDQ authors' rule). */
export const PDQ_MIN_QUALITY = 50;

const HEX_64 = /^[0-9a-fA-F]{64}$/;

/** A new all-zero hash (the reference's value for images too small to hash). */
export function emptyPdqHash(): PdqHash {
  return new Uint32Array(PDQ_HASH_WORDS) as PdqHash;
}

/**
 * Sets bit `k` (0..255), numbered as the reference numbers them: bit k is DCT coefficient
 * (row k >> 4, column k & 15), and bit 255 is the top bit of the first hex digit.
 */
export function setPdqBit(hash: PdqHash, k: number): void {
  const w = 7 - (k >>> 5);
  hash[w] = (hash[w]! | (1 << (k & 31))) >>> 0;
}

/** Number of differing bits, 0..256. */
export function pdqHamming(a: PdqHash, b: PdqHash): number {
  let d = 0;
  for (let i = 0; i < PDQ_HASH_WORDS; i++) d += popcount32(a[i]! ^ b[i]!);
  return d;
}

/** 64 lowercase hex digits, as `pdq-photo-hasher` prints them. */
export function pdqToHex(hash: PdqHash): string {
  let s = '';
  for (let i = 0; i < PDQ_HASH_WORDS; i++) s += (hash[i]! >>> 0).toString(16).padStart(8, '0');
  return s;
}

/** True when `s` is 64 hex digits (either case). */
export function isPdqHex(s: string): boolean {
  return HEX_64.test(s);
}

/**
 * Parses 64 hex digits (either case). Throws a TypeError on anything else: callers that read lists
 * validate with `isPdqHex` first and report the row.
 */
export function pdqFromHex(hex: string): PdqHash {
  if (!HEX_64.test(hex)) throw new TypeError(`not a PDQ hash (64 hex digits): ${JSON.stringify(hex.slice(0, 80))}`);
  const hash = emptyPdqHash();
  for (let i = 0; i < PDQ_HASH_WORDS; i++) hash[i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16) >>> 0;
  return hash;
}

/** Hamming weight of a 32-bit integer (SWAR; V8 has no popcount intrinsic). */
function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
