/**
 * How long do keyword alerts wait while devices send large images? Text events are matched in the same worker pool as
 * images (as journal pages), and one large image holds a thread for seconds. A real server (`vigil serve` in a child,
 * 2 matcher threads), one device sending a listed keyword 20 times a second, and, in the second half of each run,
 * 3 devices sending large images back to back (each the next as soon as the last is answered). Event-to-alert latency
 * is from the text frame's send to its alert on the feed WebSocket, in this process.
 *
 * Configurations, alternated in each round on the same images: `before` (images may take every thread, no decode
 * time limit: what the server did before pipeline.imageThreads and ingest.maxImageDecodeSeconds), `limit only` (every
 * thread, 5 s limit), `after` (the defaults: images on at most workers - 1 threads, 5 s limit). Images: the costliest
 * the limits accept (a 250 MP 16-bit RGBA PNG, 5-6 s to decode here) and a 200 MP camera's JPEG (about 1.2 s).
 *
 * Usage: node dist/bench/text-behind-images.js [--seconds 20] [--rounds 2] [--rate 20] [--devices 3] [--only NAME,...] (--help for more)
 * Writes bench/results/text-behind-images.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { benchCommand } from './bench-command.js';
import WebSocket from 'ws';
import { seededRandom } from '../core/index.js';
import { decodeFrame, encodeFrame } from '../ingest/index.js';
import { RegistryStore, openDatabases } from '../store/index.js';
import { startServer } from './server-process.js';
import { benchMachine, machineLine } from './suite-machine.js';
import { flatPng16, photoLike } from './synthetic-images.js';

const RESULTS = fileURLToPath(new URL('../../bench/results/text-behind-images.json', import.meta.url));
const WORKERS = 2;
const DAY = 86_400_000;
/** In the demo keyword list every fresh data folder gets. */
const KEYWORD_TEXT = 'see you at the forbiddenword tonight';

interface Config { name: string; imageThreads: number; maxImageDecodeSeconds: number }
const CONFIGS: Config[] = [
  { name: 'before', imageThreads: WORKERS, maxImageDecodeSeconds: 3600 },
  { name: 'limit only', imageThreads: WORKERS, maxImageDecodeSeconds: 5 },
  { name: 'after', imageThreads: WORKERS - 1, maxImageDecodeSeconds: 5 },
];

type Msg = Record<string, unknown> & { type: string };

/** A device or feed socket that hands each message to `on`. */
function connect(url: string, token: string, on: (m: Msg) => void, binary: boolean): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    ws.on('message', (data: Buffer) => on((binary ? decodeFrame(data) : JSON.parse(String(data))) as Msg));
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Nearest-rank quantiles of `xs`, in ms. */
function quantiles(xs: readonly number[]): { n: number; p50: number; p90: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => Math.round(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN);
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: Math.round(s[s.length - 1] ?? NaN) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface RunResult {
  config: string; images: string; round: number;
  alone: number[]; withImages: number[]; missing: number;
  imagesAnswered: number; imagesAccepted: number; imagesStopped: number;
}

async function run(config: Config, imagesName: string, image: Buffer, round: number, o: { seconds: number; rate: number; devices: number }): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-text-behind-images-'));
  const db = openDatabases(dir);
  const registry = new RegistryStore(db);
  const now = Date.now();
  const enrol = (i: number) => registry.enrol({
    subjectId: `subject-${i}`, orderRef: `ORDER-${i}`, categories: ['keyboard', 'web', 'image', 'heartbeat', 'location'], from: now - DAY, until: now + DAY,
  });
  const texter = await enrol(0);
  const imagers = await Promise.all(Array.from({ length: o.devices }, (_, i) => enrol(i + 1)));
  const consumer = await registry.createConsumer();
  await db.root.close();
  const configFile = join(dir, 'bench-config.json');
  writeFileSync(configFile, JSON.stringify({
    pipeline: { workers: WORKERS, imageThreads: config.imageThreads }, ingest: { maxImageDecodeSeconds: config.maxImageDecodeSeconds },
  }));
  const server = await startServer('vigil', dir, { VIGIL_CONFIG: configFile, VIGIL_EVIDENCE_KEY: 'ab'.repeat(32) });
  const base = `ws://127.0.0.1:${server.port}`;
  const sentAt = new Map<number, { at: number; phase: 'warm' | 'alone' | 'images' }>();
  const result: RunResult = { config: config.name, images: imagesName, round, alone: [], withImages: [], missing: 0, imagesAnswered: 0, imagesAccepted: 0, imagesStopped: 0 };
  const sockets: WebSocket[] = [];
  try {
    sockets.push(await connect(`${base}/v1/feed?after=0`, consumer.token, (m) => {
      const data = m.data as { deviceId?: string; eventSeq?: number } | undefined;
      if (m.type !== 'vigil.alert.keyboard' || data?.deviceId !== texter.deviceId || data.eventSeq === undefined) return;
      const sent = sentAt.get(data.eventSeq);
      if (!sent) return;
      sentAt.delete(data.eventSeq);
      const ms = performance.now() - sent.at;
      if (sent.phase === 'alone') result.alone.push(ms);
      else if (sent.phase === 'images') result.withImages.push(ms);
    }, false));
    const text = await connect(`${base}/v1/device`, texter.token, () => {}, true);
    sockets.push(text);
    let phase: 'warm' | 'alone' | 'images' = 'warm';
    let seq = 0;
    const ticker = setInterval(() => {
      seq++;
      sentAt.set(seq, { at: performance.now(), phase });
      text.send(encodeFrame({ type: 'text', seq, at: Date.now(), app: 'com.example.messages', text: KEYWORD_TEXT, source: 'typed' }));
    }, 1000 / o.rate);
    let sending = true;
    // Each image device sends its next image when the last is answered (ack or reject), as a device with a backlog does.
    const imageLoops = imagers.map(async ({ token }) => {
      let next = 0;
      let answered: (() => void) | undefined;
      const ws = await connect(`${base}/v1/device`, token, (m) => {
        if ((m.type === 'ack' && (m.upTo as number) >= next) || (m.type === 'reject' && m.seq === next)) {
          if (sending) { // answered within the phase
            result.imagesAnswered++;
            if (m.type === 'ack') result.imagesAccepted++;
            else if (/took too long/.test(String(m.message))) result.imagesStopped++;
          }
          answered?.();
        }
      }, true);
      sockets.push(ws);
      while (phase !== 'images') await sleep(50);
      while (sending) {
        next++;
        const done = new Promise<void>((r) => { answered = r });
        ws.send(encodeFrame({ type: 'image', seq: next, at: Date.now(), bytes: image, source: 'gallery' }));
        await done;
      }
    });
    await sleep(3000);
    phase = 'alone';
    await sleep(o.seconds * 1000);
    phase = 'images';
    await sleep(o.seconds * 1000);
    clearInterval(ticker);
    sending = false;
    // Every text alert still due, for as long as the slowest image could hold them back.
    for (let waited = 0; waited < 60_000 && [...sentAt.values()].some((s) => s.phase !== 'warm'); waited += 100) await sleep(100);
    result.missing = [...sentAt.values()].filter((s) => s.phase !== 'warm').length;
    await Promise.race([Promise.all(imageLoops), sleep(30_000)]);
  } finally {
    for (const ws of sockets) ws.terminate();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/** A 200 MP camera's 4:3 JPEG (16384x12288), from a small photo-like picture scaled up smoothly. */
async function cameraJpeg(): Promise<Buffer> {
  const small = photoLike(1200, 900, seededRandom(20261123));
  return sharp(small.data, { raw: { width: small.width, height: small.height, channels: 3 } })
    .resize(16384, 12288, { kernel: 'cubic', fit: 'fill' }).jpeg({ quality: 60 }).toBuffer();
}

const { values } = benchCommand({
  run: 'node dist/bench/text-behind-images.js',
  summary: 'How long a keyword alert waits while devices send large images to the same matcher threads: event-to-alert\n'
    + 'latency of a listed keyword, alone and with images back to back, for each configuration of the image limits.\n'
    + 'Writes bench/results/text-behind-images.json.',
  options: {
    seconds: { kind: 'int', default: 20, min: 1, help: 'seconds of text alone, then of text with images, in each run' },
    rounds: { kind: 'int', default: 2, min: 1, help: 'rounds, the configurations alternated in each' },
    rate: { kind: 'int', default: 20, min: 1, help: 'keyword events a second' },
    devices: { kind: 'int', default: 3, min: 1, help: 'devices sending images back to back' },
    only: { kind: 'string', arg: 'NAME,...', help: 'only the configurations whose name holds one of these (default all)' },
  },
});

async function main(): Promise<void> {
  const o = { seconds: values.seconds, rate: values.rate, devices: values.devices };
  const rounds = values.rounds;
  const only = values.only?.split(',');
  const machine = benchMachine();
  const command = `node ${process.argv.slice(1).join(' ')}`;
  console.log(machineLine(machine));
  console.log(`command: ${command}`);
  console.log(`server: vigil serve, ${WORKERS} matcher threads; text: ${o.rate}/s of a listed keyword; images: ${o.devices} devices back to back; `
    + `${o.seconds} s of text alone, then ${o.seconds} s with images; ${rounds} rounds, configurations alternated\n`);
  const images: [string, Buffer][] = [
    ['250 MP PNG RGBA 16-bit', flatPng16(19_360, 12_912)],
    ['200 MP JPEG', await cameraJpeg()],
  ];
  const runs: RunResult[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const [name, bytes] of images) {
      if (only && !only.some((x) => name.includes(x))) continue;
      for (const config of CONFIGS) {
        const r = await run(config, name, bytes, round, o);
        runs.push(r);
        const a = quantiles(r.alone);
        const w = quantiles(r.withImages);
        console.log(`round ${round} ${name.padEnd(24)} ${config.name.padEnd(10)} text alone p50 ${a.p50} p99 ${a.p99} ms; with images p50 ${w.p50} p90 ${w.p90} `
          + `p99 ${w.p99} max ${w.max} ms (n ${w.n}, missing ${r.missing}); images answered ${r.imagesAnswered}, accepted ${r.imagesAccepted}, stopped ${r.imagesStopped}`);
      }
    }
  }
  console.log('\nall rounds together (ms):');
  const summary = [];
  for (const [name] of images) {
    for (const config of CONFIGS) {
      const mine = runs.filter((r) => r.images === name && r.config === config.name);
      if (mine.length === 0) continue;
      const alone = quantiles(mine.flatMap((r) => r.alone));
      const withImages = quantiles(mine.flatMap((r) => r.withImages));
      const imagesPerMinute = Math.round((mine.reduce((n, r) => n + r.imagesAnswered, 0) / (mine.length * o.seconds)) * 60 * 10) / 10;
      summary.push({ images: name, config: config.name, alone, withImages, imagesPerMinute,
        accepted: mine.reduce((n, r) => n + r.imagesAccepted, 0), stopped: mine.reduce((n, r) => n + r.imagesStopped, 0) });
      console.log(`${name.padEnd(24)} ${config.name.padEnd(10)} alone p50 ${alone.p50} p99 ${alone.p99} | with images p50 ${withImages.p50} p90 ${withImages.p90} `
        + `p99 ${withImages.p99} max ${withImages.max} (n ${withImages.n}) | images answered per minute ${imagesPerMinute}`);
    }
  }
  const result = { bench: 'text-behind-images', date: new Date().toISOString(), machine: { ...machine, loadAverageEnd: benchMachine().loadAverage }, command, ...o, rounds, summary, runs };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nload average at the end ${result.machine.loadAverageEnd.join(' ')}; wrote ${RESULTS}`);
}

await main();
