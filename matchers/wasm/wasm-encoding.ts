/**
 * The few pieces of the WebAssembly binary format that Vigil's hand-assembled SIMD kernels (PDQ's
 * Jarosz filter, blockhash's column sums, the hash-index scan) share: LEB128 integers, names,
 * sections, the opcodes they all use, and the runtime's `WebAssembly` object when there is one.
 * Each kernel writes its own function body; this only spares them each carrying the encoder.
 */

/** The part of the `WebAssembly` global the kernels use (typed here: the project's lib has no DOM types). */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

/** This runtime's WebAssembly, or undefined where there is none (the kernels then fall back to JavaScript). */
export const wasmApi: WasmApi | undefined = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * A kernel made once per thread, on first use: `build` assembles the module's bytes and `instantiate` binds an
 * instance to its memory. The getter returns undefined where there is no WebAssembly or the runtime does not
 * validate the module (no SIMD), and the caller falls back to JavaScript.
 */
export function lazyKernel<K>(build: () => Uint8Array, instantiate: (api: WasmApi, module: object) => K): () => K | undefined {
  let kernel: K | null | undefined;
  return () => {
    if (kernel === undefined) {
      const bytes = build();
      kernel = wasmApi !== undefined && wasmApi.validate(bytes) ? instantiate(wasmApi, new wasmApi.Module(bytes)) : null;
    }
    return kernel ?? undefined;
  };
}

/** The magic number and version 1 that open every module. */
export const MODULE_HEADER: readonly number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** Unsigned LEB128. */
export const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};

/** Signed LEB128. */
export const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
};

export const name = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
export const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];

// Value types and the opcodes every kernel uses (WebAssembly core 2.0; SIMD ones follow the 0xfd prefix).
export const I32 = 0x7f;
export const V128 = 0x7b;
export const get = (i: number): number[] => [0x20, ...uleb(i)];
export const set = (i: number): number[] => [0x21, ...uleb(i)];
export const tee = (i: number): number[] => [0x22, ...uleb(i)];
export const i32Const = (v: number): number[] => [0x41, ...sleb(v)];
export const I32_ADD = [0x6a];
export const simd = (op: number): number[] => [0xfd, ...uleb(op)];
