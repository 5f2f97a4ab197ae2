/**
 * PDQ's downsampling to 64x64: a Jarosz tent filter (two passes of a box filter along rows then columns)
 * and decimation at the centres of 64x64 cells. The box filter keeps a running sum, in single precision
 * and in the reference's order of operations, so rounding matches the C++ bit for bit.
 *
 * Speed: planes up to 512x512 (every image hashed the reference way) go through a WebAssembly SIMD
 * kernel (jarosz-wasm.ts) that does the same single-precision operations in the same order per line.
 * The JavaScript passes below are the fallback, for larger planes (`fullResolution`) and runtimes without
 * SIMD, and the oracle the kernel is tested against. In both, the column pass runs across a row of columns
 * at once (one accumulator per column) and the row pass across a group of rows, so that independent running
 * sums overlap; per line the operations and their order are unchanged. The last column pass only computes
 * the 64 columns that decimation reads.
 */
import { jaroszKernel, WASM_MAX_LINES, WASM_MAX_PLANE, type BoxPhases } from './jarosz-wasm.js';

/** Side of PDQ's downsampled image. */
export const PDQ_DOWNSAMPLE_SIDE = 64;
/** Number of (rows, columns) box-filter pass pairs: two make a tent. */
const JAROSZ_PASSES = 2;

/** Box window for going from `oldDimension` to `newDimension`: half a target cell, rounded up. */
export function jaroszWindowSize(oldDimension: number, newDimension: number): number {
  return Math.floor((oldDimension + 2 * newDimension - 1) / (2 * newDimension));
}

/**
 * Blurs the plane `buf1` (rows x cols) and writes its 64x64 decimation into `out64` (row-major, 4096
 * values). `buf1` and `buf2` may be used as scratch: their contents afterwards are unspecified.
 */
export function downsampleTo64(
  buf1: Float32Array,
  buf2: Float32Array,
  rows: number,
  cols: number,
  out64: Float32Array,
): void {
  const kernel = rows * cols <= WASM_MAX_PLANE && rows <= WASM_MAX_LINES && cols <= WASM_MAX_LINES ? jaroszKernel() : undefined;
  if (kernel === undefined) {
    downsampleTo64Js(buf1, buf2, rows, cols, out64);
    return;
  }
  const colSample = sampleColumns(cols);
  const rowStarts = Array.from({ length: rows }, (_, r) => r * cols);
  const colStarts = Array.from({ length: cols }, (_, c) => c);
  const alongRows = phases(cols, jaroszWindowSize(cols, PDQ_DOWNSAMPLE_SIDE));
  const alongCols = phases(rows, jaroszWindowSize(rows, PDQ_DOWNSAMPLE_SIDE));
  kernel.floats.set(buf1.subarray(0, rows * cols), kernel.planeA);
  for (let pass = 0; pass < JAROSZ_PASSES; pass++) {
    kernel.box('A', rowStarts, rows, 1, alongRows);
    const last = pass === JAROSZ_PASSES - 1;
    kernel.box('B', last ? colSample : colStarts, last ? colSample.length : cols, cols, alongCols);
  }
  decimate(kernel.floats, kernel.planeA, rows, cols, colSample, out64);
}

/** `downsampleTo64` in JavaScript: blurs `buf1` in place, using `buf2` as scratch. */
export function downsampleTo64Js(
  buf1: Float32Array,
  buf2: Float32Array,
  rows: number,
  cols: number,
  out64: Float32Array,
): void {
  const n = PDQ_DOWNSAMPLE_SIDE;
  const colSample = sampleColumns(cols);

  const windowAlongRows = jaroszWindowSize(cols, n);
  const windowAlongCols = jaroszWindowSize(rows, n);
  for (let pass = 0; pass < JAROSZ_PASSES; pass++) {
    boxAlongRows(buf1, buf2, rows, cols, windowAlongRows);
    const last = pass === JAROSZ_PASSES - 1;
    boxAlongCols(buf2, buf1, rows, cols, windowAlongCols, last ? colSample : null);
  }

  decimate(buf1, 0, rows, cols, colSample, out64);
}

/** The column read by each of the 64 output columns: the centre of its cell. */
function sampleColumns(cols: number): Int32Array {
  const n = PDQ_DOWNSAMPLE_SIDE;
  const colSample = new Int32Array(n);
  for (let j = 0; j < n; j++) colSample[j] = Math.trunc(((j + 0.5) * cols) / n);
  return colSample;
}

/** Reads the 64x64 cell centres of the blurred plane starting at `plane[at]`. */
function decimate(plane: Float32Array, at: number, rows: number, cols: number, colSample: Int32Array, out64: Float32Array): void {
  const n = PDQ_DOWNSAMPLE_SIDE;
  for (let i = 0; i < n; i++) {
    const rowBase = at + Math.trunc(((i + 0.5) * rows) / n) * cols;
    for (let j = 0; j < n; j++) out64[i * n + j] = plane[rowBase + colSample[j]!]!;
  }
}

/** Phase lengths of the reference's running box sum (see downscaling.cpp): grow, full, shrink. */
function phases(length: number, window: number): BoxPhases & [number, number, number, number] {
  const half = Math.floor((window + 2) / 2);
  return [half - 1, window - half + 1, length - window, half - 1];
}

/** Rows filtered together by `boxAlongRows`: enough independent running sums to hide their latency. */
const ROW_GROUP = 8;

/**
 * Box filter along every row. One row's running sum is a chain of dependent single-precision adds, each
 * waiting for the last; so `ROW_GROUP` rows advance together, position by position, one accumulator per
 * row. Per row the operations and their order are the reference's; only rows are interleaved.
 */
function boxAlongRows(input: Float32Array, output: Float32Array, rows: number, cols: number, window: number): void {
  const [p1, p2, p3, p4] = phases(cols, window);
  const sum = new Float32Array(ROW_GROUP);
  for (let r0 = 0; r0 < rows; r0 += ROW_GROUP) {
    const g = Math.min(ROW_GROUP, rows - r0);
    const base = r0 * cols;
    sum.fill(0);
    let ri = base;
    let li = base;
    let oi = base;
    let size = 0;
    for (let i = 0; i < p1; i++, ri++) {
      for (let k = 0, o = 0; k < g; k++, o += cols) sum[k] = sum[k]! + input[ri + o]!;
      size++;
    }
    for (let i = 0; i < p2; i++, ri++, oi++) {
      size++;
      for (let k = 0, o = 0; k < g; k++, o += cols) {
        const s = Math.fround(sum[k]! + input[ri + o]!);
        sum[k] = s;
        output[oi + o] = s / size;
      }
    }
    for (let i = 0; i < p3; i++, ri++, li++, oi++) {
      for (let k = 0, o = 0; k < g; k++, o += cols) {
        const s = Math.fround(Math.fround(sum[k]! + input[ri + o]!) - input[li + o]!);
        sum[k] = s;
        output[oi + o] = s / size;
      }
    }
    for (let i = 0; i < p4; i++, li++, oi++) {
      size--;
      for (let k = 0, o = 0; k < g; k++, o += cols) {
        const s = Math.fround(sum[k]! - input[li + o]!);
        sum[k] = s;
        output[oi + o] = s / size;
      }
    }
  }
}

/**
 * Box filter down every column (or only the columns listed in `only`), one accumulator per column.
 * Each sum is rounded to single precision, as the C++ float is.
 */
function boxAlongCols(
  input: Float32Array,
  output: Float32Array,
  rows: number,
  cols: number,
  window: number,
  only: Int32Array | null,
): void {
  if (only === null) {
    boxAlongAllCols(input, output, rows, cols, window);
    return;
  }
  const f = Math.fround;
  const [p1, p2, p3, p4] = phases(rows, window);
  const m = only.length;
  const sum = new Float32Array(m);
  let ri = 0;
  let li = 0;
  let oi = 0;
  let size = 0;
  for (let i = 0; i < p1; i++, ri += cols) {
    for (let k = 0; k < m; k++) sum[k] = sum[k]! + input[ri + only[k]!]!;
    size++;
  }
  for (let i = 0; i < p2; i++, ri += cols, oi += cols) {
    size++;
    for (let k = 0; k < m; k++) {
      const c = only[k]!;
      const s = f(sum[k]! + input[ri + c]!);
      sum[k] = s;
      output[oi + c] = s / size;
    }
  }
  for (let i = 0; i < p3; i++, ri += cols, li += cols, oi += cols) {
    for (let k = 0; k < m; k++) {
      const c = only[k]!;
      const s = f(f(sum[k]! + input[ri + c]!) - input[li + c]!);
      sum[k] = s;
      output[oi + c] = s / size;
    }
  }
  for (let i = 0; i < p4; i++, li += cols, oi += cols) {
    size--;
    for (let k = 0; k < m; k++) {
      const c = only[k]!;
      const s = f(sum[k]! - input[li + c]!);
      sum[k] = s;
      output[oi + c] = s / size;
    }
  }
}

/** `boxAlongCols` over every column: the same arithmetic, with contiguous reads and no index table. */
function boxAlongAllCols(input: Float32Array, output: Float32Array, rows: number, cols: number, window: number): void {
  const f = Math.fround;
  const [p1, p2, p3, p4] = phases(rows, window);
  const sum = new Float32Array(cols);
  let ri = 0;
  let li = 0;
  let oi = 0;
  let size = 0;
  for (let i = 0; i < p1; i++, ri += cols) {
    for (let c = 0; c < cols; c++) sum[c] = sum[c]! + input[ri + c]!;
    size++;
  }
  for (let i = 0; i < p2; i++, ri += cols, oi += cols) {
    size++;
    for (let c = 0; c < cols; c++) {
      const s = f(sum[c]! + input[ri + c]!);
      sum[c] = s;
      output[oi + c] = s / size;
    }
  }
  for (let i = 0; i < p3; i++, ri += cols, li += cols, oi += cols) {
    for (let c = 0; c < cols; c++) {
      const s = f(f(sum[c]! + input[ri + c]!) - input[li + c]!);
      sum[c] = s;
      output[oi + c] = s / size;
    }
  }
  for (let i = 0; i < p4; i++, li += cols, oi += cols) {
    size--;
    for (let c = 0; c < cols; c++) {
      const s = f(sum[c]! - input[li + c]!);
      sum[c] = s;
      output[oi + c] = s / size;
    }
  }
}
