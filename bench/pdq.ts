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
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { blockhash } from '../matchers/blockhash/index.js';
import { exactHashes } from '../matchers/exact/index.js';
import { decodeImage } from '../matchers/image/index.js';
import { pdqDihedralHashes, pdqHash } from '../matchers/pdq/index.js';
import { seededRandom } from '../core/index.js';
import { photoLike, screenshotLike } from './synthetic-images.js';
import { benchCommand } from './bench-command.js';
import { benchMachine, machineLine } from './suite-machine.js';

const DEFAULT_REPS = 200;
const DEFAULT_SEED = 20240611;
const RESULTS = fileURLToPath(new URL('../../bench/results/pdq.json', import.meta.url));

interface Stats {
  median: number;
  p99: number;
  mean: number;
  n: number;
}

function parseArgs(): { reps: number; seed: number } {
  return benchCommand({
    run: 'node dist/bench/pdq.js',
    summary: 'How fast image hashing is: PDQ alone from decoded pixels (512x512 and 1600x1000; reference, full-resolution\n'
      + 'and 8 dihedral), and the whole per-image path for a synthetic phone screenshot as JPEG and PNG, with the share\n'
      + 'of each step. Writes bench/results/pdq.json.',
    options: {
      reps: { kind: 'int', default: DEFAULT_REPS, min: 1, help: 'repetitions of each timing' },
      seed: { kind: 'int', default: DEFAULT_SEED, help: 'seed of the synthetic images' },
    },
  }).values;
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
  const { reps, seed } = parseArgs();
  // libvips caches operations on identical input; every device image is new, so measure without it.
  sharp.cache(false);
  const machine = {
    ...benchMachine(),
    sharp: sharp.versions.sharp,
    vips: sharp.versions.vips,
    sharpConcurrency: sharp.concurrency(),
  };
  const command = `node ${process.argv.slice(1).join(' ')}`;
  console.log(`${machineLine(machine)}, sharp ${machine.sharp} (libvips ${machine.vips}, ${machine.sharpConcurrency} threads)`);
  console.log(`command: ${command}`);
  console.log(`seed: ${seed}, repetitions: ${reps}`);

  const random = seededRandom(seed);
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
