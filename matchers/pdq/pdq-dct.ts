/**
 * The frequency side of PDQ: the quality metric on the 64x64 downsample, the partial 2-D DCT keeping
 * coefficients 1..16 in each direction, and the median threshold that turns 256 coefficients into bits.
 * Single-precision arithmetic in the reference's order, so that bits agree with the C++ on equal input.
 */
import { PDQ_DOWNSAMPLE_SIDE } from './jarosz-filter.js';
import { emptyPdqHash, setPdqBit, type PdqHash } from './pdq-hash.js';

const N = PDQ_DOWNSAMPLE_SIDE; // 64
/** Side of the kept block of DCT coefficients. */
export const PDQ_DCT_SIDE = 16;
const M = PDQ_DCT_SIDE;

/**
 * Rows 1..16 of the 64-point DCT-II basis, scaled by sqrt(2/64), rounded to single precision:
 * D[i][j] = sqrt(2/64) * cos(pi/128 * (i + 1) * (2j + 1)). Computed once per thread.
 */
const DCT_MATRIX: Float32Array = (() => {
  const d = new Float32Array(M * N);
  const scale = Math.fround(Math.sqrt(2 / N));
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) d[i * N + j] = scale * Math.cos((Math.PI / 2 / N) * (i + 1) * (2 * j + 1));
  }
  return d;
})();

/**
 * PDQ quality, 0..100: how many significant gradients the 64x64 image has (vertical and horizontal
 * neighbour differences, as a percentage of full scale, truncated, summed, divided by 90).
 */
export function pdqQuality(a64: Float32Array): number {
  const f = Math.fround;
  let gradientSum = 0;
  for (let i = 0; i < N - 1; i++) {
    for (let j = 0; j < N; j++) {
      gradientSum += Math.abs(Math.trunc(f(f(f(a64[i * N + j]! - a64[(i + 1) * N + j]!) * 100) / 255)));
    }
  }
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N - 1; j++) {
      gradientSum += Math.abs(Math.trunc(f(f(f(a64[i * N + j]! - a64[i * N + j + 1]!) * 100) / 255)));
    }
  }
  return Math.min(100, Math.floor(gradientSum / 90));
}

/**
 * B = D A D^T for the 64x64 `a64`, giving the 16x16 block `out16` (row-major). `t` is 16x64 scratch.
 * Loops are ordered for memory locality; each output's sum still runs over k = 0..63 in order.
 */
export function dct64To16(a64: Float32Array, t: Float32Array, out16: Float32Array): void {
  const f = Math.fround;
  const d = DCT_MATRIX;
  t.fill(0, 0, M * N);
  for (let i = 0; i < M; i++) {
    const ti = i * N;
    for (let k = 0; k < N; k++) {
      const dik = d[i * N + k]!;
      const ak = k * N;
      for (let j = 0; j < N; j++) t[ti + j] = t[ti + j]! + f(dik * a64[ak + j]!);
    }
  }
  for (let i = 0; i < M; i++) {
    const ti = i * N;
    for (let j = 0; j < M; j++) {
      const dj = j * N;
      let sum = 0;
      for (let k = 0; k < N; k++) sum = f(sum + f(t[ti + k]! * d[dj + k]!));
      out16[i * M + j] = sum;
    }
  }
}

const medianScratch = new Float32Array(M * M);

/**
 * One bit per coefficient: set when it is above the median. The median of 256 values is the 128th
 * smallest (what the reference's Torben selection returns), so exactly 128 bits are set unless values tie.
 */
export function bitsFromDct16(c16: Float32Array): PdqHash {
  medianScratch.set(c16.subarray(0, M * M));
  medianScratch.sort();
  const median = medianScratch[(M * M) / 2 - 1]!;
  const hash = emptyPdqHash();
  for (let k = 0; k < M * M; k++) if (c16[k]! > median) setPdqBit(hash, k);
  return hash;
}
