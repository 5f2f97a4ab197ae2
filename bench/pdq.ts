/**
 * How fast is image hashing? Two questions, one run:
 *  1. PDQ alone, from decoded pixels, at 512x512 and 1600x1000 (median and p99 over repetitions),
 *     in the reference mode (squash to 512x512), full-resolution mode, and with all 8 dihedral hashes;
 *  2. the whole per-image path for a synthetic 1080x2400 phone screenshot, as JPEG and as PNG:
 *     decode + PDQ + blockhash + exact hashes, in images/s, with the share of time in each step.
 *
 * Usage: node dist/bench/pdq.js [--reps N] [--seed S]
 * Writes bench/results/pdq.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { blockhash } from '../matchers/blockhash/index.js';
import { exactHashes } from '../matchers/exact/index.js';
import { decodeImage, type DecodedImage } from '../matchers/image/index.js';
import { pdqDihedralHashes, pdqHash } from '../matchers/pdq/index.js';

const DEFAULT_REPS = 200;
const DEFAULT_SEED = 20240611;
const RESULTS = fileURLToPath(new URL('../../bench/results/pdq.json', import.meta.url));

interface Stats {
  median: number;
  p99: number;
  mean: number;
  n: number;
}

function parseArgs(argv: string[]): { reps: number; seed: number } {
  let reps = DEFAULT_REPS;
  let seed = DEFAULT_SEED;
  for (let i = 0; i < argv.length; i++) {
    const next = Number(argv[i + 1]);
    if (argv[i] === '--reps' && Number.isInteger(next) && next > 0) reps = next;
    else if (argv[i] === '--seed' && Number.isInteger(next)) seed = next;
  }
  return { reps, seed };
}

/** mulberry32: small, seeded, reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A photo-like RGB image: smooth colour gradients, a few blobs, and noise. */
function photoLike(width: number, height: number, random: () => number): DecodedImage {
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
function screenshotLike(width: number, height: number, random: () => number): DecodedImage {
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

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, n: s.length };
}

function timeMs<T>(fn: () => T): [number, T] {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, r];
}

async function timeMsAsync<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, r];
}

function repeat(reps: number, fn: () => unknown): Stats {
  for (let i = 0; i < Math.min(20, reps); i++) fn(); // warm-up: let V8 optimise
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) samples.push(timeMs(fn)[0]);
  return stats(samples);
}

const fmt = (s: Stats): string => `median ${s.median.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms (n=${s.n})`;

async function main(): Promise<void> {
  const { reps, seed } = parseArgs(process.argv.slice(2));
  // libvips caches operations on identical input; every device image is new, so measure without it.
  sharp.cache(false);
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    sharp: sharp.versions.sharp,
    vips: sharp.versions.vips,
    sharpConcurrency: sharp.concurrency(),
  };
  const command = `node ${process.argv.slice(1).join(' ')}`;
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, sharp ${machine.sharp} (libvips ${machine.vips}, ${machine.sharpConcurrency} threads)`);
  console.log(`command: ${command}`);
  console.log(`seed: ${seed}, repetitions: ${reps}`);

  const random = rng(seed);
  const small = photoLike(512, 512, random);
  const large = photoLike(1600, 1000, random);

  console.log('\nPDQ from decoded pixels, per image:');
  const pdqAlone = {
    '512x512': repeat(reps, () => pdqHash(small)),
    '512x512 dihedral (8 hashes)': repeat(reps, () => pdqDihedralHashes(small)),
    '1600x1000': repeat(reps, () => pdqHash(large)),
    '1600x1000 dihedral (8 hashes)': repeat(reps, () => pdqDihedralHashes(large)),
    '1600x1000 full resolution': repeat(Math.max(10, reps >> 2), () => pdqHash(large, { fullResolution: true })),
  };
  for (const [name, s] of Object.entries(pdqAlone)) console.log(`  ${name.padEnd(32)} ${fmt(s)}`);

  const shot = screenshotLike(1080, 2400, random);
  const raw = sharp(shot.data, { raw: { width: shot.width, height: shot.height, channels: 3 } });
  const encoded = {
    jpeg: await raw.clone().jpeg({ quality: 85 }).toBuffer(),
    png: await raw.clone().png().toBuffer(),
  };
  const pipelineReps = Math.max(5, Math.round(reps / 10));
  console.log(`\nDecode + PDQ + blockhash + exact, synthetic 1080x2400 screenshot, ${pipelineReps} runs each:`);
  const pipeline: Record<string, unknown> = {};
  for (const [format, bytes] of Object.entries(encoded)) {
    const steps = { decode: [] as number[], pdq: [] as number[], blockhash: [] as number[], exact: [] as number[], total: [] as number[] };
    for (let i = -2; i < pipelineReps; i++) {
      const [tDecode, r] = await timeMsAsync(() => decodeImage(bytes));
      if (!r.ok) throw new Error(`${format}: ${r.message}`);
      const [tPdq] = timeMs(() => pdqHash(r.image));
      const [tBlock] = timeMs(() => blockhash(r.image));
      const [tExact] = timeMs(() => exactHashes(bytes));
      if (i < 0) continue; // warm-up
      steps.decode.push(tDecode);
      steps.pdq.push(tPdq);
      steps.blockhash.push(tBlock);
      steps.exact.push(tExact);
      steps.total.push(tDecode + tPdq + tBlock + tExact);
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const total = mean(steps.total);
    const share = Object.fromEntries(
      (['decode', 'pdq', 'blockhash', 'exact'] as const).map((k) => [k, Number((mean(steps[k]) / total).toFixed(3))]),
    );
    const perStep = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, stats(v)]));
    const imagesPerSecond = 1000 / total;
    pipeline[format] = { bytes: bytes.length, imagesPerSecond, meanMs: total, share, perStep };
    console.log(
      `  ${format.padEnd(5)} ${String(bytes.length).padStart(8)} bytes: ${imagesPerSecond.toFixed(1)} images/s ` +
        `(mean ${total.toFixed(1)} ms: decode ${(share.decode! * 100).toFixed(0)}%, pdq ${(share.pdq! * 100).toFixed(0)}%, ` +
        `blockhash ${(share.blockhash! * 100).toFixed(0)}%, exact ${(share.exact! * 100).toFixed(0)}%)`,
    );
  }

  const result = {
    bench: 'pdq',
    date: new Date().toISOString(),
    machine,
    command,
    seed,
    repetitions: reps,
    sizes: { pdqAlone: ['512x512', '1600x1000'], pipeline: '1080x2400 screenshot (JPEG q85, PNG)' },
    pdqAlone,
    pipeline,
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${RESULTS}`);
}

await main();
