/**
 * The 8 dihedral transforms (rotations and flips) of an image, taken on its 16x16 DCT block instead of
 * on pixels: a flip of the image negates the odd-frequency coefficients along that axis, and a transpose
 * transposes the block. So one DCT gives all 8 hashes; matching a query against a list under rotation
 * costs 8 comparisons and no re-hashing.
 */
import { PDQ_DCT_SIDE } from './pdq-dct.js';

/** Names of the 8 transforms, in the order `pdq-photo-hasher --pdqdih-across` prints them. */
export const PDQ_DIHEDRAL_ORDER = [
  'original',
  'rot90',
  'rot180',
  'rot270',
  'flipX',
  'flipY',
  'flipPlus1',
  'flipMinus1',
] as const;
export type PdqDihedralName = (typeof PDQ_DIHEDRAL_ORDER)[number];

interface Transform {
  transpose: boolean;
  /** Sign applied to source coefficient (row i, column j), before any transpose. */
  negate: (i: number, j: number) => boolean;
}

const TRANSFORMS: Readonly<Record<PdqDihedralName, Transform>> = {
  original: { transpose: false, negate: () => false },
  rot90: { transpose: true, negate: (_i, j) => (j & 1) === 0 },
  rot180: { transpose: false, negate: (i, j) => ((i + j) & 1) === 1 },
  rot270: { transpose: true, negate: (i) => (i & 1) === 0 },
  flipX: { transpose: false, negate: (i) => (i & 1) === 0 },
  flipY: { transpose: false, negate: (_i, j) => (j & 1) === 0 },
  flipPlus1: { transpose: true, negate: () => false },
  flipMinus1: { transpose: true, negate: (i, j) => ((i + j) & 1) === 1 },
};

/** Writes into `out` the 16x16 DCT block of the `name`-transformed image, given the original's `c16`. */
export function dihedralDct16(c16: Float32Array, name: PdqDihedralName, out: Float32Array): void {
  const { transpose, negate } = TRANSFORMS[name];
  const n = PDQ_DCT_SIDE;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = c16[i * n + j]!;
      out[transpose ? j * n + i : i * n + j] = negate(i, j) ? -v : v;
    }
  }
}
