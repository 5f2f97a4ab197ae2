import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  blockhash,
  blockhashFromHex,
  blockhashHamming,
  BLOCKHASH_DECODER_TOLERANCE,
  isBlockhashHex,
} from '../../matchers/blockhash/index.js';
import { decodeImage, type DecodedImage } from '../../matchers/image/index.js';

const BLOCKHASH_DATA = fileURLToPath(new URL('../../../../shared/data/blockhash/', import.meta.url));

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
