/**
 * Image decoding for the hashers: untrusted bytes in, RGB(A) pixels or a coded refusal out.
 * Data flow: an `image` event's bytes -> `decodeImage` (limits, header check, sharp decode, EXIF orientation;
 * or its two steps, `readImageHeader` then `decodePixels`) -> `DecodedImage` shared by the perceptual hashers
 * (`matchers/pdq`, `matchers/blockhash`).
 * The exact hashes (`matchers/exact`) work on the bytes and do not need this step.
 */
export {
  decodeImage,
  decodePixels,
  DEFAULT_DECODE_LIMITS,
  FULL_DECODE_PIXELS,
  keepDecodesInMemory,
  readImageHeader,
  type DecodeFailure,
  type DecodedImage,
  type DecodeLimits,
  type DecodeResult,
  type HeaderResult,
  type ImageHeader,
  type ImageDecodeErrorCode,
  type ImageFormat,
} from './decode-image.js';
