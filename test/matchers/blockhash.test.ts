import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  blockhash,
  blockhashFromHex,
  blockhashHamming,
  blockhashReference,
  BLOCKHASH_DECODER_TOLERANCE,
  isBlockhashHex,
} from '../../matchers/blockhash/index.js';
import { decodeImage, type DecodedImage } from '../../matchers/image/index.js';
import { seededRandom } from '../../core/index.js';

const BLOCKHASH_DATA = fileURLToPath(new URL('../../../../shared/data/blockhash/', import.meta.url));
const PDQ_DATA = fileURLToPath(new URL('../../../../shared/data/pdq/', import.meta.url));

/** Every JPEG and PNG under `dir`, recursively. */
function imageFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(jpe?g|png)$/i.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function decodeFile(path: string): Promise<DecodedImage> {
  const r = await decodeImage(readFileSync(path));
  if (!r.ok) throw new Error(`${path}: ${r.code} ${r.message}`);
  return r.image;
}

t.test('blockhash - hashes the commonsmachinery images within 2 bits of the reference', async (t) => {
  const rows = readFileSync(`${BLOCKHASH_DATA}exact-hashes.txt`, 'utf8').trim().split('\n');
  t.equal(rows.length, 17, 'all reference rows');
  let identical = 0;
  let max = 0;
  for (const row of rows) {
    const [hex, file] = row.split(/\s+/) as [string, string];
    const got = blockhash(await decodeFile(`${BLOCKHASH_DATA}${file}`));
    t.match(got, /^[0-9a-f]{64}$/, `${file}: 64 lowercase hex digits`);
    const d = blockhashHamming(got, blockhashFromHex(hex));
    if (d === 0) identical++;
    max = Math.max(max, d);
    t.ok(d <= BLOCKHASH_DECODER_TOLERANCE, `${file}: distance ${d} <= ${BLOCKHASH_DECODER_TOLERANCE}`);
  }
  t.comment(`blockhash: ${identical}/${rows.length} identical, max distance ${max}`);
});

t.test('blockhash - hashes an opaque image alike as RGB and as RGBA', async (t) => {
  const rgb = await decodeFile(`${BLOCKHASH_DATA}stoplights.jpg`);
  const n = rgb.width * rgb.height;
  const rgba = new Uint8Array(n * 4).fill(255);
  for (let i = 0; i < n; i++) rgba.set(rgb.data.subarray(i * 3, i * 3 + 3), i * 4);
  t.equal(blockhash({ ...rgb, data: rgba, channels: 4 }), blockhash(rgb));
});

t.test('blockhash - counts fully transparent pixels as white', async (t) => {
  const width = 64;
  const height = 64;
  // Left half black, right half "transparent black": must hash as left black, right white.
  const transparent = new Uint8Array(width * height * 4);
  const white = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const right = x >= width / 2;
      transparent[o + 3] = right ? 0 : 255;
      white.fill(right ? 255 : 0, o, o + 3);
      white[o + 3] = 255;
    }
  }
  const a = blockhash({ data: transparent, width, height, channels: 4 });
  const b = blockhash({ data: white, width, height, channels: 4 });
  t.equal(a, b);
  t.not(a, blockhash({ data: new Uint8Array(width * height * 4).fill(255), width, height, channels: 4 }));
});

t.test('blockhash - validates hex and measures Hamming distance', async (t) => {
  const a = blockhashFromHex('F'.repeat(64));
  t.equal(a, 'f'.repeat(64), 'lowercased');
  t.equal(blockhashHamming(a, blockhashFromHex('0'.repeat(64))), 256);
  t.equal(blockhashHamming(blockhashFromHex(`${'0'.repeat(63)}3`), blockhashFromHex('0'.repeat(64))), 2);
  for (const bad of ['', 'f'.repeat(63), 'f'.repeat(65), `${'f'.repeat(63)}x`]) {
    t.notOk(isBlockhashHex(bad), `rejects ${JSON.stringify(bad)}`);
    t.throws(() => blockhashFromHex(bad), TypeError);
  }
});

t.test('blockhash - the typed-array port equals imghash.hashRaw on every reference image', async (t) => {
  const files = [...imageFiles(BLOCKHASH_DATA), ...imageFiles(PDQ_DATA)];
  t.ok(files.length >= 60, `${files.length} images`);
  let rgba = 0;
  for (const file of files) {
    const image = await decodeFile(file);
    if (image.channels === 4) rgba++;
    t.equal(blockhash(image), blockhashReference(image), `${file.slice(file.indexOf('data/'))} (${image.width}x${image.height}x${image.channels})`);
  }
  t.ok(rgba > 0, `${rgba} of them decode with an alpha channel`);
});

t.test('blockhash - the typed-array port equals imghash.hashRaw on synthetic images of odd sizes', async (t) => {
  const random = seededRandom(20240611);
  // Sizes below, at and around multiples of 16 on each axis, down to fewer pixels than blocks.
  const sizes: [number, number][] = [
    [1, 1], [3, 5], [15, 15], [16, 16], [17, 16], [16, 17], [7, 40], [33, 31], [48, 47],
    [100, 75], [257, 129], [1000, 33], [31, 1000], [1080, 600], [641, 479],
    // Runs of more than 1,024 bytes inside one block, past the SWAR loop's batch of 256 words.
    [6007, 19], [8192, 16],
  ];
  for (let k = 0; k < 12; k++) sizes.push([1 + Math.floor(random() * 300), 1 + Math.floor(random() * 300)]);
  const fills: [string, (i: number) => number][] = [
    ['noise', () => Math.floor(random() * 256)],
    ['dark', () => (random() < 0.9 ? 0 : Math.floor(random() * 256))],
    ['bright', () => (random() < 0.9 ? 255 : Math.floor(random() * 256))],
    ['black', () => 0],
    ['white', () => 255],
  ];
  for (const [width, height] of sizes) {
    for (const [name, fill] of fills) {
      for (const channels of [3, 4] as const) {
        const data = new Uint8Array(width * height * channels);
        for (let i = 0; i < data.length; i++) data[i] = fill(i);
        // Some fully transparent pixels, which count as white.
        if (channels === 4) for (let i = 3; i < data.length; i += 4) if (random() < 0.2) data[i] = 0;
        const image: DecodedImage = { data, width, height, channels };
        const expected = blockhashReference(image);
        t.equal(blockhash(image), expected, `${width}x${height}x${channels} ${name}`);
        // The same pixels at each alignment within a larger buffer (the port reads aligned 32-bit words).
        const shift = 1 + Math.floor(random() * 3);
        const shifted = new Uint8Array(data.length + 4).subarray(shift, shift + data.length);
        shifted.set(data);
        t.equal(blockhash({ ...image, data: shifted }), expected, `${width}x${height}x${channels} ${name}, byte offset ${shift}`);
      }
    }
  }
});

t.test('blockhash - the port equals imghash.hashRaw where its per-block row sums run in several WebAssembly calls', async (t) => {
  const random = seededRandom(7);
  // 400x8000: 500 rows a block, more than one call's 256 (the most a 16-bit lane holds of 255s).
  // 5000x1203: 75 rows a block of 15,000 bytes each, more than one 1 MiB chunk; 16 does not divide 1203.
  // 22000x20: rows wider than the kernel's 65,536 bytes, hashed by the JavaScript path instead.
  const sizes: [number, number][] = [[400, 8000], [5000, 1203], [22000, 20]];
  for (const [width, height] of sizes) {
    for (const [name, fill] of [['white', () => 255], ['noise', () => Math.floor(random() * 256)]] as const) {
      const data = new Uint8Array(width * height * 3);
      for (let i = 0; i < data.length; i++) data[i] = fill();
      const image: DecodedImage = { data, width, height, channels: 3 };
      t.equal(blockhash(image), blockhashReference(image), `${width}x${height}x3 ${name}`);
    }
  }
});
