import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { decodeImage, type DecodedImage } from '../../matchers/image/index.js';
import {
  isPdqHex,
  PDQ_DIHEDRAL_ORDER,
  PDQ_MATCH_THRESHOLD,
  pdqDihedralHashes,
  pdqFromHex,
  pdqHamming,
  pdqHash,
  pdqToHex,
} from '../../matchers/pdq/index.js';

// Compiled to dist/test/matchers/: the project root is three folders up, shared/ beside it.
const PDQ_DATA = fileURLToPath(new URL('../../../../shared/data/pdq/', import.meta.url));

async function decodeFile(path: string): Promise<DecodedImage> {
  const r = await decodeImage(readFileSync(path));
  if (!r.ok) throw new Error(`${path}: ${r.code} ${r.message}`);
  return r.image;
}

function csvRows(path: string): string[][] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split(','));
}

/** Bit count of the XOR of two hex strings, computed independently of pdqHamming. */
function hexDistance(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    let x = Number.parseInt(a[i]!, 16) ^ Number.parseInt(b[i]!, 16);
    for (; x; x >>= 1) d += x & 1;
  }
  return d;
}

t.test('pdq - hashes the lossless reference images within 2 bits of the C++ reference', async (t) => {
  const rows = csvRows(`${PDQ_DATA}lossless/reference-cpp-dih.csv`);
  t.ok(rows.length >= 20, 'reference rows present');
  let identical = 0;
  let total = 0;
  let max = 0;
  for (const row of rows) {
    const file = row[9]!;
    const image = await decodeFile(`${PDQ_DATA}lossless/${file}`);
    const { hashes, quality } = pdqDihedralHashes(image);
    t.equal(quality, Number(row[8]), `${file} quality`);
    PDQ_DIHEDRAL_ORDER.forEach((name, i) => {
      const d = pdqHamming(hashes[name], pdqFromHex(row[i]!));
      total++;
      if (d === 0) identical++;
      max = Math.max(max, d);
      t.ok(d <= 2, `${file} ${name}: distance ${d} <= 2`);
    });
    const single = pdqHash(image);
    t.equal(pdqToHex(single.hash), row[0], `${file}: the single-hash path gives the reference original`);
  }
  t.comment(`lossless: ${identical}/${total} hashes identical, all within 2 bits, max distance ${max}`);
  t.ok(identical >= total * 0.9, `identical on most (${identical}/${total})`);
});

t.test('pdq - hashes JPEGs of quality 80 or more within 10 bits of the C++ reference', async (t) => {
  // exif-rotn 3, 6 and 8: the reference tool ignores EXIF orientation and we apply it, so their
  // reference hashes are of other pixels (image-decode.test.ts checks them turned by their orientation).
  const rotatedByExif = /exif-rotn-[368]\.jpg$/;
  let max = 0;
  let compared = 0;
  for (const [hex, quality, file] of csvRows(`${PDQ_DATA}reference-cpp-jpeg.csv`)) {
    if (Number(quality) < 80 || rotatedByExif.test(file!)) continue;
    const got = pdqHash(await decodeFile(`${PDQ_DATA}${file}`));
    const d = pdqHamming(got.hash, pdqFromHex(hex!));
    max = Math.max(max, d);
    compared++;
    t.ok(d <= 10, `${file}: distance ${d} <= 10`);
    t.ok(got.quality >= 80, `${file}: quality ${got.quality}`);
  }
  t.ok(compared >= 25, `compared ${compared} JPEGs`);
  t.comment(`jpeg: ${compared} files, max distance ${max}`);
});

t.test('pdq - reports the reference quality, low for the unreliable labelme images and flat images', async (t) => {
  for (const [, quality, file] of csvRows(`${PDQ_DATA}reference-cpp-jpeg.csv`)) {
    if (/exif-rotn-[368]/.test(file!)) continue;
    const got = pdqHash(await decodeFile(`${PDQ_DATA}${file}`));
    t.equal(got.quality, Number(quality), `${file}`);
  }
});

t.test('pdq - dihedral hashes of the original match the hashes of its rotated and flipped copies', async (t) => {
  const files = [
    'bridge-1-original.jpg',
    'bridge-2-rotate-90.jpg',
    'bridge-3-rotate-180.jpg',
    'bridge-4-rotate-270.jpg',
    'bridge-5-flipx.jpg',
    'bridge-6-flipy.jpg',
    'bridge-7-flip-plus-1.jpg',
    'bridge-8-flip-minus-1.jpg',
  ];
  const original = pdqDihedralHashes(await decodeFile(`${PDQ_DATA}dih/${files[0]}`));
  for (let k = 0; k < files.length; k++) {
    const copy = pdqHash(await decodeFile(`${PDQ_DATA}dih/${files[k]}`)).hash;
    PDQ_DIHEDRAL_ORDER.forEach((name, i) => {
      const d = pdqHamming(original.hashes[name], copy);
      if (i === k) t.ok(d <= PDQ_MATCH_THRESHOLD, `${files[k]} matches the original's ${name} (distance ${d})`);
      else t.ok(d > 2 * PDQ_MATCH_THRESHOLD, `${files[k]} is far from the original's ${name} (distance ${d})`);
    });
  }
});

t.test('pdq - at full resolution gives the Java reference golden hash of bridge-1-original', async (t) => {
  // The Java reference hashes every pixel (no 512x512 squash); its test's golden value.
  const image = await decodeFile(`${PDQ_DATA}dih/bridge-1-original.jpg`);
  const golden = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
  t.equal(pdqToHex(pdqHash(image, { fullResolution: true }).hash), golden);
  t.not(pdqToHex(pdqHash(image).hash), golden, 'the default squashes to 512x512 as pdq-photo-hasher does');
});

t.test('pdq - converts hashes to and from hex and measures Hamming distance', async (t) => {
  const a = 'd8f8f0cce0f4a84f0e370a22038f67f0b36e2ed596621e1d33e6b39c4e9c9b22';
  const b = 'f0a10efd51cc3d429053d48d0fffbc32e34e0e17ada952a9d29685210ea9e5af';
  t.equal(pdqToHex(pdqFromHex(a)), a);
  t.equal(pdqToHex(pdqFromHex(a.toUpperCase())), a, 'upper case accepted, lower case written');
  t.equal(pdqHamming(pdqFromHex(a), pdqFromHex(a)), 0);
  t.equal(pdqHamming(pdqFromHex(a), pdqFromHex(b)), hexDistance(a, b));
  t.equal(pdqHamming(pdqFromHex('0'.repeat(64)), pdqFromHex('f'.repeat(64))), 256);
  t.equal(pdqHamming(pdqFromHex('0'.repeat(63) + '1'), pdqFromHex('8' + '0'.repeat(63))), 2);
  t.ok(isPdqHex(a));
  for (const bad of ['', a.slice(1), `${a}0`, `${a.slice(1)}g`, ` ${a.slice(1)}`]) {
    t.notOk(isPdqHex(bad), `rejects ${JSON.stringify(bad)}`);
    t.throws(() => pdqFromHex(bad), TypeError);
  }
});

t.test('pdq - hashes images smaller than 5 pixels on a side to zero with quality 0', async (t) => {
  const image: DecodedImage = { data: new Uint8Array(4 * 40 * 3).fill(200), width: 40, height: 4, channels: 3 };
  const single = pdqHash(image);
  t.equal(pdqToHex(single.hash), '0'.repeat(64));
  t.equal(single.quality, 0);
  const dih = pdqDihedralHashes(image);
  t.equal(dih.quality, 0);
  for (const name of PDQ_DIHEDRAL_ORDER) t.equal(pdqToHex(dih.hashes[name]), '0'.repeat(64));
});

t.test('pdq - ignores the alpha channel, as the reference does', async (t) => {
  const rgb = await decodeFile(`${PDQ_DATA}lossless/dih__bridge-1-original.png`);
  const n = rgb.width * rgb.height;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    rgba.set(rgb.data.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = i % 7 === 0 ? 0 : 128;
  }
  const withAlpha: DecodedImage = { data: rgba, width: rgb.width, height: rgb.height, channels: 4 };
  t.equal(pdqToHex(pdqHash(withAlpha).hash), pdqToHex(pdqHash(rgb).hash));
});
