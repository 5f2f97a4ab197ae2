/**
 * The Jarosz box-filter passes in WebAssembly SIMD, for planes up to 512x512 (every image hashed the
 * reference way, squashed to 512x512): about 4 ms of JavaScript per image become well under 1 ms.
 *
 * Why this stays bit-exact: WebAssembly's f32 and f32x4 arithmetic is IEEE single precision, operation by
 * operation, which is what the C++ reference's `float` does (and what the JavaScript path emulates with
 * `Math.fround`); the kernel performs the same adds, subtracts and divides in the same order for each
 * line. Only independent lines are interleaved: the 4 lanes of a vector are 4 rows (or 4 columns), each
 * with its own running sum, gathered and scattered lane by lane. When fewer than 4 lines remain, the spare
 * lanes repeat the last line; they compute and write the very same values as it does.
 *
 * The kernel is a few dozen instructions, assembled here from bytes, as `matchers/hash-index/simd-scan.ts`
 * assembles its own (the project has no WebAssembly toolchain). Each thread instantiates it once, with a
 * private memory holding a table of line offsets and two planes.
 */
import { I32, I32_ADD, V128, type WasmApi, get, i32Const, name, section, set, simd, uleb, lazyKernel } from '../wasm/wasm-encoding.js';

/** Largest plane the kernel's memory holds, in floats: 512x512. */
export const WASM_MAX_PLANE = 512 * 512;
/** Most lines (rows or columns) a pass may have: 4-byte offsets in the table. */
export const WASM_MAX_LINES = 4096;

const TABLE_AT = 0;
const PLANE_A = WASM_MAX_LINES * 4;
const PLANE_B = PLANE_A + WASM_MAX_PLANE * 4;
const MEMORY_PAGES = Math.ceil((PLANE_B + WASM_MAX_PLANE * 4) / 65536);

/** Phase lengths of one line's running sum: grow without output, grow, full window, shrink. */
export type BoxPhases = readonly [number, number, number, number];

/** The kernel bound to its memory. Planes are addressed as `PLANE_A` / `PLANE_B` offsets. */
export interface JaroszKernel {
  /** The memory as floats; plane A starts at `planeA`, plane B at `planeB` (indices, not bytes). */
  floats: Float32Array;
  planeA: number;
  planeB: number;
  /** Box-filters each line listed in `lineStarts` (float index of its first element) from plane `from` to plane `to`. */
  box(from: 'A' | 'B', lineStarts: ArrayLike<number>, lines: number, step: number, phases: BoxPhases): void;
}

/** This thread's kernel, created on first use; undefined where WebAssembly SIMD is unavailable. */
export const jaroszKernel = lazyKernel(kernelModule, instantiate);

function instantiate(api: WasmApi, module: object): JaroszKernel {
  const instance = new api.Instance(module, {});
  const run = instance.exports['box'] as (...args: number[]) => void;
  const memory = instance.exports['memory'] as { buffer: ArrayBuffer };
  const floats = new Float32Array(memory.buffer);
  const table = new Uint32Array(memory.buffer, TABLE_AT, WASM_MAX_LINES);
  return {
    floats,
    planeA: PLANE_A / 4,
    planeB: PLANE_B / 4,
    box(from, lineStarts, lines, step, [p1, p2, p3, p4]) {
      if (lines > WASM_MAX_LINES) throw new RangeError(`${lines} lines exceed the kernel's ${WASM_MAX_LINES}`);
      for (let i = 0; i < lines; i++) table[i] = lineStarts[i]! * 4;
      const [src, dst] = from === 'A' ? [PLANE_A, PLANE_B] : [PLANE_B, PLANE_A];
      run(src, dst, lines, step * 4, p1, p2, p3, p4);
    },
  };
}

// --- the kernel, in WebAssembly binary form ------------------------------------------------------------


const I32_SUB = [0x6b];
const I32_LT_S = [0x48];
const I32_GE_S = [0x4e];
const SELECT = [0x1b];
const I32_LOAD = [0x28, 2, 0];
const F32_LOAD = [0x2a, 2, 0];
const F32_STORE = [0x38, 2, 0];
const F32_CONVERT_I32_S = [0xb2];
const F32X4_SPLAT = simd(0x13);
const f32x4ExtractLane = (lane: number): number[] => [...simd(0x1f), lane];
const f32x4ReplaceLane = (lane: number): number[] => [...simd(0x20), lane];
const F32X4_ADD = simd(0xe4);
const F32X4_SUB = simd(0xe5);
const F32X4_DIV = simd(0xe7);
const ZERO_V128 = [...simd(0x0c), ...new Array<number>(16).fill(0)];

// box(src, dst, lines, step, p1, p2, p3, p4): parameters 0-7, then locals.
const SRC = 0;
const DST = 1;
const LINES = 2;
const STEP = 3;
const [P1, P2, P3, P4] = [4, 5, 6, 7] as const;
const G = 8; // first line of the group
const N = 9; // position within a phase
const IN = [10, 11, 12, 13] as const; // each lane's line start in src, in bytes
const OUT = [14, 15, 16, 17] as const; // and in dst
const RI = 18; // byte offset of the entering element along the line
const LI = 19; // of the leaving element
const OI = 20; // of the output element
const SIZE = 21; // elements in the window
const I32_LOCALS = 14;
const SUM = 22;
const AVG = 23;
const V128_LOCALS = 2;

const inc = (local: number, by: number[]): number[] => [...get(local), ...by, ...I32_ADD, ...set(local)];

/** The 4 lanes' elements at byte offset `at` along their lines, as one f32x4. */
const gather = (at: number): number[] => [
  ...get(IN[0]), ...get(at), ...I32_ADD, ...F32_LOAD, ...F32X4_SPLAT,
  ...[1, 2, 3].flatMap((k) => [...get(IN[k]!), ...get(at), ...I32_ADD, ...F32_LOAD, ...f32x4ReplaceLane(k)]),
];

/** AVG = SUM / SIZE, stored lane by lane at OI, and OI advanced. */
const emit = (): number[] => [
  ...get(SUM), ...get(SIZE), ...F32_CONVERT_I32_S, ...F32X4_SPLAT, ...F32X4_DIV, ...set(AVG),
  ...[0, 1, 2, 3].flatMap((k) => [...get(OUT[k]!), ...get(OI), ...I32_ADD, ...get(AVG), ...f32x4ExtractLane(k), ...F32_STORE]),
  ...inc(OI, get(STEP)),
];

/** `body` repeated `count` times (none when count <= 0). */
const repeat = (counter: number, count: number, body: number[]): number[] => [
  ...i32Const(0), ...set(counter),
  0x02, 0x40, 0x03, 0x40, // block, loop
  ...get(counter), ...get(count), ...I32_GE_S, 0x0d, 1, // br_if out of the block
  ...body,
  ...inc(counter, i32Const(1)),
  0x0c, 0, 0x0b, 0x0b, // br to the loop, end loop, end block
];

function kernelBody(): number[] {
  const code: number[] = [];
  code.push(...i32Const(0), ...set(G));
  code.push(0x02, 0x40, 0x03, 0x40); // block, loop over groups of 4 lines
  code.push(...get(G), ...get(LINES), ...I32_GE_S, 0x0d, 1);
  for (let k = 0; k < 4; k++) {
    // line = min(G + k, LINES - 1); its start = table[line]
    code.push(...get(G), ...i32Const(k), ...I32_ADD);
    code.push(...get(LINES), ...i32Const(1), ...I32_SUB);
    code.push(...get(G), ...i32Const(k), ...I32_ADD, ...get(LINES), ...I32_LT_S, ...SELECT);
    code.push(...i32Const(4), 0x6c /* i32.mul */, ...I32_LOAD, ...set(OI));
    code.push(...get(SRC), ...get(OI), ...I32_ADD, ...set(IN[k]!));
    code.push(...get(DST), ...get(OI), ...I32_ADD, ...set(OUT[k]!));
  }
  code.push(...ZERO_V128, ...set(SUM));
  code.push(...i32Const(0), ...set(RI), ...i32Const(0), ...set(LI), ...i32Const(0), ...set(OI), ...i32Const(0), ...set(SIZE));
  const enter = [...get(SUM), ...gather(RI), ...F32X4_ADD, ...set(SUM), ...inc(RI, get(STEP))];
  const leave = [...get(SUM), ...gather(LI), ...F32X4_SUB, ...set(SUM), ...inc(LI, get(STEP))];
  const grow = inc(SIZE, i32Const(1));
  const shrink = [...get(SIZE), ...i32Const(1), ...I32_SUB, ...set(SIZE)];
  code.push(...repeat(N, P1, [...enter, ...grow]));
  code.push(...repeat(N, P2, [...enter, ...grow, ...emit()]));
  code.push(...repeat(N, P3, [...enter, ...leave, ...emit()]));
  code.push(...repeat(N, P4, [...leave, ...shrink, ...emit()]));
  code.push(...inc(G, i32Const(4)));
  code.push(0x0c, 0, 0x0b, 0x0b); // br to the loop, end loop, end block
  code.push(0x0b);
  return [2, I32_LOCALS, I32, V128_LOCALS, V128, ...code];
}

/** box(src, dst, lines, step, p1, p2, p3, p4), and its memory. */
function kernelModule(): Uint8Array {
  const body = kernelBody();
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 8, ...new Array<number>(8).fill(I32), 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, ...uleb(MEMORY_PAGES)]),
    ...section(7, [2, ...name('box'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}
