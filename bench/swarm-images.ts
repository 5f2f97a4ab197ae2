/**
 * The swarm's image events: a seeded set of synthetic photo-like JPEGs, some "listed" (their PDQ
 * hashes go into a hashes list, so sending one raises an image alert) and some that must match
 * nothing. Never real material: gradients, soft blobs and noise from a seeded generator.
 *
 * Every listed image must be hashable (PDQ quality at least PDQ_MIN_QUALITY, else the index skips
 * it) and every unlisted image must be well beyond the match threshold from every listed hash in
 * all 8 dihedral forms; a candidate that fails either check is dropped and the next seed drawn.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { seededRandom } from '../cli/event-mix.js';
import {
  PDQ_DIHEDRAL_ORDER, PDQ_MATCH_THRESHOLD, PDQ_MIN_QUALITY,
  decodeImage, pdqDihedralHashes, pdqHamming, pdqToHex, type PdqHash,
} from '../matchers/index.js';

export interface ImageSetOptions {
  seed: number;
  listed: number;
  unlisted: number;
  width: number;
  height: number;
  /** Folder the JPEGs and `hashes.csv` are written to. */
  dir: string;
}

export interface ImageSet {
  listed: string[];
  unlisted: string[];
  /** Path of a `type,value,category,ref` CSV of the listed images' PDQ hashes, for `importListFile`. */
  hashesCsv: string;
  /** Mean JPEG size in bytes. */
  meanBytes: number;
  width: number;
  height: number;
}

/** The name the suite imports the listed hashes under. */
export const BENCH_HASH_LIST = 'bench-hashes';
const ATTEMPTS_PER_IMAGE = 4;
/** Unlisted images stay at least twice the threshold away from listed ones. */
const MIN_DISTANCE = PDQ_MATCH_THRESHOLD * 2;

/** One image: a diagonal gradient, a few soft blobs and fine noise, JPEG quality 85. */
async function drawImage(seed: number, width: number, height: number): Promise<Buffer> {
  const rnd = seededRandom(seed * 7919 + 17);
  const data = Buffer.alloc(width * height * 3);
  const blobs = Array.from({ length: 6 + Math.floor(rnd() * 6) }, () => ({
    x: rnd() * width, y: rnd() * height, r: (0.05 + rnd() * 0.25) * Math.min(width, height),
    c: [rnd() * 255, rnd() * 255, rnd() * 255] as const,
  }));
  const base = [rnd() * 255, rnd() * 255, rnd() * 255];
  const slope = [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5];
  const px = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const g = (x + y) / (width + height);
      for (let ch = 0; ch < 3; ch++) px[ch] = base[ch]! + slope[ch]! * 255 * g;
      for (const b of blobs) {
        const d2 = ((x - b.x) ** 2 + (y - b.y) ** 2) / (b.r * b.r);
        if (d2 >= 4) continue;
        const w = Math.exp(-d2);
        for (let ch = 0; ch < 3; ch++) px[ch] = px[ch]! * (1 - w) + b.c[ch]! * w;
      }
      const i = (y * width + x) * 3;
      for (let ch = 0; ch < 3; ch++) data[i + ch] = Math.max(0, Math.min(255, px[ch]! + (rnd() - 0.5) * 24));
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

async function hashes(bytes: Buffer): Promise<{ quality: number; dihedral: PdqHash[] }> {
  const decoded = await decodeImage(bytes);
  if (!decoded.ok) throw new Error(`synthetic image did not decode: ${decoded.message}`);
  const r = pdqDihedralHashes(decoded.image);
  return { quality: r.quality, dihedral: PDQ_DIHEDRAL_ORDER.map((n) => r.hashes[n]) };
}

/** Draws the set, checks it as described above, and writes it to `options.dir`. */
export async function makeImageSet(options: ImageSetOptions): Promise<ImageSet> {
  mkdirSync(options.dir, { recursive: true });
  const listed: { path: string; hash: PdqHash }[] = [];
  const unlisted: string[] = [];
  let bytesTotal = 0;
  let seed = options.seed;
  const maxAttempts = (options.listed + options.unlisted) * ATTEMPTS_PER_IMAGE;
  for (let attempt = 0; attempt < maxAttempts && listed.length < options.listed; attempt++) {
    const bytes = await drawImage(seed++, options.width, options.height);
    const h = await hashes(bytes);
    if (h.quality < PDQ_MIN_QUALITY) continue;
    const hash = h.dihedral[0]!;
    if (listed.some((l) => pdqHamming(l.hash, hash) <= MIN_DISTANCE)) continue;
    const path = join(options.dir, `listed-${listed.length}.jpg`);
    writeFileSync(path, bytes);
    bytesTotal += bytes.length;
    listed.push({ path, hash });
  }
  for (let attempt = 0; attempt < maxAttempts && unlisted.length < options.unlisted; attempt++) {
    const bytes = await drawImage(seed++, options.width, options.height);
    const h = await hashes(bytes);
    if (h.dihedral.some((d) => listed.some((l) => pdqHamming(l.hash, d) <= MIN_DISTANCE))) continue;
    const path = join(options.dir, `unlisted-${unlisted.length}.jpg`);
    writeFileSync(path, bytes);
    bytesTotal += bytes.length;
    unlisted.push(path);
  }
  if (listed.length < options.listed || unlisted.length < options.unlisted) {
    throw new Error(`could only draw ${listed.length} listed and ${unlisted.length} unlisted synthetic images`);
  }
  const hashesCsv = join(options.dir, 'hashes.csv');
  writeFileSync(hashesCsv, ['type,value,category,ref',
    ...listed.map((l, i) => `pdq,${pdqToHex(l.hash)},B,bench-image-${i}`)].join('\n') + '\n');
  return {
    listed: listed.map((l) => l.path), unlisted, hashesCsv, width: options.width, height: options.height,
    meanBytes: Math.round(bytesTotal / Math.max(1, listed.length + unlisted.length)),
  };
}
