/**
 * How long can one image hold a matcher thread, with the decode time limit (`ingest.maxImageDecodeSeconds`) and
 * without it? Each image goes through the worker's image task (`analyseImage`: header, decode, exact hashes, and
 * for an image the decoder refuses a second, lenient decode), alone in a fresh child process with one libvips thread
 * and its cache off, as in a worker: CPU is `process.cpuUsage()` across the child's threads, wall the task's time,
 * `after` the CPU the child used in the 1.5 s after the task ended (libvips still at work on a stopped decode would show
 * there), and `pipelines` counts sharp's pipelines (its queue events: a decode, a lenient decode, a turn).
 *
 * Modes: `limit` is the task with the limit (default 5 s); `no limit` the same task with 3600 s, which for these images
 * is what the task did before the limit (the strict decode, then a lenient one after a failure, each to its end);
 * `autoOrient` (images with an EXIF orientation) decodes as the task did before orientation moved after the decode,
 * with sharp's autoOrient and the same limit, to show what the limit did not stop then.
 *
 * The images are synthetic: the costliest accepted (a 250 MP 16-bit RGBA PNG, one colour: bench/synthetic-images.ts),
 * it stored turned (EXIF orientation 6), it cut short at half and at 90% of its bytes (damaged: the strict decode
 * fails where the bytes end, the lenient one decodes the rest as grey), a 250 MP lossless WebP (libwebp decodes it
 * whole, inside libvips' first strip) and a 200 MP camera's JPEG (a photo-like picture scaled up), upright and turned.
 *
 * Usage: node dist/bench/image-time-limit.js [--seconds 5] [--runs 3] [--only NAME,...] (--help for more)
 * Writes bench/results/image-time-limit.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { benchCommand } from './bench-command.js';
import { DEFAULT_MAX_IMAGE_DECODE_SECONDS, seededRandom } from '../core/index.js';
import { FULL_DECODE_PIXELS, readImageHeader } from '../matchers/index.js';
import { analyseImage } from '../pipeline/image-task.js';
import { benchMachine, machineLine } from './suite-machine.js';
import { summarise } from './stats.js';
import { flatPng16, photoLike } from './synthetic-images.js';

const RESULTS = fileURLToPath(new URL('../../bench/results/image-time-limit.json', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const MAX_IMAGE_BYTES = 12 * 1024 * 1024;
const MAX_PIXELS = 250_000_000;
const NO_LIMIT_SECONDS = 3600;

type Mode = 'limit' | 'no limit' | 'autoOrient';

interface Case { name: string; make: () => Promise<Buffer>; turned?: true }

/** A 200 MP camera's 4:3 (16384x12288), from a small photo-like picture scaled up smoothly. */
async function cameraJpeg(orientation?: number): Promise<Buffer> {
  const small = photoLike(1200, 900, seededRandom(20261123));
  const image = sharp(small.data, { raw: { width: small.width, height: small.height, channels: 3 } })
    .resize(16384, 12288, { kernel: 'cubic', fit: 'fill' });
  if (orientation !== undefined) image.withMetadata({ orientation });
  return image.jpeg({ quality: 60 }).toBuffer();
}

const png250 = (orientation?: number): Buffer => flatPng16(19_360, 12_912, orientation);

const CASES: Case[] = [
  { name: '250 MP PNG RGBA 16-bit', make: async () => png250() },
  { name: '250 MP PNG RGBA 16-bit, EXIF orientation 6', make: async () => png250(6), turned: true },
  { name: '250 MP PNG RGBA 16-bit, cut at 50% (damaged)', make: async () => { const b = png250(); return b.subarray(0, b.length >> 1) } },
  { name: '250 MP PNG RGBA 16-bit, cut at 90% (damaged)', make: async () => { const b = png250(); return b.subarray(0, Math.floor(b.length * 0.9)) } },
  { name: '250 MP WebP lossless RGBA, one colour',
    make: () => sharp({ create: { width: 16383, height: 15259, channels: 4, background: { r: 120, g: 130, b: 140, alpha: 0.5 } }, limitInputPixels: false })
      .webp({ lossless: true }).toBuffer() },
  { name: '200 MP JPEG 4:2:0', make: () => cameraJpeg() },
  { name: '200 MP JPEG 4:2:0, EXIF orientation 6', make: () => cameraJpeg(6), turned: true },
];

interface Measured { outcome: string; cpuMs: number; wallMs: number; afterMs: number; pipelines: number }

/** In the child: one image through the image task (or sharp's autoOrient decode), then the figures as one JSON line. */
async function child(file: string, mode: Mode, seconds: number): Promise<void> {
  sharp.cache(false);
  sharp.concurrency(1);
  const bytes = new Uint8Array(readFileSync(file));
  let changes = 0;
  sharp.queue.on('change', () => { changes++ });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let outcome: string;
  if (mode === 'autoOrient') outcome = await autoOrientDecode(bytes, seconds);
  else {
    const r = await analyseImage({
      type: 'image', snapshot: { id: 0, lists: [] }, bytes, deviceId: 'bench', seq: 1,
      maxBytes: MAX_IMAGE_BYTES, maxPixels: MAX_PIXELS, maxDecodeSeconds: mode === 'limit' ? seconds : NO_LIMIT_SECONDS,
    }, [], undefined);
    outcome = r.type !== 'image' ? r.type : r.ok ? 'accepted' : `${r.code}${r.timedOut ? ' (stopped)' : ''}: ${r.message.slice(0, 60)}`;
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const c1 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 1500));
  const after = process.cpuUsage(c1);
  const ms = (u: NodeJS.CpuUsage): number => Math.round((u.user + u.system) / 1000);
  const m: Measured = { outcome, cpuMs: ms(cpu), wallMs: Math.round(wallMs), afterMs: ms(after), pipelines: changes / 2 };
  console.log(JSON.stringify(m));
}

/** The decode before EXIF orientation moved after it: sharp's autoOrient, the box as shown, with the limit. */
async function autoOrientDecode(bytes: Uint8Array, seconds: number): Promise<string> {
  const header = await readImageHeader(bytes, { maxBytes: MAX_IMAGE_BYTES, maxPixels: MAX_PIXELS, fullDecodePixels: FULL_DECODE_PIXELS, maxDecodeSeconds: seconds });
  if (!header.ok) return header.message;
  const { width, height, transposed, format } = header.header;
  const scale = Math.sqrt(FULL_DECODE_PIXELS / (width * height));
  const [w, h] = [Math.floor(width * scale), Math.floor(height * scale)];
  const pipeline = sharp(bytes, { failOn: 'warning', ignoreIcc: true, limitInputPixels: MAX_PIXELS, autoOrient: true }).toColourspace('srgb');
  if (format === 'png') pipeline.pipelineColourspace('srgb');
  pipeline.resize({ ...(transposed ? { width: h, height: w } : { width: w, height: h }), fit: 'inside' }).timeout({ seconds });
  try {
    await pipeline.raw({ depth: 'uchar' }).toBuffer();
    return 'decoded';
  } catch (err) {
    return (err as Error).message.split('\n')[0]!.slice(0, 60);
  }
}

const { values: options } = benchCommand({
  run: 'node dist/bench/image-time-limit.js',
  summary: 'Whether ingest.maxImageDecodeSeconds stops the costliest images the limits accept, and what the limit costs an\n'
    + 'image under it: CPU and wall time of each decode in a fresh child, with the limit, without it, and (for images\n'
    + 'stored turned) through sharp\'s own orientation. Writes bench/results/image-time-limit.json.',
  options: {
    seconds: { kind: 'int', default: DEFAULT_MAX_IMAGE_DECODE_SECONDS, min: 1, max: 3600, help: 'the decode time limit, in seconds' },
    runs: { kind: 'int', default: 3, min: 1, help: 'runs of each image and mode' },
    only: { kind: 'string', arg: 'NAME,...', help: 'only the images whose name holds one of these (default all)' },
    child: { kind: 'string', arg: 'FILE', help: '(internal) decode FILE and print what it cost, as the measuring child' },
    mode: { kind: 'string', choices: ['limit', 'no limit', 'autoOrient'], help: '(internal) with --child: how FILE is decoded' },
  },
});

async function main(): Promise<void> {
  const { seconds, runs } = options;
  const only = options.only?.split(',');
  const machine = { ...benchMachine(), sharp: sharp.versions.sharp, vips: sharp.versions.vips };
  const command = `node ${process.argv.slice(1).join(' ')}`;
  console.log(`${machineLine(machine)}, sharp ${machine.sharp} (libvips ${machine.vips}, 1 thread in each child)`);
  console.log(`command: ${command}`);
  console.log(`limit ${seconds} s; ${runs} runs of each image and mode, alternating, each in a fresh child; medians (p10-p90)\n`);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-image-time-limit-'));
  const rows: { name: string; bytes: number; mode: Mode; runs: Measured[]; cpuMs: ReturnType<typeof summarise>; wallMs: ReturnType<typeof summarise> }[] = [];
  try {
    for (const c of CASES) {
      if (only && !only.some((o) => c.name.includes(o))) continue;
      const bytes = await c.make();
      if (bytes.length > MAX_IMAGE_BYTES) throw new Error(`${c.name}: ${bytes.length} bytes, over ingest.maxImageBytes`);
      const file = join(dir, 'image');
      writeFileSync(file, bytes);
      const modes: Mode[] = c.turned ? ['no limit', 'limit', 'autoOrient'] : ['no limit', 'limit'];
      const measured = new Map<Mode, Measured[]>(modes.map((m) => [m, []]));
      for (let run = 0; run < runs; run++) {
        for (const mode of modes) {
          const out = execFileSync(process.execPath, [SELF, '--child', file, '--mode', mode, '--seconds', String(seconds)], { encoding: 'utf8' });
          measured.get(mode)!.push(JSON.parse(out.trim().split('\n').pop()!) as Measured);
        }
      }
      for (const mode of modes) {
        const all = measured.get(mode)!;
        const cpuMs = summarise(all.map((m) => m.cpuMs));
        const wallMs = summarise(all.map((m) => m.wallMs));
        rows.push({ name: c.name, bytes: bytes.length, mode, runs: all, cpuMs, wallMs });
        const s = (x: ReturnType<typeof summarise>): string => `${(x.median / 1000).toFixed(2)} s (${(x.p10 / 1000).toFixed(2)}-${(x.p90 / 1000).toFixed(2)})`;
        const after = Math.max(...all.map((m) => m.afterMs));
        console.log(`${c.name.padEnd(46)} ${mode.padEnd(10)} CPU ${s(cpuMs)}, wall ${s(wallMs)}, after at most ${after} ms, `
          + `pipelines ${all.map((m) => m.pipelines).join(',')}: ${all[0]!.outcome}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const result = { bench: 'image-time-limit', date: new Date().toISOString(), machine: { ...machine, loadAverageEnd: benchMachine().loadAverage }, command, seconds, runs, rows };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nload average at the end ${result.machine.loadAverageEnd.join(' ')}; wrote ${RESULTS}`);
}

if (options.child !== undefined) await child(options.child, options.mode ?? 'limit', options.seconds);
else await main();
