/**
 * PDQ's downsampling to 64x64: a Jarosz tent filter (two passes of a box filter along rows then columns)
 * and decimation at the centres of 64x64 cells. The box filter keeps a running sum, in single precision
 * and in the reference's order of operations, so rounding matches the C++ bit for bit.
 *
 * Speed: the column pass runs across a whole row of columns at once (one accumulator per column) so that
 * memory is read row by row; per column the operations and their order are unchanged. The last column
 * pass only computes the 64 columns that decimation reads.
 */

/** Side of PDQ's downsampled image. */
export const PDQ_DOWNSAMPLE_SIDE = 64;
/** Number of (rows, columns) box-filter pass pairs: two make a tent. */
const JAROSZ_PASSES = 2;

/** Box window for going from `oldDimension` to `newDimension`: half a target cell, rounded up. */
export function jaroszWindowSize(oldDimension: number, newDimension: number): number {
  return Math.floor((oldDimension + 2 * newDimension - 1) / (2 * newDimension));
}

/**
 * Blurs `buf1` (rows x cols) in place, using `buf2` as scratch, then writes the 64x64 decimation into
 * `out64` (row-major, 4096 values).
 */
export function downsampleTo64(
  buf1: Float32Array,
  buf2: Float32Array,
  rows: number,
  cols: number,
  out64: Float32Array,
): void {
  const n = PDQ_DOWNSAMPLE_SIDE;
  const colSample = new Int32Array(n);
  for (let j = 0; j < n; j++) colSample[j] = Math.trunc(((j + 0.5) * cols) / n);

  const windowAlongRows = jaroszWindowSize(cols, n);
  const windowAlongCols = jaroszWindowSize(rows, n);
  for (let pass = 0; pass < JAROSZ_PASSES; pass++) {
    boxAlongRows(buf1, buf2, rows, cols, windowAlongRows);
    const last = pass === JAROSZ_PASSES - 1;
    boxAlongCols(buf2, buf1, rows, cols, windowAlongCols, last ? colSample : null);
  }

  for (let i = 0; i < n; i++) {
    const rowBase = Math.trunc(((i + 0.5) * rows) / n) * cols;
    for (let j = 0; j < n; j++) out64[i * n + j] = buf1[rowBase + colSample[j]!]!;
  }
}

/** Phase lengths of the reference's running box sum (see downscaling.cpp): grow, full, shrink. */
function phases(length: number, window: number): [number, number, number, number] {
  const half = Math.floor((window + 2) / 2);
  return [half - 1, window - half + 1, length - window, half - 1];
}

function boxAlongRows(input: Float32Array, output: Float32Array, rows: number, cols: number, window: number): void {
  const f = Math.fround;
  const [p1, p2, p3, p4] = phases(cols, window);
  for (let r = 0; r < rows; r++) {
    let ri = r * cols;
    let li = ri;
    let oi = ri;
    let sum = 0;
    let size = 0;
    for (let i = 0; i < p1; i++) {
      sum = f(sum + input[ri++]!);
      size++;
    }
    for (let i = 0; i < p2; i++) {
      sum = f(sum + input[ri++]!);
      size++;
      output[oi++] = sum / size;
    }
    for (let i = 0; i < p3; i++) {
      sum = f(f(sum + input[ri++]!) - input[li++]!);
      output[oi++] = sum / size;
    }
    for (let i = 0; i < p4; i++) {
      sum = f(sum - input[li++]!);
      size--;
      output[oi++] = sum / size;
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
