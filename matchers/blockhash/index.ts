/**
 * Blockhash, the perceptual hash behind the `imghash` package: `DecodedImage` (matchers/image) ->
 * `blockhash` -> 64 hex digits; an index compares them with `blockhashHamming`.
 */
export {
  BLOCKHASH_BITS_PER_SIDE,
  BLOCKHASH_DECODER_TOLERANCE,
  blockhash,
  blockhashHamming,
  blockhashFromHex,
  isBlockhashHex,
  type BlockhashHex,
} from './blockhash.js';
