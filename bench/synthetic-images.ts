/**
 * Synthetic images for benchmarks: photo-like pictures and phone screenshots, from a seed, so runs
 * are reproducible and no real material is ever involved.
 */
import { constants, crc32, deflateRawSync } from 'node:zlib';
import type { DecodedImage } from '../matchers/index.js';

/** A photo-like RGB image: smooth colour gradients, a few blobs, and noise. */
export function photoLike(width: number, height: number, random: () => number): DecodedImage {
  const data = new Uint8Array(width * height * 3);
  const blobs = Array.from({ length: 12 }, () => ({
    x: random() * width,
    y: random() * height,
    r: (0.05 + random() * 0.2) * Math.min(width, height),
    c: [random() * 255, random() * 255, random() * 255],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      let r = (x / width) * 180 + 40;
      let g = (y / height) * 160 + 50;
      let b = ((x + y) / (width + height)) * 200 + 20;
      for (const blob of blobs) {
        const dx = x - blob.x;
        const dy = y - blob.y;
        if (dx * dx + dy * dy < blob.r * blob.r) [r, g, b] = blob.c as [number, number, number];
      }
      const n = (random() - 0.5) * 24;
      data[o] = Math.max(0, Math.min(255, r + n));
      data[o + 1] = Math.max(0, Math.min(255, g + n));
      data[o + 2] = Math.max(0, Math.min(255, b + n));
    }
  }
  return { data, width, height, channels: 3 };
}

/** A phone screenshot: status bar, app bar, lines of "text", a photo card, flat UI colours. */
export function screenshotLike(width: number, height: number, random: () => number): DecodedImage {
  const data = new Uint8Array(width * height * 3).fill(250);
  const rect = (x0: number, y0: number, w: number, h: number, c: [number, number, number]): void => {
    for (let y = Math.max(0, y0); y < Math.min(height, y0 + h); y++) {
      for (let x = Math.max(0, x0); x < Math.min(width, x0 + w); x++) data.set(c, (y * width + x) * 3);
    }
  };
  rect(0, 0, width, 80, [20, 20, 24]);
  rect(0, 80, width, 160, [33, 150, 243]);
  const photo = photoLike(width - 96, 700, random);
  for (let y = 0; y < photo.height; y++) {
    data.set(photo.data.subarray(y * photo.width * 3, (y + 1) * photo.width * 3), ((300 + y) * width + 48) * 3);
  }
  for (let line = 0; line < 40; line++) {
    const y = 1060 + line * 32;
    let x = 48;
    while (x < width - 80) {
      const word = 20 + Math.floor(random() * 90);
      rect(x, y, Math.min(word, width - 48 - x), 18, [40, 40, 48]);
      x += word + 14;
    }
  }
  rect(0, height - 140, width, 140, [245, 245, 245]);
  for (let i = 0; i < 4; i++) rect(120 + i * 240, height - 110, 80, 80, [90, 90, 100]);
  return { data, width, height, channels: 3 };
}


/** One PNG chunk: its length, type, data and the CRC-32 of type and data. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length);
  head.write(type, 4, 'latin1');
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(data, crc32(type)));
  return Buffer.concat([head, data, sum]);
}

/**
 * A one-colour 16-bit RGBA PNG of any size, written here rather than by sharp, which took 8 s to compress the 2 GB of
 * samples of a 250 MP one: its first row is stored as is, every other row with PNG's "up" filter, so all zeros, and
 * each such row is deflated once and repeated (a full flush makes each copy stand alone). 250 MP is about 2 MB, made
 * in milliseconds, and is the costliest image to decode shrunk that the default limits accept (the premultiplied
 * resize, whatever the pixels: 5-6 s of one core here). With `orientation`, it carries an eXIf chunk with that EXIF
 * orientation.
 */
export function flatPng16(width: number, height: number, orientation?: number): Buffer {
  const rowBytes = 1 + width * 8;
  const first = Buffer.alloc(rowBytes); // filter 0, then R G B A, 16 bits each, big-endian
  for (let x = 0; x < width; x++) {
    first.writeUInt32BE(0x5a5a_7c7c, 1 + x * 8);
    first.writeUInt32BE(0x9e9e_cccc, 5 + x * 8);
  }
  const up = Buffer.alloc(rowBytes);
  up[0] = 2; // "up": each sample the one above it
  const flushed = (raw: Buffer): Buffer => deflateRawSync(raw, { finishFlush: constants.Z_FULL_FLUSH });
  const upDeflated = flushed(up);
  // zlib's Adler-32 of all the rows, worked out row by row: a zero byte adds nothing to a and a to b.
  const MOD = 65521;
  let a = 1;
  let b = 0;
  for (const byte of first) { a = (a + byte) % MOD; b = (b + a) % MOD }
  for (let y = 1; y < height; y++) { a = (a + 2) % MOD; b = (b + a + a * (rowBytes - 1)) % MOD }
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(((b << 16) | a) >>> 0);
  const idat = Buffer.concat([
    Buffer.from([0x78, 0x01]), flushed(first), ...Array.from({ length: height - 1 }, () => upDeflated),
    Buffer.from([0x03, 0x00]), // a last, empty block
    adler,
  ]);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 16; // bit depth
  ihdr[9] = 6; // RGBA
  const exif = orientation === undefined ? [] : [pngChunk('eXIf', Buffer.from([
    0x4d, 0x4d, 0, 42, 0, 0, 0, 8, // big-endian TIFF header, first IFD at 8
    0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, // one entry: Orientation, SHORT, 1 value
    0, 0, 0, 0, // no next IFD
  ]))];
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), pngChunk('IHDR', ihdr), ...exif, pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}
