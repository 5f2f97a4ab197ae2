/**
 * Synthetic images for tests: made here from gradients, shapes and noise, never real photos.
 */
import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { flatPng16, pngChunk } from '../../bench/synthetic-images.js';

/** A PNG of only a header (and a token IDAT) claiming the given size: decoding it fails, reading its header does not. */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1024))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A large photo-like image as a sharp pipeline, for encoding: a small picture of gradients, a disc, a bar and
 * per-pixel noise (different for each seed), scaled up by nearest neighbour, so that its edges and noise stay sharp
 * at full size and shrinking it changes pixels, not only their count.
 */
export function largeSynthetic(width: number, height: number, seed: number, scale = 10): Sharp {
  const w = Math.ceil(width / scale);
  const h = Math.ceil(height / scale);
  const data = Buffer.alloc(w * h * 3);
  let s = seed >>> 0;
  const noise = (): number => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return (s >>> 16) & 31 };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const disc = (x - w * 0.62) ** 2 + (y - h * 0.4) ** 2 < (h * 0.22) ** 2;
      const bar = x > w * 0.12 && x < w * 0.34 && y > h * 0.5 && y < h * 0.92;
      data[i] = disc ? 235 - noise() : ((x * 220) / w + seed * 37 + noise()) & 255;
      data[i + 1] = bar ? 30 + noise() : ((y * 200) / h + Math.sin((x + seed) / 9) * 40 + 40 + noise()) & 255;
      data[i + 2] = ((((x >> 3) ^ (y >> 3)) & 7) * 24 + seed * 11 + noise()) & 255;
    }
  }
  return sharp(data, { raw: { width: w, height: h, channels: 3 } })
    .resize(width, height, { kernel: 'nearest', fit: 'fill' });
}

/**
 * An animated WebP (VP8X with the animation flag, ANIM, and `frames` ANMF chunks) whose canvas is `width` x `height`
 * and whose frames are each one lossless pixel: a few hundred bytes whatever the canvas.
 */
export async function animatedWebp(width: number, height: number, frames = 2): Promise<Buffer> {
  const pixel = await sharp({ create: { width: 1, height: 1, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 1 } } })
    .webp({ lossless: true }).toBuffer();
  const vp8l = pixel.subarray(12); // after RIFF, its size and WEBP: the VP8L chunk
  const chunk = (fourcc: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.write(fourcc, 0, 'latin1');
    head.writeUInt32LE(data.length, 4);
    return Buffer.concat([head, data, Buffer.alloc(data.length % 2)]);
  };
  const u24 = (n: number): Buffer => Buffer.from([n & 255, (n >> 8) & 255, (n >> 16) & 255]);
  const frame = chunk('ANMF', Buffer.concat([u24(0), u24(0), u24(0), u24(0), u24(100), Buffer.from([0]), vp8l]));
  const body = Buffer.concat([
    Buffer.from('WEBP', 'latin1'),
    chunk('VP8X', Buffer.concat([Buffer.from([0x12, 0, 0, 0]), u24(width - 1), u24(height - 1)])), // animation, alpha
    chunk('ANIM', Buffer.alloc(6)),
    ...Array.from({ length: frames }, () => frame),
  ]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

/** 19360x12912 is 249,976,320 pixels, just within the default 250 MP, in a phone camera's 3:2. */
export const SLOW_PNG_SIZE = Object.freeze({ width: 19_360, height: 12_912 });

/**
 * The costliest image the default limits accept (bench/README.md, "Images over 50 MP"): a 250 MP 16-bit RGBA PNG,
 * whose decode shrunk to 50 MP took 5-6 s of one core here, in about 2 MB made in milliseconds
 * (bench/synthetic-images.ts, `flatPng16`). With `orientation`, it carries that EXIF orientation.
 */
export function slowPng(orientation?: number): Buffer {
  return flatPng16(SLOW_PNG_SIZE.width, SLOW_PNG_SIZE.height, orientation);
}
