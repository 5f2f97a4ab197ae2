/**
 * The brute-force baseline: every listed 256-bit hash against up to 8 query hashes, with WebAssembly SIMD
 * (i8x16.popcnt), the fastest linear scan available to JavaScript without a native addon.
 *
 * The kernel is a few dozen instructions, so it is assembled here from bytes rather than shipped as a
 * binary built by a toolchain the project does not have. Each thread instantiates it with its own small
 * private memory; the list stays in its SharedArrayBuffer and is copied through that memory a chunk at a
 * time (a memcpy, a few percent of the scan), because a WebAssembly memory cannot adopt an existing
 * SharedArrayBuffer. Per listed hash, the kernel XORs it with the 8 queries (2 x 128 bits each), counts
 * bits per byte, folds the 8 byte-count vectors into one vector of 8 distances (three rounds of
 * even/odd shuffles and adds, then one widening pairwise add) and writes out only hashes with some
 * distance at or below the threshold.
 */
import { hamming256 } from './popcount.js';
import { I32, I32_ADD, V128, type WasmApi, get, i32Const, name, section, set, simd, tee, uleb, lazyKernel } from '../wasm/wasm-encoding.js';

/** Receives each listed hash within the threshold: its position and its smallest distance to a query. */
export type HitSink = (position: number, distance: number) => void;

/** Query hashes per kernel call; fewer are padded with repeats of the first, which cannot change a minimum. */
const QUERY_SLOTS = 8;
const HASH_BYTES = 32;
/** Listed hashes copied in per kernel call: 128 KiB, which stays in the L2 cache. */
const CHUNK = 4096;
const QUERIES_AT = 0;
const HASHES_AT = QUERY_SLOTS * HASH_BYTES;
const OUT_AT = HASHES_AT + CHUNK * HASH_BYTES;
/** One hit: the chunk index (u32) at +0, the 8 distances (u16 lanes) at +16. */
const OUT_RECORD = 32;
const MEMORY_PAGES = Math.ceil((OUT_AT + CHUNK * OUT_RECORD) / 65536);

/**
 * Scans with the SIMD kernel when this runtime validates it, else with plain JavaScript. Both report the
 * same hits in position order.
 */
export function scanHashes(
  hashes: Uint32Array,
  count: number,
  queries: readonly Uint32Array[],
  threshold: number,
  sink: HitSink,
): void {
  if (queries.length === 0 || count === 0) return;
  const kernel = simdKernel();
  if (kernel === undefined) scanHashesJs(hashes, count, queries, threshold, sink);
  else kernel.scan(hashes, count, queries, threshold, sink);
}

/** The plain JavaScript scan: the fallback where WebAssembly SIMD is missing, and a reference in tests. */
export function scanHashesJs(
  hashes: Uint32Array,
  count: number,
  queries: readonly Uint32Array[],
  threshold: number,
  sink: HitSink,
): void {
  for (let p = 0; p < count; p++) {
    let best = threshold + 1;
    for (const q of queries) {
      const d = hamming256(hashes, p * 8, q, 0);
      if (d < best) best = d;
    }
    if (best <= threshold) sink(p, best);
  }
}

interface SimdKernel {
  scan(hashes: Uint32Array, count: number, queries: readonly Uint32Array[], threshold: number, sink: HitSink): void;
}

/** This thread's kernel instance, created on first use; undefined when SIMD is unavailable. */
const simdKernel = lazyKernel(kernelModule, instantiate);

function instantiate(api: WasmApi, module: object): SimdKernel {
  const instance = new api.Instance(module, {});
  const run = instance.exports['scan'] as (count: number, threshold: number) => number;
  const memory = instance.exports['memory'] as { buffer: ArrayBuffer };
  const words = new Uint32Array(memory.buffer);
  const lanes = new Uint16Array(memory.buffer);
  return {
    scan(hashes, count, queries, threshold, sink) {
      for (let slot = 0; slot < QUERY_SLOTS; slot++) {
        words.set(queries[slot] ?? queries[0]!, (QUERIES_AT + slot * HASH_BYTES) / 4);
      }
      // Distances are at most 256, so a threshold above that admits everything all the same.
      const t = Math.min(threshold, 256);
      for (let start = 0; start < count; start += CHUNK) {
        const n = Math.min(CHUNK, count - start);
        words.set(hashes.subarray(start * 8, (start + n) * 8), HASHES_AT / 4);
        const hits = run(n, t);
        for (let h = 0; h < hits; h++) {
          const record = OUT_AT + h * OUT_RECORD;
          let best = 257;
          for (let k = 0, at = (record + 16) / 2; k < QUERY_SLOTS; k++) best = Math.min(best, lanes[at + k]!);
          sink(start + words[record / 4]!, best);
        }
      }
    },
  };
}

// --- the kernel, in WebAssembly binary form ------------------------------------------------------------


// Opcodes (WebAssembly core 2.0; SIMD ones follow the 0xfd prefix).
const I32_GE_U = [0x4f];
const i32Store = (offset: number): number[] => [0x36, 2, ...uleb(offset)];
const v128Load = (offset: number): number[] => [0xfd, 0x00, 4, ...uleb(offset)];
const v128Store = (offset: number): number[] => [0xfd, 0x0b, 4, ...uleb(offset)];
const shuffle = (lanes: number[]): number[] => [0xfd, 0x0d, ...lanes];
const I16X8_SPLAT = simd(0x10);
const I16X8_LE_U = simd(0x34);
const V128_XOR = simd(0x51);
const V128_ANY_TRUE = simd(0x53);
const I8X16_POPCNT = simd(0x62);
const I8X16_ADD = simd(0x6e);
const I16X8_EXTADD_PAIRWISE_I8X16_U = simd(0x7d);
const EVEN_BYTES = Array.from({ length: 16 }, (_, i) => 2 * i);
const ODD_BYTES = Array.from({ length: 16 }, (_, i) => 2 * i + 1);

// Locals: the two parameters, then 4 i32, then 34 v128.
const COUNT = 0;
const THRESHOLD = 1;
const I = 2;
const P = 3;
const OUT = 4;
const FOUND = 5;
const A0 = 6;
const A1 = 7;
const Q = 8; // 16 halves of the 8 queries
const C = 24; // 8 byte-count vectors
const M = 32; // 6 folded vectors
const LIMIT = 38;
const S = 39;
const V128_LOCALS = 34;

/** Adds adjacent byte pairs of `x` (into lanes 0-7) and of `y` (into lanes 8-15). */
const fold = (x: number, y: number): number[] => [
  ...get(x), ...get(y), ...shuffle(EVEN_BYTES),
  ...get(x), ...get(y), ...shuffle(ODD_BYTES),
  ...I8X16_ADD,
];

function kernelBody(): number[] {
  const code: number[] = [];
  for (let k = 0; k < 2 * QUERY_SLOTS; k++) code.push(...i32Const(0), ...v128Load(QUERIES_AT + k * 16), ...set(Q + k));
  code.push(...get(THRESHOLD), ...I16X8_SPLAT, ...set(LIMIT));
  code.push(...i32Const(HASHES_AT), ...set(P), ...i32Const(OUT_AT), ...set(OUT));
  code.push(0x02, 0x40, 0x03, 0x40); // block, loop
  code.push(...get(I), ...get(COUNT), ...I32_GE_U, 0x0d, 1); // br_if out of the block
  code.push(...get(P), ...v128Load(0), ...set(A0), ...get(P), ...v128Load(16), ...set(A1));
  for (let k = 0; k < QUERY_SLOTS; k++) {
    code.push(...get(A0), ...get(Q + 2 * k), ...V128_XOR, ...I8X16_POPCNT);
    code.push(...get(A1), ...get(Q + 2 * k + 1), ...V128_XOR, ...I8X16_POPCNT);
    code.push(...I8X16_ADD, ...set(C + k)); // bytes <= 16
  }
  // Three folds: byte lanes 2k and 2k+1 end up holding query k's distance in two parts (<= 128 each).
  code.push(...fold(C, C + 1), ...set(M), ...fold(C + 2, C + 3), ...set(M + 1));
  code.push(...fold(C + 4, C + 5), ...set(M + 2), ...fold(C + 6, C + 7), ...set(M + 3));
  code.push(...fold(M, M + 1), ...set(M + 4), ...fold(M + 2, M + 3), ...set(M + 5));
  code.push(...fold(M + 4, M + 5), ...I16X8_EXTADD_PAIRWISE_I8X16_U, ...tee(S));
  code.push(...get(LIMIT), ...I16X8_LE_U, ...V128_ANY_TRUE);
  code.push(0x04, 0x40); // if
  code.push(...get(OUT), ...get(I), ...i32Store(0), ...get(OUT), ...get(S), ...v128Store(16));
  code.push(...get(OUT), ...i32Const(OUT_RECORD), ...I32_ADD, ...set(OUT));
  code.push(...get(FOUND), ...i32Const(1), ...I32_ADD, ...set(FOUND));
  code.push(0x0b); // end if
  code.push(...get(P), ...i32Const(HASH_BYTES), ...I32_ADD, ...set(P));
  code.push(...get(I), ...i32Const(1), ...I32_ADD, ...set(I));
  code.push(0x0c, 0, 0x0b, 0x0b); // br to loop, end loop, end block
  code.push(...get(FOUND), 0x0b);
  return [2, 4, I32, V128_LOCALS, V128, ...code];
}

/** scan(count: i32, threshold: i32) -> hits: i32, and its memory. */
function kernelModule(): Uint8Array {
  const body = kernelBody();
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, I32, I32, 1, I32]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, ...uleb(MEMORY_PAGES)]),
    ...section(7, [2, ...name('scan'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}
