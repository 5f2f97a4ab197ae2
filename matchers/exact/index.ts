/**
 * Exact (cryptographic) hashes of an image payload: the bytes of an `image` event -> `exactHashes`
 * -> `{ md5, sha1, sha256, blake3 }` in lowercase hex, looked up as-is in exact-match lists.
 */
export {
  blake3Hex,
  EXACT_HASH_HEX_LENGTH,
  EXACT_HASH_TYPES,
  exactHashes,
  type ExactHashes,
  type ExactHashType,
} from './exact-hashes.js';
