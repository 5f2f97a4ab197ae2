/**
 * Per-byte column sums of opaque RGB rows, in WebAssembly SIMD: for a run of rows that all fall wholly into
 * one row of blocks, blockhash needs only the sum of each byte position over those rows (the column weights
 * are the same for every row), so the rows are added up 16 bytes at a time into 16-bit lanes, one lane per
 * byte position, and the block sums are taken once from the totals instead of once per row.
 *
 * Exact: integer adds only. A lane holds at most 256 rows of 255 (65,280 < 65,536); the caller drains the
 * lanes into doubles after every call. Rows are copied into the kernel's private memory a chunk at a time,
 * since a WebAssembly memory cannot adopt the decoder's buffer; the copy stays in cache for the adds.
 * Assembled from bytes, like `matchers/pdq/jarosz-wasm.ts` (the project has no WebAssembly toolchain).
 */
import { I32, I32_ADD, type WasmApi, get, i32Const, name, section, set, simd, uleb, lazyKernel } from '../wasm/wasm-encoding.js';

/** Rows added per call: 256 x 255 fits a 16-bit lane. */
export const WASM_MAX_ROWS = 256;
/** Widest row (in bytes) the kernel takes: RGB images up to 21,845 pixels wide. */
export const WASM_MAX_STRIDE = 65536;
/** Bytes of rows copied in per call. */
const CHUNK_BYTES = 1 << 20;

const ACC_AT = 0;
const CHUNK_AT = 2 * WASM_MAX_STRIDE + 64;
const MEMORY_PAGES = Math.ceil((CHUNK_AT + CHUNK_BYTES + 64) / 65536);

/** The kernel bound to its memory. */
export interface ColumnSumKernel {
  /**
   * Adds bytes `data[from + r * stride + i]` for rows r in [0, rows) into `totals[i]`, i in [0, stride).
   * `totals` is not cleared first.
   */
  addRows(data: Uint8Array, from: number, rows: number, stride: number, totals: Float64Array): void;
}

/** This thread's kernel, created on first use; undefined where WebAssembly SIMD is unavailable. */
export const columnSumKernel = lazyKernel(kernelModule, instantiate);

function instantiate(api: WasmApi, module: object): ColumnSumKernel {
  const instance = new api.Instance(module, {});
  const run = instance.exports['sum'] as (rows: number, stride: number) => void;
  const memory = instance.exports['memory'] as { buffer: ArrayBuffer };
  const lanes = new Uint16Array(memory.buffer, ACC_AT, WASM_MAX_STRIDE + 16);
  const chunk = new Uint8Array(memory.buffer, CHUNK_AT, CHUNK_BYTES);
  return {
    addRows(data, from, rows, stride, totals) {
      if (stride > WASM_MAX_STRIDE) throw new RangeError(`rows of ${stride} bytes exceed the kernel's ${WASM_MAX_STRIDE}`);
      const perCall = Math.max(1, Math.min(WASM_MAX_ROWS, Math.floor(CHUNK_BYTES / stride)));
      for (let r = 0; r < rows; r += perCall) {
        const n = Math.min(perCall, rows - r);
        const at = from + r * stride;
        chunk.set(data.subarray(at, at + n * stride));
        lanes.fill(0, 0, stride);
        run(n, stride);
        for (let i = 0; i < stride; i++) totals[i]! += lanes[i]!;
      }
    },
  };
}

// --- the kernel, in WebAssembly binary form ------------------------------------------------------------


const I32_GE_S = [0x4e];
const v128Load = (offset: number): number[] => [...simd(0x00), 0, ...uleb(offset)];
const v128Store = (offset: number): number[] => [...simd(0x0b), 0, ...uleb(offset)];
const I16X8_EXTEND_LOW_I8X16_U = simd(0x89);
const I16X8_EXTEND_HIGH_I8X16_U = simd(0x8a);
const I16X8_ADD = simd(0x8e);

// sum(rows, stride): parameters 0-1, then locals.
const ROWS = 0;
const STRIDE = 1;
const R = 2; // row
const I = 3; // byte within the row, a multiple of 16
const SRC = 4; // address of the row's byte I
const ACC = 5; // address of lane I
const I32_LOCALS = 4;

const inc = (local: number, by: number[]): number[] => [...get(local), ...by, ...I32_ADD, ...set(local)];

/** `body` for `counter` = 0, `step`, ... while below `limit`. */
const loop = (counter: number, limit: number, step: number[], body: number[]): number[] => [
  ...i32Const(0), ...set(counter),
  0x02, 0x40, 0x03, 0x40, // block, loop
  ...get(counter), ...get(limit), ...I32_GE_S, 0x0d, 1, // br_if out of the block
  ...body,
  ...inc(counter, step),
  0x0c, 0, 0x0b, 0x0b, // br to the loop, end loop, end block
];

function kernelBody(): number[] {
  // Row r's bytes start at CHUNK_AT + r * stride; a row's last load may run up to 15 bytes past its end,
  // into the next row or the slack after the chunk, and lands in lanes at or beyond `stride`, never read.
  const perRow = [
    ...get(R), ...get(STRIDE), 0x6c /* i32.mul */, ...i32Const(CHUNK_AT), ...I32_ADD, ...set(SRC),
    ...i32Const(ACC_AT), ...set(ACC),
    ...loop(I, STRIDE, i32Const(16), [
      ...get(ACC), ...get(ACC), ...v128Load(0), ...get(SRC), ...v128Load(0), ...I16X8_EXTEND_LOW_I8X16_U, ...I16X8_ADD, ...v128Store(0),
      ...get(ACC), ...get(ACC), ...v128Load(16), ...get(SRC), ...v128Load(0), ...I16X8_EXTEND_HIGH_I8X16_U, ...I16X8_ADD, ...v128Store(16),
      ...inc(SRC, i32Const(16)),
      ...inc(ACC, i32Const(32)),
    ]),
  ];
  const code = [...loop(R, ROWS, i32Const(1), perRow), 0x0b];
  return [1, I32_LOCALS, I32, ...code];
}

/** sum(rows: i32, stride: i32), and its memory. */
function kernelModule(): Uint8Array {
  const body = kernelBody();
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, I32, I32, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, ...uleb(MEMORY_PAGES)]),
    ...section(7, [2, ...name('sum'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}
