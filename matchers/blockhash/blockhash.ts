/**
 * Blockhash (block-mean-value hash, the "precise" method) over decoded pixels, with the values the `imghash`
 * npm package (`hashRaw`, from blockhash-core) and commonsmachinery's reference produce.
 * 16x16 blocks give 256 bits, written as 64 hex digits.
 *
 * `blockhash` runs the typed-array port (fast-blockhash.ts); `blockhashReference` runs `imghash.hashRaw`
 * itself, kept as the oracle the port is tested against, bit for bit.
 */
import imghash from 'imghash';
import type { DecodedImage } from '../image/index.js';
import { fastBlockhash } from './fast-blockhash.js';

declare const blockhashBrand: unique symbol;
/** 256-bit blockhash as 64 lowercase hex digits (the list format). */
export type BlockhashHex = string & { readonly [blockhashBrand]: 'BlockhashHex' };

/** Blocks per side: 16x16 = 256 bits. */
export const BLOCKHASH_BITS_PER_SIDE = 16;
/** Distances below 3 absorb decoder differences (the upstream test's tolerance). */
export const BLOCKHASH_DECODER_TOLERANCE = 2;

/**
 * Blockhash of one image: RGB is read as opaque, and in RGBA a fully transparent pixel counts as white.
 * Identical to `blockhashReference`, about 14 times faster (bench/README.md).
 */
export function blockhash(image: DecodedImage): BlockhashHex {
  return fastBlockhash(image);
}

/**
 * Blockhash of one image by `imghash.hashRaw`, the reference implementation. `hashRaw` reads RGBA,
 * so an opaque RGB image is widened to RGBA first.
 */
export function blockhashReference(image: DecodedImage): BlockhashHex {
  const rgba = image.channels === 4 ? image.data : widenToRgba(image.data, image.width * image.height);
  const hex = imghash.hashRaw({ width: image.width, height: image.height, data: rgba }, BLOCKHASH_BITS_PER_SIDE);
  return hex as BlockhashHex;
}

/** Number of differing bits between two blockhashes of equal length. */
export function blockhashHamming(a: BlockhashHex, b: BlockhashHex): number {
  if (a.length !== b.length) throw new RangeError(`blockhash lengths differ: ${a.length} and ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i += 8) {
    let x = (Number.parseInt(a.slice(i, i + 8), 16) ^ Number.parseInt(b.slice(i, i + 8), 16)) >>> 0;
    while (x !== 0) {
      x &= x - 1;
      d++;
    }
  }
  return d;
}

const HEX_64 = /^[0-9a-fA-F]{64}$/;

/** True when `s` is a 256-bit blockhash: 64 hex digits (either case). */
export function isBlockhashHex(s: string): boolean {
  return HEX_64.test(s);
}

/** Lowercases a 64-hex-digit blockhash; throws a TypeError on anything else (validate with `isBlockhashHex`). */
export function blockhashFromHex(hex: string): BlockhashHex {
  if (!HEX_64.test(hex)) throw new TypeError(`not a 256-bit blockhash (64 hex digits): ${JSON.stringify(hex.slice(0, 80))}`);
  return hex.toLowerCase() as BlockhashHex;
}

function widenToRgba(rgb: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 4);
  for (let i = 0, j = 0; i < pixels; i++, j += 3) {
    const o = i * 4;
    out[o] = rgb[j]!;
    out[o + 1] = rgb[j + 1]!;
    out[o + 2] = rgb[j + 2]!;
    out[o + 3] = 255;
  }
  return out;
}
