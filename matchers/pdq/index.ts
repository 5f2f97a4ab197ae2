/**
 * PDQ, Meta's 256-bit perceptual image hash, in TypeScript, agreeing bit for bit with the reference C++
 * on the same pixels. Data flow: `DecodedImage` (matchers/image) -> `pdqHash` / `pdqDihedralHashes`
 * -> `{ hash, quality }`; an index compares hashes with `pdqHamming` (match at <= PDQ_MATCH_THRESHOLD)
 * and skips hashes of quality below PDQ_MIN_QUALITY. Lists carry hashes as 64 hex digits.
 */
export {
  isPdqHex,
  PDQ_HASH_BITS,
  PDQ_HASH_WORDS,
  PDQ_MATCH_THRESHOLD,
  PDQ_MIN_QUALITY,
  pdqFromHex,
  pdqHamming,
  pdqToHex,
  type PdqHash,
} from './pdq-hash.js';
export {
  PDQ_MIN_SIDE,
  pdqDihedralHashes,
  pdqHash,
  type PdqDihedralHashes,
  type PdqDihedralResult,
  type PdqOptions,
  type PdqResult,
} from './pdq-hasher.js';
export { PDQ_DIHEDRAL_ORDER, type PdqDihedralName } from './pdq-dihedral.js';
export { PDQ_REFERENCE_MAX_SIDE } from './luma-plane.js';
