/**
 * Blockhash, the perceptual hash behind the `imghash` package: `DecodedImage` (matchers/image) ->
 * `blockhash` (a typed-array port, identical to `imghash.hashRaw`, which stays as `blockhashReference`)
 * -> 64 hex digits; an index compares them with `blockhashHamming`.
 */
export {
  BLOCKHASH_BITS_PER_SIDE,
  BLOCKHASH_DECODER_TOLERANCE,
  blockhash,
  blockhashReference,
  blockhashHamming,
  blockhashFromHex,
  isBlockhashHex,
  type BlockhashHex,
} from './blockhash.js';
