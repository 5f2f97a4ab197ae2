/**
 * Cryptographic hashes of the bytes as received, for exact-match lists (MD5, SHA-1 and SHA-256 as hash
 * lists are commonly distributed, BLAKE3 as the fast modern one). Nothing is decoded: an image that
 * cannot be decoded still gets its exact hashes.
 *
 * BLAKE3 comes from blake3-wasm, whose Node build compiles and instantiates its WebAssembly module
 * synchronously when first imported (readFileSync + new WebAssembly.Module), once per thread: no init
 * call is needed, in the main thread or in a worker.
 */
import { createHash } from 'node:crypto';
import { createHash as createBlake3, hash as blake3OneShot } from 'blake3-wasm';

/** Lowercase hex digests of one payload. */
export interface ExactHashes {
  md5: string;
  sha1: string;
  sha256: string;
  blake3: string;
}

export type ExactHashType = keyof ExactHashes;
export const EXACT_HASH_TYPES: readonly ExactHashType[] = ['md5', 'sha1', 'sha256', 'blake3'];

/** Hex digits of each digest: lists are validated against these. */
export const EXACT_HASH_HEX_LENGTH: Readonly<Record<ExactHashType, number>> = Object.freeze({
  md5: 32,
  sha1: 40,
  sha256: 64,
  blake3: 64,
});

/**
 * The wasm copies its input into its own memory, which never shrinks; feeding large payloads in chunks
 * keeps each worker's wasm heap at about this size instead of the largest image it ever saw.
 */
const BLAKE3_CHUNK_BYTES = 1 << 20;

/** MD5, SHA-1, SHA-256 and BLAKE3 (256-bit) of `bytes`, as lowercase hex. */
export function exactHashes(bytes: Uint8Array): ExactHashes {
  return {
    md5: createHash('md5').update(bytes).digest('hex'),
    sha1: createHash('sha1').update(bytes).digest('hex'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    blake3: blake3Hex(bytes),
  };
}

/** BLAKE3 of `bytes` as 64 lowercase hex digits. */
export function blake3Hex(bytes: Uint8Array): string {
  if (bytes.byteLength <= BLAKE3_CHUNK_BYTES) return blake3OneShot(bytes).toString('hex');
  const hasher = createBlake3();
  for (let at = 0; at < bytes.byteLength; at += BLAKE3_CHUNK_BYTES) {
    hasher.update(bytes.subarray(at, at + BLAKE3_CHUNK_BYTES));
  }
  return hasher.digest('hex');
}
