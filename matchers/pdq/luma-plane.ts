/**
 * RGB pixels to the float luminance plane PDQ hashes, the way Meta's `pdq-photo-hasher` builds it:
 * an image larger than 512 on either side is first squashed to 512x512 by nearest-neighbour sampling
 * (CImg's default `resize`), because the two-pass tent filter is too slow on full-size photos.
 * Sampling as we go means the 512x512 copy is never built: only the sampled pixels are read.
 *
 * Arithmetic is single precision, operation for operation as the C++ does it (`Math.fround` and
 * Float32Array stores), so the same pixels give the same bits as the reference.
 */
import type { DecodedImage } from '../image/index.js';

/** Side above which the reference hasher squashes the image to this size square. */
export const PDQ_REFERENCE_MAX_SIDE = 512;

const LUMA_R = Math.fround(0.299);
const LUMA_G = Math.fround(0.587);
const LUMA_B = Math.fround(0.114);

export interface LumaPlane {
  /** `rows * cols` luminance values, row-major; may be longer than that (a reused scratch buffer). */
  data: Float32Array;
  rows: number;
  cols: number;
}

/**
 * Fills `scratch` (grown if too small) with the luminance plane of `image`.
 * With `fullResolution`, no 512x512 squash: every pixel goes into the tent filter (slower, no aliasing,
 * but no longer bit-compatible with `pdq-photo-hasher` on images larger than 512).
 */
export function lumaPlane(image: DecodedImage, fullResolution: boolean, scratch: Float32Array): LumaPlane {
  const { width, height, channels, data: px } = image;
  if (channels < 3 || px.length < width * height * channels) {
    throw new RangeError(`pixel buffer of ${px.length} bytes does not hold ${width}x${height}x${channels}`);
  }
  const squash = !fullResolution && (width > PDQ_REFERENCE_MAX_SIDE || height > PDQ_REFERENCE_MAX_SIDE);
  const cols = squash ? PDQ_REFERENCE_MAX_SIDE : width;
  const rows = squash ? PDQ_REFERENCE_MAX_SIDE : height;
  const out = scratch.length >= rows * cols ? scratch : new Float32Array(rows * cols);
  const f = Math.fround;

  // Source column (in bytes) of each output column: floor(x * width / cols), CImg's nearest neighbour.
  const colOffset = new Int32Array(cols);
  for (let x = 0; x < cols; x++) colOffset[x] = Math.floor((x * width) / cols) * channels;

  for (let y = 0; y < rows; y++) {
    const srcRow = squash ? Math.floor((y * height) / rows) : y;
    const rowBase = srcRow * width * channels;
    const o = y * cols;
    for (let x = 0; x < cols; x++) {
      const p = rowBase + colOffset[x]!;
      out[o + x] = f(f(f(LUMA_R * px[p]!) + f(LUMA_G * px[p + 1]!)) + f(LUMA_B * px[p + 2]!));
    }
  }
  return { data: out, rows, cols };
}
