import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import t, { type Test } from 'tap';
import {
  decodeImage, decodePixels, DEFAULT_DECODE_LIMITS, readImageHeader, type DecodedImage, type DecodeResult, type HeaderResult, type ImageHeader,
} from '../../matchers/image/index.js';
import { blockhash, blockhashHamming } from '../../matchers/blockhash/index.js';
import { pdqDihedralHashes, pdqFromHex, pdqHamming, pdqHash, pdqToHex, PDQ_MATCH_THRESHOLD } from '../../matchers/pdq/index.js';
import { animatedWebp, largeSynthetic, pngHeaderOnly, slowPng } from '../helpers/images.js';

const PDQ_DATA = fileURLToPath(new URL('../../../../shared/data/pdq/', import.meta.url));
const BRIDGE_JPEG = readFileSync(`${PDQ_DATA}dih/bridge-1-original.jpg`);
const BRIDGE_PNG = readFileSync(`${PDQ_DATA}lossless/dih__bridge-1-original.png`);

function decoded(r: DecodeResult): DecodedImage {
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.image;
}

function decodedHeader(r: HeaderResult): ImageHeader {
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.header;
}

function refused(t: Test, r: DecodeResult, code: string, what: string): void {
  t.equal(r.ok, false, `${what}: refused`);
  if (!r.ok) {
    t.equal(r.code, code, `${what}: ${r.message}`);
    t.ok(r.message.length > 0 && !r.message.includes('\n    at '), `${what}: a message, not a stack`);
  }
}

t.test('image decode - decodes JPEG and PNG to 8-bit RGB at full resolution', async (t) => {
  const jpeg = await decodeImage(BRIDGE_JPEG);
  t.equal(jpeg.ok && jpeg.format, 'jpeg');
  const j = decoded(jpeg);
  t.same([j.width, j.height, j.channels, j.data.length], [1600, 1004, 3, 1600 * 1004 * 3]);
  const png = await decodeImage(BRIDGE_PNG);
  t.equal(png.ok && png.format, 'png');
  const p = decoded(png);
  t.same([p.width, p.height, p.channels], [512, 321, 3]);
  // Lossless: the pixels are the file's own.
  const raw = await sharp(BRIDGE_PNG).raw().toBuffer();
  t.ok(Buffer.from(p.data).equals(raw), 'PNG pixels unchanged');
});

t.test('image decode - decodes GIF (first frame only) and WebP, keeping alpha as a fourth channel', async (t) => {
  // A two-frame animated GIF: red then blue. Only the first frame is decoded.
  const w = 32;
  const h = 24;
  const frames = Buffer.alloc(w * h * 2 * 3);
  for (let i = 0; i < w * h; i++) frames.set([255, 0, 0], i * 3);
  for (let i = w * h; i < 2 * w * h; i++) frames.set([0, 0, 255], i * 3);
  const gif = await sharp(frames, { raw: { width: w, height: h * 2, channels: 3, pageHeight: h } }).gif().toBuffer();
  t.equal((await sharp(gif).metadata()).pages, 2, 'the GIF is animated');
  const g = await decodeImage(gif);
  t.equal(g.ok && g.format, 'gif');
  const gi = decoded(g);
  t.same([gi.width, gi.height], [w, h], 'one frame');
  t.ok(gi.data[0]! > 200 && gi.data[2]! < 50, 'the first (red) frame');

  const webp = decoded(await decodeImage(await sharp(BRIDGE_PNG).webp({ lossless: true }).toBuffer()));
  t.same([webp.width, webp.height, webp.channels], [512, 321, 3]);
  t.equal(pdqToHex(pdqHash(webp).hash), pdqToHex(pdqHash(decoded(await decodeImage(BRIDGE_PNG))).hash), 'lossless WebP hashes as the PNG');

  const webpAlpha = decoded(await decodeImage(await sharp(BRIDGE_PNG).ensureAlpha(0.5).webp().toBuffer()));
  t.equal(webpAlpha.channels, 4);
  const gifAlpha = await sharp({ create: { width: 20, height: 10, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .gif()
    .toBuffer();
  t.equal(decoded(await decodeImage(gifAlpha)).channels, 4);
});

t.test('image decode - decodes AVIF; a HEIC this build cannot decode is IMAGE_UNDECODABLE, not a crash', async (t) => {
  const avif = await sharp(BRIDGE_PNG).avif({ quality: 90 }).toBuffer();
  const a = await decodeImage(avif);
  t.equal(a.ok && a.format, 'heif');
  const ai = decoded(a);
  t.same([ai.width, ai.height], [512, 321]);
  const original = pdqHash(decoded(await decodeImage(BRIDGE_PNG))).hash;
  t.ok(pdqHamming(pdqHash(ai).hash, original) <= PDQ_MATCH_THRESHOLD, 'AVIF copy hashes near the original');

  // sharp's prebuilt libheif decodes AV1 only; an HEVC-coded HEIC is refused as a value.
  const s = avif.toString('latin1');
  const heic = Buffer.from(s.replaceAll('avif', 'heic').replaceAll('av01', 'hvc1').replaceAll('av1C', 'hvcC'), 'latin1');
  refused(t, await decodeImage(heic), 'IMAGE_UNDECODABLE', 'HEIC-branded payload');
});

t.test('image decode - applies EXIF orientation: copies stored turned with tags 3, 6 and 8 hash as the upright original', async (t) => {
  const upright = pdqToHex(pdqHash(decoded(await decodeImage(BRIDGE_PNG))).hash);
  // Pixels stored turned the other way, so that a viewer honouring the tag shows the original.
  const cases: [number, number][] = [
    [3, 180],
    [6, 270],
    [8, 90],
  ];
  for (const [orientation, storedTurn] of cases) {
    for (const format of ['png', 'webp'] as const) {
      const stored = sharp(BRIDGE_PNG).rotate(storedTurn).withMetadata({ orientation });
      const bytes = await (format === 'png' ? stored.png() : stored.webp({ lossless: true })).toBuffer();
      t.equal((await sharp(bytes).metadata()).orientation, orientation, `${format} carries orientation ${orientation}`);
      const image = decoded(await decodeImage(bytes));
      t.same([image.width, image.height], [512, 321], `${format} orientation ${orientation}: upright size`);
      t.equal(pdqToHex(pdqHash(image).hash), upright, `${format} orientation ${orientation}: same hash`);
    }
  }
});

t.test('image decode - applies EXIF orientation to the exif-rotn photos: each is the raw reference hash turned back', async (t) => {
  // The four files are different shots; the reference tool hashed their stored pixels, ignoring the tag.
  // Upright, a photo tagged 3 is its stored pixels turned 180 degrees, 6 and 8 a quarter turn each way,
  // so one dihedral hash of ours must match the reference's and the others must not.
  const reference = new Map(
    readFileSync(`${PDQ_DATA}reference-cpp-jpeg.csv`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','))
      .map((f) => [f[2]!, f[0]!]),
  );
  const expected = { 1: 'original', 3: 'rot180', 6: 'rot90', 8: 'rot270' } as const;
  for (const [n, turned] of Object.entries(expected)) {
    const image = decoded(await decodeImage(readFileSync(`${PDQ_DATA}exif-rotn/exif-rotn-${n}.jpg`)));
    t.same([image.width, image.height], n === '6' || n === '8' ? [3024, 4032] : [4032, 3024], `exif-rotn-${n}: upright size`);
    const raw = pdqFromHex(reference.get(`exif-rotn/exif-rotn-${n}.jpg`)!);
    const { hashes } = pdqDihedralHashes(image);
    for (const [name, hash] of Object.entries(hashes)) {
      const d = pdqHamming(hash, raw);
      if (name === turned) t.ok(d <= PDQ_MATCH_THRESHOLD, `exif-rotn-${n}: ${name} matches the raw reference (distance ${d})`);
      else t.ok(d > PDQ_MATCH_THRESHOLD, `exif-rotn-${n}: ${name} does not (distance ${d})`);
    }
  }
});

t.test('image decode - refuses zero-byte, truncated, corrupt and non-image payloads with IMAGE_UNDECODABLE', async (t) => {
  refused(t, await decodeImage(new Uint8Array(0)), 'IMAGE_UNDECODABLE', 'zero bytes');
  refused(t, await decodeImage(BRIDGE_JPEG.subarray(0, 100)), 'IMAGE_UNDECODABLE', 'JPEG cut in its header');
  refused(t, await decodeImage(BRIDGE_JPEG.subarray(0, BRIDGE_JPEG.length >> 1)), 'IMAGE_UNDECODABLE', 'JPEG cut in half');
  refused(t, await decodeImage(BRIDGE_PNG.subarray(0, BRIDGE_PNG.length - 5000)), 'IMAGE_UNDECODABLE', 'truncated PNG');
  const flipped = Buffer.from(BRIDGE_JPEG);
  for (let i = 2000; i < flipped.length; i += 997) flipped[i]! ^= 0xff;
  refused(t, await decodeImage(flipped), 'IMAGE_UNDECODABLE', 'JPEG with flipped bytes');
  const overwritten = Buffer.from(BRIDGE_JPEG);
  overwritten.fill(0x55, 600, 5000);
  refused(t, await decodeImage(overwritten), 'IMAGE_UNDECODABLE', 'JPEG with its tables overwritten');
  refused(t, await decodeImage(new TextEncoder().encode('GIF89a? no, just text')), 'IMAGE_UNDECODABLE', 'text');
  refused(t, await decodeImage(new Uint8Array(4096).map((_, i) => (i * 7919) & 0xff)), 'IMAGE_UNDECODABLE', 'noise');
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>';
  refused(t, await decodeImage(new TextEncoder().encode(svg)), 'IMAGE_UNDECODABLE', 'SVG (not accepted from devices)');
  refused(t, await decodeImage(await sharp(BRIDGE_PNG).tiff().toBuffer()), 'IMAGE_UNDECODABLE', 'TIFF (not accepted from devices)');
});

t.test('image decode - refuses too many bytes or pixels with IMAGE_TOO_LARGE, before decoding', async (t) => {
  refused(t, await decodeImage(BRIDGE_JPEG, { ...DEFAULT_DECODE_LIMITS, maxBytes: 1000, maxPixels: 1e9 }), 'IMAGE_TOO_LARGE', 'bytes over maxBytes');
  refused(t, await decodeImage(pngHeaderOnly(100_000, 100_000)), 'IMAGE_TOO_LARGE', 'PNG header claiming 100000x100000');

  // A JPEG whose frame header claims 65000x65000.
  const jpeg = Buffer.from(await sharp(BRIDGE_PNG).resize(64).jpeg().toBuffer());
  const sof = jpeg.findIndex((b, i) => b === 0xff && (jpeg[i + 1] === 0xc0 || jpeg[i + 1] === 0xc2));
  jpeg.writeUInt16BE(65000, sof + 5);
  jpeg.writeUInt16BE(65000, sof + 7);
  refused(t, await decodeImage(jpeg), 'IMAGE_TOO_LARGE', 'JPEG header claiming 65000x65000');

  // A real decompression bomb: 64 megapixels of one colour, a few hundred KB compressed.
  const bomb = await sharp({ create: { width: 8000, height: 8000, channels: 3, background: '#808080' } })
    .png({ compressionLevel: 9 })
    .toBuffer();
  t.ok(bomb.length < 1024 * 1024, `bomb is ${bomb.length} bytes`);
  // IMAGE_TOO_LARGE (not UNDECODABLE from sharp's own limit) shows it was refused from its header.
  const r = await decodeImage(bomb, { ...DEFAULT_DECODE_LIMITS, maxPixels: 50_000_000 });
  refused(t, r, 'IMAGE_TOO_LARGE', '64-megapixel PNG bomb over a 50 MP limit');
  t.match(!r.ok && r.message, /8000x8000/, 'the message gives the claimed size');

  const image = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#123456' } }).png().toBuffer();
  refused(t, await decodeImage(image, { ...DEFAULT_DECODE_LIMITS, maxBytes: 1 << 20, maxPixels: 1_000_000 }), 'IMAGE_TOO_LARGE', '1.2 MP over a 1 MP limit');
  t.ok((await decodeImage(image, { ...DEFAULT_DECODE_LIMITS, maxBytes: 1 << 20, maxPixels: 1_200_000 })).ok, 'exactly at the limit is accepted');
});

t.test('image decode - an image over fullDecodePixels is decoded shrunk to fit within it, and hashes as its full-size decode does', async (t) => {
  // 9000x6000 (54 MP) is over the 50 MP decoded at full size; before, it was refused IMAGE_TOO_LARGE by its header.
  const jpeg = await largeSynthetic(9000, 6000, 3).jpeg({ quality: 85 }).toBuffer();
  const png = await largeSynthetic(9000, 6000, 4).png({ adaptiveFiltering: true }).toBuffer();
  for (const [format, bytes] of [['JPEG', jpeg], ['PNG', png]] as const) {
    const full = decoded(await decodeImage(bytes, { ...DEFAULT_DECODE_LIMITS, fullDecodePixels: 1e9 }));
    t.same([full.width, full.height], [9000, 6000], `${format}: the full decode, limit raised`);
    const fullPdq = pdqHash(full).hash;
    const fullBlock = blockhash(full);
    // The default limits, then a much smaller decode, to show the hashes hold when the shrink is large.
    for (const fullDecodePixels of [DEFAULT_DECODE_LIMITS.fullDecodePixels, 2_000_000]) {
      const shrunk = decoded(await decodeImage(bytes, { ...DEFAULT_DECODE_LIMITS, fullDecodePixels }));
      const what = `${format} shrunk to fit ${fullDecodePixels / 1e6} MP (${shrunk.width}x${shrunk.height})`;
      t.ok(shrunk.width * shrunk.height <= fullDecodePixels, `${what}: within the limit`);
      t.ok(shrunk.width * shrunk.height > fullDecodePixels * 0.99, `${what}: and not much below it`);
      t.ok(Math.abs(shrunk.width / shrunk.height - 1.5) < 0.002, `${what}: the same proportions`);
      t.equal(shrunk.data.length, shrunk.width * shrunk.height * 3, `${what}: RGB`);
      const dPdq = pdqHamming(pdqHash(shrunk).hash, fullPdq);
      const dBlock = blockhashHamming(blockhash(shrunk), fullBlock);
      // A 27-fold shrink (to 2 MP) moves a few more PDQ bits: still half the match threshold.
      const near = fullDecodePixels === DEFAULT_DECODE_LIMITS.fullDecodePixels ? 10 : 16;
      t.ok(dPdq <= near, `${what}: PDQ within ${near} of 256 bits of the full decode's (distance ${dPdq})`);
      t.ok(dBlock <= near, `${what}: blockhash within ${near} of 256 bits of the full decode's (distance ${dBlock})`);
    }
  }
});

t.test('image decode - a shrunk decode is upright: EXIF orientation comes first, and the limit fits the image as shown', async (t) => {
  const limits = { ...DEFAULT_DECODE_LIMITS, fullDecodePixels: 100_000 };
  const upright = decoded(await decodeImage(BRIDGE_PNG));
  const small = decoded(await decodeImage(BRIDGE_PNG, limits));
  t.same([small.width, small.height], [399, 250], 'the 512x321 reference shrunk to fit 100000 pixels');
  const near = pdqHamming(pdqHash(small).hash, pdqHash(upright).hash);
  t.ok(near <= 10, `and hashes as the full decode (distance ${near})`);
  for (const [orientation, storedTurn] of [[6, 270], [8, 90]] as const) {
    const bytes = await sharp(BRIDGE_PNG).rotate(storedTurn).withMetadata({ orientation }).png().toBuffer();
    const image = decoded(await decodeImage(bytes, limits));
    t.same([image.width, image.height], [399, 250], `orientation ${orientation}: upright, the same size`);
    const d = pdqHamming(pdqHash(image).hash, pdqHash(small).hash);
    t.ok(d <= 10, `orientation ${orientation}: hashes as the upright original (distance ${d})`);
  }
});

t.test('image decode - over fullDecodePixels, formats that would be decoded whole are refused IMAGE_TOO_LARGE from the header', async (t) => {
  // A progressive JPEG, an interlaced PNG, GIF and HEIF have no decode that stays small (bench/README.md), so they
  // are refused as every image over the limit was before; baseline JPEG, PNG and WebP are decoded shrunk.
  const limits = { ...DEFAULT_DECODE_LIMITS, fullDecodePixels: 100_000 };
  const base = sharp(BRIDGE_PNG);
  const cases: [string, Buffer, boolean][] = [
    ['baseline JPEG', await base.clone().jpeg().toBuffer(), true],
    ['PNG', await base.clone().png().toBuffer(), true],
    ['16-bit PNG with alpha', await base.clone().ensureAlpha(0.5).toColourspace('rgb16').png().toBuffer(), true],
    ['WebP', await base.clone().webp().toBuffer(), true],
    ['WebP with alpha', await base.clone().ensureAlpha(0.5).webp().toBuffer(), true],
    ['progressive JPEG', await base.clone().jpeg({ progressive: true }).toBuffer(), false],
    ['interlaced PNG', await base.clone().png({ progressive: true }).toBuffer(), false],
    ['GIF', await base.clone().gif().toBuffer(), false],
    ['AVIF', await base.clone().avif().toBuffer(), false],
  ];
  for (const [what, bytes, taken] of cases) {
    const header = await readImageHeader(bytes, limits);
    if (!taken) {
      t.equal(!header.ok && header.code, 'IMAGE_TOO_LARGE', `${what}: refused by its header`);
      t.match(!header.ok && header.message, /512x321 .* 100000 pixels/, `${what}: the message says why`);
      t.ok((await decodeImage(bytes)).ok, `${what}: decoded within the limit`);
      continue;
    }
    const image = decoded(await decodeImage(bytes, limits));
    t.ok(image.width * image.height <= 100_000, `${what}: shrunk to ${image.width}x${image.height}`);
    t.equal(image.channels, what.includes('alpha') ? 4 : 3, `${what}: 8 bits a channel, alpha kept`);
    t.equal(image.data.length, image.width * image.height * image.channels);
  }
});

t.test('image decode - an animated WebP over fullDecodePixels is refused IMAGE_TOO_LARGE from its header (144 bytes held a worker at 1.3 GiB)', async (t) => {
  // libvips builds an animation's frames on a canvas of its full size before any shrink: a 16383x15000 canvas of
  // one-pixel frames took 1.3 GiB and 4.8 s to decode shrunk, twice what the worst still image costs.
  for (const frames of [2, 1]) {
    const bytes = await animatedWebp(16383, 15000, frames);
    t.ok(bytes.length < 300, `${frames} frame(s): ${bytes.length} bytes`);
    const header = await readImageHeader(bytes);
    t.equal(!header.ok && header.code, 'IMAGE_TOO_LARGE', `${frames} frame(s): refused by its header`);
    t.match(!header.ok && header.message, /animated webp of 16383x15000 pixels/, `${frames} frame(s): the message says why`);
  }
  const small = await readImageHeader(await animatedWebp(4000, 3000));
  t.ok(small.ok && small.header.animated, 'an animated WebP within 50 MP is read at full size, as before');
  const still = await readImageHeader(await sharp(BRIDGE_PNG).webp().toBuffer(), { ...DEFAULT_DECODE_LIMITS, fullDecodePixels: 100_000 });
  t.ok(still.ok && !still.header.animated, 'a still WebP over the limit is still taken, to be decoded shrunk');
});

t.test('image decode - a CMYK JPEG over fullDecodePixels is refused IMAGE_TOO_LARGE from its header (converted at full size, 250 MP took 18 s)', async (t) => {
  // Converted to sRGB before the resize, so a 250 MP CMYK JPEG (3.9 MiB) took 18 s of CPU where the costliest
  // image taken is 6.4 s; no camera makes one. Smaller, it is decoded at full size as before.
  const limits = { ...DEFAULT_DECODE_LIMITS, fullDecodePixels: 100_000 };
  const cmyk = await sharp(BRIDGE_PNG).toColourspace('cmyk').jpeg().toBuffer();
  const header = await readImageHeader(cmyk, limits);
  t.equal(!header.ok && header.code, 'IMAGE_TOO_LARGE', 'refused by its header');
  t.match(!header.ok && header.message, /cmyk jpeg of 512x321 pixels/, 'the message says why');
  t.ok((await decodeImage(cmyk)).ok, 'decoded within the limit');
  const rgb = decoded(await decodeImage(await sharp(BRIDGE_PNG).jpeg().toBuffer(), limits));
  t.ok(rgb.width * rgb.height <= 100_000, 'an RGB JPEG over the limit is still decoded shrunk');
  const grey = decoded(await decodeImage(await sharp(BRIDGE_PNG).greyscale().jpeg().toBuffer(), limits));
  t.ok(grey.width * grey.height <= 100_000, 'and so is a grey one');
});

t.test('image decode - an image over fullDecodePixels with a side over 32768 is refused IMAGE_TOO_LARGE from its header (a 0.7 MiB PNG of 10000000x25 took 8.3 GiB to shrink)', async (t) => {
  // The resize holds rows of the image in floating point, so what it costs grows with the width of a row: a 250 MP
  // PNG of 10000000x25 took 8.3 GiB and 25 s, and 25x10000000 12 s. Headers alone: nothing here is decoded.
  for (const [width, height] of [[10_000_000, 25], [25, 10_000_000], [100_000, 2_500], [32_769, 1_600]] as const) {
    const header = await readImageHeader(pngHeaderOnly(width, height));
    t.equal(!header.ok && header.code, 'IMAGE_TOO_LARGE', `${width}x${height}: refused by its header`);
    t.match(!header.ok && header.message, new RegExp(`${width}x${height} pixels .* 32768 pixels a side`), `${width}x${height}: the message says why`);
  }
  for (const [width, height] of [[32_768, 7_629], [7_629, 32_768], [16_384, 12_288]] as const) {
    t.ok((await readImageHeader(pngHeaderOnly(width, height))).ok, `${width}x${height} (${Math.round(width * height / 1e6)} MP): taken, to be decoded shrunk`);
  }
  t.ok((await readImageHeader(pngHeaderOnly(1_000_000, 50))).ok, 'within 50 MP, a long side is decoded at full size, as before');
});

t.test('image decode - converts greyscale, 16-bit and CMYK images to 8-bit RGB', async (t) => {
  const small = sharp(BRIDGE_PNG).resize(128);
  const variants: [string, Buffer][] = [
    ['greyscale PNG', await small.clone().greyscale().png().toBuffer()],
    ['16-bit PNG', await small.clone().toColourspace('rgb16').png().toBuffer()],
    ['CMYK JPEG', await small.clone().toColourspace('cmyk').jpeg().toBuffer()],
  ];
  for (const [what, bytes] of variants) {
    const image = decoded(await decodeImage(bytes));
    t.equal(image.channels, 3, `${what}: 3 channels`);
    t.equal(image.data.length, image.width * image.height * 3, `${what}: 8 bits a channel`);
  }
});

t.test('image decode - readImageHeader then decodePixels, the image task\'s two steps, give what decodeImage gives', async (t) => {
  const rgba = await sharp(BRIDGE_PNG).ensureAlpha(0.5).png().toBuffer();
  for (const [what, bytes] of [['JPEG', BRIDGE_JPEG], ['PNG', BRIDGE_PNG], ['RGBA PNG', rgba]] as const) {
    const header = await readImageHeader(bytes);
    if (!header.ok) throw new Error(`${what}: ${header.message}`);
    const whole = decoded(await decodeImage(bytes));
    t.same([header.header.width, header.header.height, header.header.hasAlpha], [whole.width, whole.height, whole.channels === 4], `${what}: header`);
    const split = decoded(await decodePixels(bytes, header.header));
    t.same([split.width, split.height, split.channels], [whole.width, whole.height, whole.channels], `${what}: size and channels`);
    t.ok(Buffer.from(split.data).equals(Buffer.from(whole.data)), `${what}: the same pixels`);
  }
  const bomb = await readImageHeader(pngHeaderOnly(100_000, 100_000));
  t.equal(!bomb.ok && bomb.code, 'IMAGE_TOO_LARGE', 'the header step refuses a bomb');
  const corrupt = await readImageHeader(BRIDGE_JPEG.subarray(0, BRIDGE_JPEG.length >> 1));
  t.equal(corrupt.ok ? 'header ok' : corrupt.code, 'header ok', 'a truncated JPEG still has a readable header');
  if (corrupt.ok) {
    const r = await decodePixels(BRIDGE_JPEG.subarray(0, BRIDGE_JPEG.length >> 1), corrupt.header);
    refused(t, r, 'IMAGE_UNDECODABLE', 'truncated JPEG, at the pixel step');
  }
});

t.test('image decode - a decode still running after maxDecodeSeconds is stopped and refused IMAGE_UNDECODABLE, saying it took too long', async (t) => {
  // The costliest image the default limits take, a 250 MP 16-bit RGBA PNG shrunk to 50 MP: 5-6 s of one core here.
  const bytes = slowPng();
  const limits = { ...DEFAULT_DECODE_LIMITS, maxDecodeSeconds: 1 };
  const header = await readImageHeader(bytes, limits);
  if (!header.ok) throw new Error(header.message);
  const r = await decodePixels(bytes, header.header, limits);
  refused(t, r, 'IMAGE_UNDECODABLE', 'stopped at 1 s');
  t.match(r, { timedOut: true, message: /^png took too long to decode: stopped after 1 s/ }, 'told apart from a damaged image');
  const damaged = await decodePixels(BRIDGE_JPEG.subarray(0, BRIDGE_JPEG.length >> 1), decodedHeader(await readImageHeader(BRIDGE_JPEG)));
  t.match(damaged, { ok: false, code: 'IMAGE_UNDECODABLE', timedOut: undefined }, 'a damaged image is not said to have run out of time');
});

t.test('image decode - an image with an EXIF orientation is stopped at maxDecodeSeconds too (sharp turned it outside its timeout)', async (t) => {
  // sharp reads the whole (shrunk) image into memory before it turns it, and that read ran with no timeout: this PNG,
  // stored turned (orientation 6), decoded to 2 MP in 6.5 s with a 1 s limit. (Shrunk to 50 MP, the turn after the
  // read can itself pass 1 s on a loaded machine, and the old code was then stopped too, late.)
  const bytes = slowPng(6);
  const limits = { ...DEFAULT_DECODE_LIMITS, fullDecodePixels: 2_000_000, maxDecodeSeconds: 1 };
  const header = decodedHeader(await readImageHeader(bytes, limits));
  t.equal(header.transposed, true, 'the header says it is shown turned a quarter');
  t.match(await decodePixels(bytes, header, limits), { ok: false, code: 'IMAGE_UNDECODABLE', timedOut: true }, 'stopped at 1 s');
});

t.test('image decode - EXIF orientation, applied after the decode, gives the pixels sharp\'s autoOrient gave, at full size and shrunk', async (t) => {
  const rgba = await sharp(BRIDGE_PNG).ensureAlpha(0.6).png().toBuffer();
  for (const [what, source] of [['RGB', BRIDGE_PNG], ['RGBA', rgba]] as const) {
    for (let orientation = 1; orientation <= 8; orientation++) {
      const bytes = await sharp(source).withMetadata({ orientation }).png().toBuffer();
      for (const fullDecodePixels of [DEFAULT_DECODE_LIMITS.fullDecodePixels, 100_000]) {
        const header = decodedHeader(await readImageHeader(bytes, { ...DEFAULT_DECODE_LIMITS, fullDecodePixels }));
        const image = decoded(await decodePixels(bytes, header, { ...DEFAULT_DECODE_LIMITS, fullDecodePixels }));
        // What decodePixels did before: sharp's autoOrient, the box in the orientation as shown.
        const before = sharp(bytes, { autoOrient: true, ignoreIcc: true }).toColourspace('srgb');
        if (what === 'RGB') before.removeAlpha();
        if (fullDecodePixels === 100_000) {
          before.pipelineColourspace('srgb').resize({ ...(orientation >= 5 ? { width: 250, height: 399 } : { width: 399, height: 250 }), fit: 'inside' });
        }
        const want = await before.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
        const label = `${what} orientation ${orientation}${fullDecodePixels === 100_000 ? ', shrunk' : ''}`;
        t.same([image.width, image.height, image.channels], [want.info.width, want.info.height, want.info.channels], `${label}: size`);
        t.ok(Buffer.from(image.data).equals(want.data), `${label}: the same pixels`);
      }
    }
  }
});
