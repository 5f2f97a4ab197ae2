/**
 * Question: how many phone screenshots per second does this machine take through the whole image
 * path — decode, PDQ (8 dihedral), blockhash, MD5/SHA-1/SHA-256/BLAKE3, hash-list lookup — using the
 * server's own worker pool, and where does the time go?
 *
 * Run: node dist/bench/screenshots.js [--images 200] [--listed 1000000] [--workers 2] [--seed 7]
 * Synthetic 1080x2400 screenshots (seeded), encoded as JPEG (q85) and PNG; a hash list of `--listed`
 * random PDQ hashes plus one screenshot's real hash (so the evidence path runs too).
 *
 * The machine is shared: besides images/s it reports the 1-minute load average around each run and the
 * CPU time the whole process (main thread, workers, libvips threads) spent per image, which other
 * tenants' load disturbs far less than wall-clock rates do. Shares are of the worker thread's own time per
 * image: exact hashing runs while a libvips thread decodes, and `decode` counts only the wait left after it.
 */
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { HashIndex, pdqHash, pdqToHex } from '../matchers/index.js';
import { WorkerPool } from '../pipeline/index.js';
import type { ImageTimings, IndexSnapshot, WorkerResult } from '../pipeline/worker-messages.js';
import { DEFAULT_MAX_IMAGE_DECODE_SECONDS, seededRandom } from '../core/index.js';
import { screenshotLike } from './synthetic-images.js';
import { benchCommand } from './bench-command.js';
import { benchMachine, machineLine } from './suite-machine.js';

const { values: { images, listed, workers, seed, distinct } } = benchCommand({
  run: 'node dist/bench/screenshots.js',
  summary: 'How many phone screenshots a second this machine takes through the whole image path (decode, PDQ, blockhash,\n'
    + 'exact hashes, hash-list lookup) on the server\'s own worker pool, and where the time goes; JPEG and PNG.',
  options: {
    images: { kind: 'int', default: 200, min: 1, help: 'images per format' },
    listed: { kind: 'int', default: 1_000_000, min: 0, help: 'random PDQ hashes in the list (plus one real match)' },
    workers: { kind: 'int', default: 2, min: 1, max: 64, help: 'worker threads' },
    seed: { kind: 'int', default: 7, min: 0, help: 'seed of the screenshots and the list' },
    distinct: { kind: 'int', default: 8, min: 1, help: 'distinct screenshots drawn, cycled through' },
  },
});

console.log(machineLine(benchMachine()));
console.log(`command: node dist/bench/screenshots.js ${process.argv.slice(2).join(' ')}`.trim());
console.log(`data: ${distinct} distinct 1080x2400 screenshots (seed ${seed}), ${images} images per format, ${listed.toLocaleString('en-GB')} listed PDQ hashes, ${workers} worker threads`);

const random = seededRandom(seed);
const raw = Array.from({ length: distinct }, () => screenshotLike(1080, 2400, random));
const encode = (format: 'jpeg' | 'png') => Promise.all(raw.map((img) => {
  const s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
  return format === 'jpeg' ? s.jpeg({ quality: 85 }).toBuffer() : s.png().toBuffer();
}));
const jpegs = await encode('jpeg');
const pngs = await encode('png');

const t0 = performance.now();
function* rows() {
  for (let i = 0; i < listed; i++) yield { hashType: 'pdq', value: randomBytes(32).toString('hex') };
  yield { hashType: 'pdq', value: pdqToHex(pdqHash(raw[0]!).hash) };
}
const index = HashIndex.build(rows());
console.log(`hash index built in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${(index.bytes / 2 ** 20).toFixed(0)} MiB`);
const snapshot: IndexSnapshot = { id: 1, lists: [{ name: 'bench', kind: 'hashes', version: 1, index: index.toShared() }] };
const pool = new WorkerPool(workers, 'ab'.repeat(32));

async function run(format: string, payloads: Buffer[]) {
  const timings: ImageTimings[] = [];
  let hits = 0;
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < images) {
      const n = next++;
      const bytes = new Uint8Array(payloads[n % payloads.length]!); // a fresh copy, transferred to the worker
      const r: WorkerResult = await pool.run({ type: 'image', snapshot, bytes, deviceId: 'bench', seq: n + 1, maxBytes: 64 << 20, maxPixels: 50e6, maxDecodeSeconds: DEFAULT_MAX_IMAGE_DECODE_SECONDS }, [bytes.buffer]);
      if (r.type !== 'image' || !r.ok) throw new Error(`image failed: ${JSON.stringify(r)}`);
      timings.push(r.timings);
      if (r.hits.length > 0) hits++;
    }
  };
  for (let w = 0; w < 4; w++) await pool.run({ type: 'image', snapshot, bytes: new Uint8Array(payloads[0]!), deviceId: 'w', seq: 1, maxBytes: 64 << 20, maxPixels: 50e6, maxDecodeSeconds: DEFAULT_MAX_IMAGE_DECODE_SECONDS });
  const loadBefore = loadavg()[0]!;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: workers * 2 }, one));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerImage = Number(((cpu.user + cpu.system) / 1000 / images).toFixed(1));
  const load = [Number(loadBefore.toFixed(2)), Number(loadavg()[0]!.toFixed(2))];
  const sum = (k: keyof ImageTimings) => timings.reduce((a, t) => a + t[k], 0);
  const total = (['decode', 'pdq', 'blockhash', 'exact', 'lookup'] as const).reduce((a, k) => a + sum(k), 0);
  const share = Object.fromEntries((['decode', 'pdq', 'blockhash', 'exact', 'lookup'] as const).map((k) => [k, Number((100 * sum(k) / total).toFixed(1))]));
  const perImage = timings.map((t) => (t.decode + t.pdq + t.blockhash + t.exact + t.lookup) / 1000).sort((a, b) => a - b);
  const pct = (p: number) => Number(perImage[Math.min(perImage.length - 1, Math.floor(p / 100 * perImage.length))]!.toFixed(1));
  const bytes = Math.round(payloads.reduce((a, b) => a + b.length, 0) / payloads.length / 1024);
  return { format, kib: bytes, imagesPerSecond: Number((images / seconds).toFixed(1)), cpuMsPerImage, load, perImageMs: { p50: pct(50), p99: pct(99) }, sharePercent: share, matched: hits };
}

const results = [await run('JPEG q85', jpegs), await run('PNG', pngs)];
await pool.close();
console.log('\n| format | mean size | images/s | CPU per image | load avg (1 min) | per image p50 | p99 | decode | PDQ | blockhash | exact | lookup | matched |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const s = r.sharePercent;
  console.log(`| ${r.format} | ${r.kib} KiB | ${r.imagesPerSecond} | ${r.cpuMsPerImage} ms | ${r.load[0]} -> ${r.load[1]} | ${r.perImageMs.p50} ms | ${r.perImageMs.p99} ms | ${s.decode}% | ${s.pdq}% | ${s.blockhash}% | ${s.exact}% | ${s.lookup}% | ${r.matched}/${images} |`);
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/screenshots.json', JSON.stringify({ images, listed, workers, seed, results }, null, 2));
