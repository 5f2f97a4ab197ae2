/**
 * PDQ (Meta's 256-bit perceptual hash) of decoded pixels, following the reference C++ hasher:
 * luminance -> (squash to 512x512 when larger, as `pdq-photo-hasher` does) -> Jarosz tent filter and
 * decimation to 64x64 -> quality metric -> 16x16 partial DCT -> bit per coefficient above the median.
 * Pure and synchronous; scratch buffers are reused within a thread.
 */
import type { DecodedImage } from '../image/index.js';
import { downsampleTo64, PDQ_DOWNSAMPLE_SIDE } from './jarosz-filter.js';
import { lumaPlane } from './luma-plane.js';
import { bitsFromDct16, dct64To16, PDQ_DCT_SIDE, pdqQuality } from './pdq-dct.js';
import { dihedralDct16, PDQ_DIHEDRAL_ORDER, type PdqDihedralName } from './pdq-dihedral.js';
import { emptyPdqHash, type PdqHash } from './pdq-hash.js';

export interface PdqOptions {
  /**
   * Hash every pixel instead of squashing images larger than 512 on a side to 512x512 first.
   * Default false: the squash is what `pdq-photo-hasher` does, so hashes stay comparable with lists
   * made by it; full resolution avoids nearest-neighbour aliasing at several times the cost.
   */
  fullResolution?: boolean;
}

export interface PdqResult {
  hash: PdqHash;
  /** 0..100; below `PDQ_MIN_QUALITY` the hash should not be used for perceptual matching. */
  quality: number;
}

export type PdqDihedralHashes = Readonly<Record<PdqDihedralName, PdqHash>>;

export interface PdqDihedralResult {
  /** The hash of each rotation/flip of the image, computed from its one DCT. */
  hashes: PdqDihedralHashes;
  quality: number;
}

/** Images narrower or shorter than this get the all-zero hash and quality 0, as in the reference. */
export const PDQ_MIN_SIDE = 5;

/** Scratch reused between calls up to this many floats (4 MiB); larger planes are allocated per call. */
const MAX_CACHED_PLANE = 1 << 20;
let planeA: Float32Array = new Float32Array(512 * 512);
let planeB: Float32Array = new Float32Array(512 * 512);
const down64 = new Float32Array(PDQ_DOWNSAMPLE_SIDE * PDQ_DOWNSAMPLE_SIDE);
const dctScratch = new Float32Array(PDQ_DCT_SIDE * PDQ_DOWNSAMPLE_SIDE);
const dct16 = new Float32Array(PDQ_DCT_SIDE * PDQ_DCT_SIDE);
const dct16Aux = new Float32Array(PDQ_DCT_SIDE * PDQ_DCT_SIDE);

/** PDQ hash and quality of one image. */
export function pdqHash(image: DecodedImage, options: PdqOptions = {}): PdqResult {
  const quality = dctOf(image, options, true);
  if (quality === null) return { hash: emptyPdqHash(), quality: 0 };
  return { hash: bitsFromDct16(dct16), quality };
}

/** The 8 dihedral PDQ hashes (original first) and the quality, from one downsample and one DCT. */
export function pdqDihedralHashes(image: DecodedImage, options: PdqOptions = {}): PdqDihedralResult {
  const quality = dctOf(image, options, false);
  const hashes = {} as Record<PdqDihedralName, PdqHash>;
  for (const name of PDQ_DIHEDRAL_ORDER) {
    if (quality === null) {
      hashes[name] = emptyPdqHash();
    } else if (name === 'original') {
      hashes[name] = bitsFromDct16(dct16);
    } else {
      dihedralDct16(dct16, name, dct16Aux);
      hashes[name] = bitsFromDct16(dct16Aux);
    }
  }
  return { hashes, quality: quality ?? 0 };
}

/**
 * Fills `dct16` with the image's 16x16 DCT block and returns its quality, or null when the image is
 * too small to hash. `shortcut64`: a plane already 64x64 skips the filter, as the reference's single-hash
 * path does (its dihedral path always filters; a 1-wide box filter is not exactly the identity in floats).
 */
function dctOf(image: DecodedImage, options: PdqOptions, shortcut64: boolean): number | null {
  const plane = lumaPlane(image, options.fullResolution === true, planeA);
  const { rows, cols } = plane;
  if (rows < PDQ_MIN_SIDE || cols < PDQ_MIN_SIDE) return null;
  const size = rows * cols;
  if (size <= MAX_CACHED_PLANE && plane.data !== planeA) planeA = plane.data;

  if (shortcut64 && rows === PDQ_DOWNSAMPLE_SIDE && cols === PDQ_DOWNSAMPLE_SIDE) {
    down64.set(plane.data.subarray(0, size));
  } else {
    let scratch = planeB;
    if (scratch.length < size) {
      scratch = new Float32Array(size);
      if (size <= MAX_CACHED_PLANE) planeB = scratch;
    }
    downsampleTo64(plane.data, scratch, rows, cols, down64);
  }
  const quality = pdqQuality(down64);
  dct64To16(down64, dctScratch, dct16);
  return quality;
}
