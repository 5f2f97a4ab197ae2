/**
 * The string hash every web table is keyed by: 32-bit FNV-1a over UTF-16 code units, finished with
 * MurmurHash3's fmix32 so that the low bits (which pick the slot) depend on every character.
 *
 * FNV-1a is used because it is a one-character step: a loop that reads a domain from right to left holds,
 * after each character, the hash of the suffix read so far, so one pass yields the hash of every parent
 * domain, and a left-to-right pass over a URL yields the hash of every prefix. Thirty-two bits are enough
 * because a hash never decides a match on its own: the table compares the stored string too.
 */

/** The FNV-1a offset basis: the state before any character is read. */
export const HASH_SEED = 0x811c9dc5 | 0;

/** Folds one UTF-16 code unit into a hash state. */
export function hashStep(state: number, code: number): number {
  return Math.imul(state ^ code, 0x01000193);
}

/** Finishes a hash state into the tag stored in a table slot (fmix32 from MurmurHash3). */
export function hashTag(state: number): number {
  let h = state ^ (state >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Tag of `s`, read from its first character to its last: the key of a URL prefix or a package id. */
export function tagForward(s: string): number {
  let h = HASH_SEED;
  for (let i = 0; i < s.length; i++) h = hashStep(h, s.charCodeAt(i));
  return hashTag(h);
}

/** Tag of `s`, read from its last character to its first: the key of a domain, so parents share a pass. */
export function tagReverse(s: string): number {
  let h = HASH_SEED;
  for (let i = s.length - 1; i >= 0; i--) h = hashStep(h, s.charCodeAt(i));
  return hashTag(h);
}
