/**
 * What does an image over 50 MP cost a worker, decoded shrunk to 50 MP (`decodePixels` with `fullDecodePixels`),
 * against the 50 MP decode a worker is sized for? Peak memory and CPU time, each decode alone in a fresh child
 * process: peak memory is the child's high-water mark (VmHWM in /proc/self/status) before and after the decode,
 * CPU time is `process.cpuUsage()` across the child's threads (libvips' included), with one libvips thread and its
 * cache off, as in a worker.
 *
 * The images are synthetic (gradients, a disc, a bar, noise, from the seed), scaled up so that each stays within the
 * 12 MiB of `ingest.maxImageBytes`: the worst cases the 250 MP limit lets through, in each format and layout.
 * A progressive JPEG, an interlaced PNG and a GIF, refused over 50 MP, are measured too (their header read with the
 * limit lifted), to show why; and two images decoded at full size, for the memory shrinking saves.
 *
 * Usage: node dist/bench/large-images.js [--seed S] [--only NAME,...] (--help for more)
 * Writes bench/results/large-images.json. Takes about 3 minutes here, most of it encoding the images.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import { seededRandom } from '../core/index.js';
import { decodePixels, DEFAULT_DECODE_LIMITS, readImageHeader } from '../matchers/image/index.js';
import { benchCommand } from './bench-command.js';
import { benchMachine, machineLine } from './suite-machine.js';

const DEFAULT_SEED = 20261123;
const MAX_IMAGE_BYTES = 12 * 1024 * 1024;
const RESULTS = fileURLToPath(new URL('../../bench/results/large-images.json', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

/** 19360x12912 is 249,976,320 pixels, just within 250 MP, in a phone camera's 3:2. */
const W250 = 19360;
const H250 = 12912;
/** 8660x5773 is 49,994,180 pixels: the largest 3:2 decode at full size. */
const W50 = 8660;
const H50 = 5773;

interface Case {
  name: string;
  make: (seed: number) => Sharp;
  /** Decoded at full size whatever its size (fullDecodePixels lifted), for what shrinking saves. */
  full?: true;
  /** A layout refused over 50 MP: its header is read with the limit lifted, then decoded as any other. */
  refused?: true;
}

/** A small picture of gradients, a disc, a bar and per-pixel noise (amplitude `noise`), as raw RGB. */
function picture(w: number, h: number, seed: number, noise: number): Sharp {
  const random = seededRandom(seed);
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const n = (): number => Math.floor(random() * noise);
      const disc = (x - w * 0.6) ** 2 + (y - h * 0.4) ** 2 < (h * 0.2) ** 2;
      const bar = x > w * 0.1 && x < w * 0.35 && y > h * 0.55 && y < h * 0.9;
      data[i] = disc ? 230 - n() : ((x * 255) / w + n()) & 255;
      data[i + 1] = bar ? 40 + n() : ((y * 255) / h + Math.sin(x / 23) * 40 + 60 + n()) & 255;
      data[i + 2] = (((x ^ y) & 63) + n()) & 255;
    }
  }
  return sharp(data, { raw: { width: w, height: h, channels: 3 } });
}

// Noisy and smoothly scaled for JPEG (the most entropy-coded data within 12 MiB at these qualities); blocky and
// noise-free for PNG and lossless WebP, which would not fit in 12 MiB otherwise. Every encode is within 12 MiB.
const smooth = (w: number, h: number, seed: number): Sharp => picture(1200, 800, seed, 16).resize(w, h, { kernel: 'cubic', fit: 'fill' });
const blocky = (w: number, h: number, seed: number): Sharp =>
  picture(Math.ceil(w / 16), Math.ceil(h / 16), seed, 1).resize(w, h, { kernel: 'nearest', fit: 'fill' });
const png = { compressionLevel: 9, adaptiveFiltering: true } as const;

const CASES: Case[] = [
  { name: '50 MP JPEG 4:2:0 (a decode at full size)', make: (s) => smooth(W50, H50, s).jpeg({ quality: 60 }) },
  { name: '50 MP PNG RGB (a decode at full size)', make: (s) => blocky(W50, H50, s).png(png) },
  { name: '50 MP PNG RGBA 16-bit (a decode at full size)', make: (s) => blocky(W50, H50, s).ensureAlpha(0.8).toColourspace('rgb16').png(png) },
  { name: '50 MP WebP lossy (a decode at full size)', make: (s) => blocky(7071, 7071, s).webp({ quality: 30 }) },
  { name: '50 MP WebP lossless RGBA, one colour (a decode at full size)',
    make: () => sharp({ create: { width: 7071, height: 7071, channels: 4, background: { r: 120, g: 130, b: 140, alpha: 0.5 } } }).webp({ lossless: true }) },
  { name: '250 MP JPEG 4:2:0', make: (s) => smooth(W250, H250, s).jpeg({ quality: 60 }) },
  // A phone held upright: the turn comes after the shrink, and needs the shrunk image whole (as at 50 MP).
  { name: '50 MP JPEG 4:2:0, EXIF orientation 6 (a decode at full size)', make: (s) => smooth(W50, H50, s).withMetadata({ orientation: 6 }).jpeg({ quality: 60 }) },
  { name: '250 MP JPEG 4:2:0, EXIF orientation 6', make: (s) => smooth(W250, H250, s).withMetadata({ orientation: 6 }).jpeg({ quality: 60 }) },
  { name: '250 MP JPEG 4:4:4', make: (s) => smooth(W250, H250, s).jpeg({ quality: 50, chromaSubsampling: '4:4:4' }) },
  { name: '250 MP PNG RGB', make: (s) => blocky(W250, H250, s).png(png) },
  { name: '250 MP PNG RGB 16-bit', make: (s) => blocky(W250, H250, s).toColourspace('rgb16').png(png) },
  { name: '250 MP PNG RGBA', make: (s) => blocky(W250, H250, s).ensureAlpha(0.8).png(png) },
  { name: '250 MP PNG RGBA 16-bit', make: (s) => blocky(W250, H250, s).ensureAlpha(0.8).toColourspace('rgb16').png(png) },
  // libwebp here refuses to encode a lossy picture much over 200 MP ("unable to encode"); 144 MP shows the trend.
  { name: '144 MP WebP lossy', make: (s) => blocky(12000, 12000, s).webp({ quality: 30 }) },
  { name: '250 MP WebP lossless RGBA, one colour',
    make: () => sharp({ create: { width: 16383, height: 15259, channels: 4, background: { r: 120, g: 130, b: 140, alpha: 0.5 } }, limitInputPixels: false }).webp({ lossless: true }) },
  { name: '250 MP JPEG progressive (refused over 50 MP)', make: (s) => smooth(W250, H250, s).jpeg({ quality: 60, progressive: true }), refused: true },
  { name: '250 MP PNG interlaced (refused over 50 MP)', make: (s) => blocky(W250, H250, s).png({ ...png, progressive: true }), refused: true },
  { name: '64 MP GIF (refused over 50 MP)', make: (s) => blocky(8000, 8000, s).gif({ effort: 1, dither: 0, colours: 16 }), refused: true },
  { name: '250 MP JPEG 4:2:0 at full size (not shrunk)', make: (s) => smooth(W250, H250, s).jpeg({ quality: 60 }), full: true },
  { name: '250 MP PNG RGB at full size (not shrunk)', make: (s) => blocky(W250, H250, s).png(png), full: true },
];

interface Measured { in: string; out: string; baselineMiB: number; peakMiB: number; cpuMs: number; wallMs: number }

const highWaterMiB = (): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;

/** In the child: one decode, as a worker does it, then the figures as one JSON line. */
async function child(file: string, mode: string): Promise<void> {
  sharp.cache(false);
  sharp.concurrency(1);
  const bytes = readFileSync(file);
  const limits = { ...DEFAULT_DECODE_LIMITS, maxBytes: MAX_IMAGE_BYTES, fullDecodePixels: mode === 'full' ? 1e9 : DEFAULT_DECODE_LIMITS.fullDecodePixels };
  const header = await readImageHeader(bytes, mode === 'refused' ? { ...limits, fullDecodePixels: 1e9 } : limits);
  if (!header.ok) throw new Error(header.message);
  const baselineMiB = highWaterMiB();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await decodePixels(bytes, header.header, limits);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  if (!r.ok) throw new Error(r.message);
  const m: Measured = {
    in: `${header.header.width}x${header.header.height}`, out: `${r.image.width}x${r.image.height}x${r.image.channels}`,
    baselineMiB: Math.round(baselineMiB), peakMiB: Math.round(highWaterMiB()), cpuMs: Math.round((cpu.user + cpu.system) / 1000), wallMs: Math.round(wallMs),
  };
  console.log(JSON.stringify(m));
}

const matching = (only: string): typeof CASES => CASES.filter((c) => only.split(',').some((o) => c.name.includes(o)));

const { values: options } = benchCommand({
  run: 'node dist/bench/large-images.js',
  summary: 'What an image over 50 MP costs a worker, decoded shrunk to 50 MP, against a 50 MP decode at full size: peak\n'
    + 'memory and CPU time of each decode alone in a fresh child process, for the worst cases the 250 MP limit lets\n'
    + 'through in each format. Writes bench/results/large-images.json; takes about 3 minutes.',
  options: {
    seed: { kind: 'int', default: DEFAULT_SEED, help: 'seed of the synthetic images' },
    only: { kind: 'string', arg: 'TEXT,...', help: 'only the cases whose name holds one of these, e.g. "PNG,WebP" (default all)' },
    child: { kind: 'string', arg: 'FILE', help: '(internal) decode FILE and print what it cost, as the measuring child' },
    mode: { kind: 'string', choices: ['shrunk', 'full', 'refused'], help: '(internal) with --child: how FILE is decoded' },
  },
  check: (o) => (o.only !== undefined && matching(o.only).length === 0 ? `--only ${JSON.stringify(o.only)} names no case` : undefined),
});

async function main(): Promise<void> {
  const { seed, only } = options;
  sharp.cache(false);
  const machine = { ...benchMachine(), sharp: sharp.versions.sharp, vips: sharp.versions.vips };
  const command = `node ${process.argv.slice(1).join(' ')}`;
  console.log(`${machineLine(machine)}, sharp ${machine.sharp} (libvips ${machine.vips}, 1 thread in each child)`);
  console.log(`command: ${command}`);
  console.log(`seed: ${seed}; full-size decode ${DEFAULT_DECODE_LIMITS.fullDecodePixels / 1e6} MP, refusal over ${DEFAULT_DECODE_LIMITS.maxPixels / 1e6} MP\n`);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-large-images-'));
  const rows: (Measured & { name: string; bytes: number })[] = [];
  try {
    for (const c of CASES) {
      if (only !== undefined && !matching(only).includes(c)) continue;
      const bytes = await c.make(seed).toBuffer();
      if (bytes.length > MAX_IMAGE_BYTES) throw new Error(`${c.name}: ${bytes.length} bytes, over ingest.maxImageBytes`);
      const file = join(dir, 'image');
      writeFileSync(file, bytes);
      const mode = c.full ? 'full' : c.refused ? 'refused' : 'shrunk';
      const out = execFileSync(process.execPath, [SELF, '--child', file, '--mode', mode], { encoding: 'utf8' });
      const m = JSON.parse(out.trim().split('\n').pop()!) as Measured;
      rows.push({ name: c.name, bytes: bytes.length, ...m });
      console.log(`${c.name.padEnd(62)} ${(bytes.length / 2 ** 20).toFixed(2).padStart(5)} MiB ${m.in.padStart(11)} -> ${m.out.padEnd(13)}`
        + ` peak ${String(m.peakMiB).padStart(4)} MiB (+${m.peakMiB - m.baselineMiB}), CPU ${String(m.cpuMs).padStart(5)} ms, wall ${m.wallMs} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const result = { bench: 'large-images', date: new Date().toISOString(), machine: { ...machine, loadAverageEnd: benchMachine().loadAverage }, command, seed, rows };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nload average at the end ${result.machine.loadAverageEnd.join(' ')}; wrote ${RESULTS}`);
}

if (options.child !== undefined) await child(options.child, options.mode ?? 'shrunk');
else await main();
