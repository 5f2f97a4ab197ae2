/**
 * Blockhash "precise" (16x16 blocks, 256 bits) over typed arrays, giving the same hex as `imghash.hashRaw`
 * (blockhash-core's `bmvbhash`) on every image, at a small fraction of its cost.
 *
 * What the reference computes, read from blockhash-core 0.x `bmvbhash` / `bmvbhashEven`:
 * - a pixel's value is R + G + B, or 765 (white) when its alpha is 0;
 * - on an axis whose length `n` is not a multiple of 16, block size is the fraction `n / 16`; the pixel at `p`
 *   gives weight `1 - f` to block `floor(p / size)` and `f` to block `ceil(p / size)` (the same block unless
 *   the pixel straddles a boundary), where `f` is the fractional part of `(p + 1) % size`; the last pixel
 *   goes wholly to `floor`. On an axis that divides evenly, each pixel goes wholly to `floor(p / size)`.
 *   Both axes even takes `bmvbhashEven`, which sums the same pixels into the same blocks;
 * - a block's value is the sum of `value * rowWeight * columnWeight` over its pixels;
 * - the 256 blocks are cut into 4 bands of 64; a block's bit is 1 when it is above its band's median (the
 *   mean of the 32nd and 33rd values), or within 1 of the median when the median is above half the
 *   brightest possible block (`pixelsPerBlock * 765 / 2`, with `pixelsPerBlock = n / 16 * m / 16`).
 *
 * Why the sums may be reordered without changing a bit: `n / 16` has at most 4 fractional bits, `%` on
 * doubles is exact, so every weight is a multiple of 1/16 and every product `value * rowWeight *
 * columnWeight` a multiple of 1/256 below 2^10. Every partial sum is then a multiple of 1/256 far below
 * 2^53 / 256, exactly representable: the reference's floating-point sums are exact, and so are ours,
 * whatever the order. We therefore sum each row's runs of whole pixels first (one add per byte), then
 * spread the row into the blocks by its row weights, working in 256ths so that all arithmetic is integral.
 * For opaque RGB, rows that lie wholly in one row of blocks are first added up per byte position (in
 * WebAssembly SIMD, column-sums-wasm.ts), and the totals spread into the blocks once: the same integers,
 * summed in another order, so the same bits.
 */
import type { DecodedImage } from '../image/index.js';
import type { BlockhashHex } from './blockhash.js';
import { columnSumKernel, WASM_MAX_STRIDE } from './column-sums-wasm.js';

const SIDE = 16;
const BLOCKS = SIDE * SIDE;
const BAND = BLOCKS / 4;
/** R + G + B of a white pixel, the value of a fully transparent one. */
const WHITE = 765;
const HEX_DIGITS = '0123456789abcdef';

/**
 * How the pixels along one axis feed the 16 blocks: pixel `p` adds `weightA[p] / 16` of its value to block
 * `blockA[p]` and `weightB[p] / 16` to `blockB[p]` (weightB is 0 for a pixel inside one block).
 */
interface AxisWeights {
  blockA: Uint8Array;
  weightA: Uint8Array;
  blockB: Uint8Array;
  weightB: Uint8Array;
}

/** The reference's per-pixel block and weight rule for an axis of `n` pixels, in 16ths. */
function axisWeights(n: number): AxisWeights {
  const w: AxisWeights = {
    blockA: new Uint8Array(n),
    weightA: new Uint8Array(n),
    blockB: new Uint8Array(n),
    weightB: new Uint8Array(n),
  };
  const size = n / SIDE;
  const even = n % SIDE === 0;
  for (let p = 0; p < n; p++) {
    let a: number;
    let b: number;
    let wa: number;
    let wb: number;
    if (even) {
      a = b = Math.floor(p / size);
      wa = 1;
      wb = 0;
    } else {
      const mod = (p + 1) % size;
      const frac = mod - Math.floor(mod);
      wa = 1 - frac;
      wb = frac;
      if (mod - frac > 0 || p + 1 === n) {
        a = b = Math.floor(p / size);
      } else {
        a = Math.floor(p / size);
        b = Math.ceil(p / size);
      }
    }
    if (a === b) {
      w.blockA[p] = a;
      w.weightA[p] = (wa + wb) * SIDE;
    } else {
      w.blockA[p] = a;
      w.weightA[p] = wa * SIDE;
      w.blockB[p] = b;
      w.weightB[p] = wb * SIDE;
    }
  }
  return w;
}

/**
 * The columns of an image grouped for the inner loop: runs of whole pixels that all belong to one block
 * (summed with one add per byte), and single pixels split between two blocks.
 */
interface ColumnPlan {
  /** Per step: first column, end column (exclusive), and -1 for a run or the column itself for a split pixel. */
  start: Int32Array;
  end: Int32Array;
  split: Int32Array;
  blockA: Uint8Array;
  weightA: Uint8Array;
  blockB: Uint8Array;
  weightB: Uint8Array;
  steps: number;
}

function planColumns(width: number): ColumnPlan {
  const w = axisWeights(width);
  const plan: ColumnPlan = {
    start: new Int32Array(width),
    end: new Int32Array(width),
    split: new Int32Array(width),
    blockA: new Uint8Array(width),
    weightA: new Uint8Array(width),
    blockB: new Uint8Array(width),
    weightB: new Uint8Array(width),
    steps: 0,
  };
  let s = -1;
  for (let x = 0; x < width; x++) {
    const whole = w.weightB[x] === 0 && w.weightA[x] === SIDE;
    const extendsRun = whole && s >= 0 && plan.split[s] === -1 && plan.blockA[s] === w.blockA[x];
    if (extendsRun) {
      plan.end[s] = x + 1;
      continue;
    }
    s = plan.steps++;
    plan.start[s] = x;
    plan.end[s] = x + 1;
    plan.split[s] = whole ? -1 : x;
    plan.blockA[s] = w.blockA[x]!;
    plan.weightA[s] = w.weightA[x]!;
    plan.blockB[s] = w.blockB[x]!;
    plan.weightB[s] = w.weightB[x]!;
  }
  return plan;
}

/**
 * One image row summed into the 16 column blocks, in 16ths of a pixel value. `words` views the same
 * memory as `data` from the start of its buffer, for reading runs four bytes at a time.
 */
function sumRow(
  data: Uint8Array,
  words: Uint32Array,
  rowStart: number,
  channels: 3 | 4,
  plan: ColumnPlan,
  out: Float64Array,
): void {
  out.fill(0);
  for (let s = 0; s < plan.steps; s++) {
    const from = rowStart + plan.start[s]! * channels;
    const to = rowStart + plan.end[s]! * channels;
    const sum = channels === 3 ? sumBytes(data, words, from, to) : sumRgba(data, from, to);
    if (plan.split[s] === -1) {
      out[plan.blockA[s]!]! += sum * SIDE;
    } else {
      out[plan.blockA[s]!]! += sum * plan.weightA[s]!;
      out[plan.blockB[s]!]! += sum * plan.weightB[s]!;
    }
  }
}

/** `sumRow` over per-byte totals of RGB rows (`totals[i]`: the sum of byte i of each row). */
function sumTotals(totals: Float64Array, plan: ColumnPlan, out: Float64Array): void {
  out.fill(0);
  for (let s = 0; s < plan.steps; s++) {
    let sum = 0;
    for (let i = plan.start[s]! * 3, to = plan.end[s]! * 3; i < to; i++) sum += totals[i]!;
    if (plan.split[s] === -1) {
      out[plan.blockA[s]!]! += sum * SIDE;
    } else {
      out[plan.blockA[s]!]! += sum * plan.weightA[s]!;
      out[plan.blockB[s]!]! += sum * plan.weightB[s]!;
    }
  }
}

/** Words summed per batch: 256 words add at most 256 * 255 into each 16-bit lane, which cannot carry. */
const LANE_BATCH = 256;

/**
 * Sum of `data[from..to)`. The aligned middle is read as 32-bit words, adding bytes 0 and 2, and 1 and 3,
 * in 16-bit lanes (SWAR): a quarter of the loads and adds of a byte loop.
 */
function sumBytes(data: Uint8Array, words: Uint32Array, from: number, to: number): number {
  const offset = data.byteOffset;
  let sum = 0;
  let i = from;
  while (i < to && ((offset + i) & 3) !== 0) sum += data[i++]!;
  let k = (offset + i) >>> 2;
  const kEnd = (offset + to) >>> 2;
  while (k < kEnd) {
    const stop = Math.min(k + LANE_BATCH, kEnd);
    let even = 0;
    let odd = 0;
    for (; k < stop; k++) {
      const w = words[k]!;
      even += w & 0x00ff00ff;
      odd += (w >>> 8) & 0x00ff00ff;
    }
    sum += (even & 0xffff) + (even >>> 16) + (odd & 0xffff) + (odd >>> 16);
  }
  for (i = Math.max(i, k * 4 - offset); i < to; i++) sum += data[i]!;
  return sum;
}

/** Sum of the pixel values of RGBA `data[from..to)`: R + G + B, or white when fully transparent. */
function sumRgba(data: Uint8Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i += 4) sum += data[i + 3] === 0 ? WHITE : data[i]! + data[i + 1]! + data[i + 2]!;
  return sum;
}

/**
 * Blockhash of decoded pixels (RGB or RGBA), identical to `imghash.hashRaw(rgba, 16)` on the same pixels.
 * An RGB image is read as opaque, without widening it to RGBA first.
 */
export function fastBlockhash(image: DecodedImage): BlockhashHex {
  const { data, width, height, channels } = image;
  if (data.length < width * height * channels) {
    throw new RangeError(`image data has ${data.length} bytes, expected ${width * height * channels}`);
  }
  const plan = planColumns(width);
  const rows = axisWeights(height);
  // Block sums in 256ths: 16ths from the column weights times 16ths from the row weights.
  const blocks = new Float64Array(BLOCKS);
  const row = new Float64Array(SIDE);
  const stride = width * channels;
  const kernel = channels === 3 && stride <= WASM_MAX_STRIDE ? columnSumKernel() : undefined;
  const words = new Uint32Array(data.buffer, 0, data.buffer.byteLength >>> 2);
  const totals = kernel ? new Float64Array(stride) : undefined;
  for (let y = 0; y < height; y++) {
    const a = rows.blockA[y]! * SIDE;
    const wa = rows.weightA[y]!;
    const wb = rows.weightB[y]!;
    if (kernel && totals && wb === 0) {
      // A run of rows wholly in one row of blocks (weight 16 each): sum them per byte position, then
      // spread the totals into the blocks once, as if they were one row.
      let end = y + 1;
      while (end < height && rows.weightB[end] === 0 && rows.blockA[end] === rows.blockA[y]) end++;
      totals.fill(0);
      kernel.addRows(data, y * stride, end - y, stride, totals);
      sumTotals(totals, plan, row);
      for (let x = 0; x < SIDE; x++) blocks[a + x]! += row[x]! * wa;
      y = end - 1;
      continue;
    }
    sumRow(data, words, y * stride, channels, plan, row);
    for (let x = 0; x < SIDE; x++) blocks[a + x]! += row[x]! * wa;
    if (wb !== 0) {
      const b = rows.blockB[y]! * SIDE;
      for (let x = 0; x < SIDE; x++) blocks[b + x]! += row[x]! * wb;
    }
  }
  for (let i = 0; i < BLOCKS; i++) blocks[i]! /= SIDE * SIDE;
  const pixelsPerBlock = (width / SIDE) * (height / SIDE);
  return blocksToHex(blocks, (pixelsPerBlock * 256 * 3) / 2);
}

/** The reference's band-median rule, then 4 bits per hex digit, most significant first. */
function blocksToHex(blocks: Float64Array, halfBlockValue: number): BlockhashHex {
  const band = new Float64Array(BAND);
  let hex = '';
  for (let b = 0; b < 4; b++) {
    const values = blocks.subarray(b * BAND, (b + 1) * BAND);
    band.set(values);
    band.sort();
    const m = (band[BAND / 2 - 1]! + band[BAND / 2]!) / 2;
    const bright = m > halfBlockValue;
    for (let i = 0; i < BAND; i += 4) {
      let nibble = 0;
      for (let k = 0; k < 4; k++) {
        const v = values[i + k]!;
        nibble = (nibble << 1) | (v > m || (Math.abs(v - m) < 1 && bright) ? 1 : 0);
      }
      hex += HEX_DIGITS[nibble]!;
    }
  }
  return hex as BlockhashHex;
}
