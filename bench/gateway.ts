/**
 * Question: what does the device gateway's own JavaScript cost an event, and how much does it allocate, without the
 * sockets? The real DeviceGateway, Journal (group commit, synchronous, synced to disk) and RegistryStore run on LMDB
 * in a temporary folder; only uWS is stood in for (a socket object that records what is sent) and the pipeline (it
 * takes the durable events and does nothing: matching is measured elsewhere). `--devices` devices are enrolled and
 * connected; each turn `--per-turn` frames of the simulator's mix (text 40%, dns 25%, url 15%, app 5%, heartbeat 10%,
 * location 5%), made before the clock starts, go to the gateway's message handler one after another, as uWS hands
 * them over in one event-loop turn, and then the turn ends: the journal commits and the gateway sends its acks.
 *
 * Per pass of `--turns` turns it times reading (decode, validation, scope, journal append) and the rest (commit and
 * acks), and prints medians, p10 and p90 over `--runs` passes, per event. One more pass runs under V8's sampling heap
 * profiler, counting objects already collected too, for the bytes allocated an event (an estimate, 4 KiB sampling).
 * Before anything is printed it checks that every event was acknowledged. Writes bench/results/gateway.json.
 *
 *   node dist/bench/gateway.js [--devices 1000] [--per-turn 1500] [--turns 100] [--runs 5] [--seed 1]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import pino from 'pino';
import type { HttpRequest, HttpResponse, WebSocket, us_socket_context_t } from 'uWebSockets.js';
import { Metrics, loadConfig, seededRandom } from '../core/index.js';
import { plainPackr, plainUnpackr } from '../core/plain-msgpack.js';
import { DeviceGateway, type DeviceConn, type JournalEntry } from '../ingest/index.js';
import type { ImageAnalyser, PipelinePage } from '../pipeline/index.js';
import { Journal, RegistryStore, openDatabases } from '../store/index.js';
import { benchCommand } from './bench-command.js';
import { benchMachine, machineLine } from './suite-machine.js';
import { summarise } from './stats.js';

const { values: opts } = benchCommand({
  run: 'node dist/bench/gateway.js',
  summary: 'What the device gateway\'s own JavaScript costs an event, and allocates, without the sockets: the real\n'
    + 'DeviceGateway, Journal and RegistryStore on LMDB in a temporary folder, frames of the simulator\'s mix handed over\n'
    + 'a turn at a time. Writes bench/results/gateway.json.',
  options: {
    devices: { kind: 'int', default: 1000, min: 1, help: 'devices enrolled and connected' },
    'per-turn': { kind: 'int', default: 1500, min: 1, help: 'frames handed over in one event-loop turn' },
    turns: { kind: 'int', default: 100, min: 1, help: 'turns a pass' },
    runs: { kind: 'int', default: 5, min: 1, help: 'timed passes' },
    seed: { kind: 'int', default: 1, min: 1, help: 'seed of the event mix' },
  },
});
const DAY = 86_400_000;
const MIX: [string, number][] = [['text', 0.4], ['dns', 0.25], ['url', 0.15], ['app', 0.05], ['heartbeat', 0.1], ['location', 0.05]];

/** One event of the mix, as a device frames it (plain MessagePack map), in an ArrayBuffer of its own as uWS gives it. */
function frame(type: string, seq: number, at: number, n: number): ArrayBuffer {
  const event = type === 'text' ? { type, seq, at, app: 'com.example.chat', text: `placeholder message ${n} typed on the device`, source: 'typed' }
    : type === 'dns' ? { type, seq, at, domain: `host${n % 977}.example.test`, app: 'com.android.chrome' }
      : type === 'url' ? { type, seq, at, url: `https://www.site${n % 311}.example/path/page?q=${n}`, app: 'com.android.chrome' }
        : type === 'app' ? { type, seq, at, package: `com.example.app${n % 50}`, action: 'launched' }
          : type === 'heartbeat' ? { type, seq, at, battery: 80 }
            : { type, seq, at, lat: 51.5, lon: -0.12, accuracyM: 20 };
  const bytes = plainPackr.pack(event);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Stands in for a uWS socket: keeps the last message sent (each is a buffer of its own), read once the passes end. */
class StandInSocket {
  conn!: DeviceConn;
  last: Uint8Array | undefined;
  getUserData(): DeviceConn { return this.conn }
  getBufferedAmount(): number { return 0 }
  cork(f: () => void): this { f(); return this }
  send(message: Uint8Array): number { this.last = message; return 1 }
  end(): void {}
  close(): void {}
  /** The `upTo` of the last message if it was an ack, else 0. */
  get acked(): number {
    const m = this.last && (plainUnpackr.unpack(this.last) as { type?: string; upTo?: number });
    return m?.type === 'ack' ? m.upTo ?? 0 : 0;
  }
}

const round2 = (x: number): number => Number(x.toFixed(2));
/** `summarise`, in µs rounded to hundredths. */
const micros = (xs: readonly number[]): { median: number; p10: number; p90: number } => {
  const { median, p10, p90 } = summarise(xs);
  return { median: round2(median), p10: round2(p10), p90: round2(p90) };
};

const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-gateway-'));
const db = openDatabases(dir);
let gateway: DeviceGateway | undefined;
try {
  const machine = benchMachine();
  const command = `node dist/bench/gateway.js ${process.argv.slice(2).join(' ')}`.trim();
  console.log(machineLine(machine));
  console.log(`command: ${command}`);
  const registry = new RegistryStore(db);
  const now = Date.now();
  process.stderr.write(`enrolling ${opts.devices} devices\n`);
  const tokens: string[] = [];
  for (let i = 0; i < opts.devices; i++) {
    const { token } = await registry.enrol({
      subjectId: `bench-subject-${i}`, orderRef: `BENCH-${i}`, categories: ['keyboard', 'web', 'heartbeat', 'location'],
      from: now - DAY, until: now + DAY,
    });
    tokens.push(token);
  }
  const defaults = loadConfig({ dataDir: dir }, {});
  let durable = 0;
  const pipeline = { depth: 0, submit: (pages: readonly PipelinePage[]) => { for (const p of pages) durable += p.size } };
  gateway = new DeviceGateway({
    // The server's defaults (no config file, no environment), with no rate limit.
    ingest: { ...defaults.ingest, deviceRatePerSecond: 1e9, deviceBurst: 1e9 },
    policy: defaults.policy, registry, pipeline, images: { full: false } as ImageAnalyser,
    maxPipelineDepth: Number.MAX_SAFE_INTEGER, metrics: new Metrics(), log: pino({ level: 'silent' }),
  });
  const journal = new Journal<JournalEntry>(db, 8192, { durable: (e, p) => gateway!.durable(e, p), failed: () => {} });
  gateway.attach(journal);
  const behavior = gateway.behavior();
  const sockets = tokens.map((token) => {
    const socket = new StandInSocket();
    const req = { getHeader: (h: string) => (h === 'authorization' ? `Bearer ${token}` : '') } as unknown as HttpRequest;
    const res = { upgrade: (conn: DeviceConn) => { socket.conn = conn } } as unknown as HttpResponse;
    behavior.upgrade!(res, req, {} as us_socket_context_t);
    if (!socket.conn) throw new Error('a bench device was refused at the upgrade');
    behavior.open!(socket as unknown as WebSocket<DeviceConn>);
    return socket;
  });
  const seqs = new Array<number>(opts.devices).fill(0);
  const next = seededRandom(opts.seed);
  let n = 0;
  /** The frames of one pass, made before it is timed: [device index, frame] per event, a turn at a time. */
  const makePass = (): [number, ArrayBuffer][][] => Array.from({ length: opts.turns }, () => Array.from({ length: opts['per-turn'] }, () => {
    const i = Math.floor(next() * opts.devices);
    let r = next();
    const type = MIX.find(([, share]) => (r -= share) < 0)?.[0] ?? 'text';
    return [i, frame(type, ++seqs[i]!, now, n++)] as [number, ArrayBuffer];
  }));
  const runPass = async (pass: [number, ArrayBuffer][][]): Promise<{ read: number; rest: number }> => {
    let read = 0;
    const started = performance.now();
    for (const turn of pass) {
      const t0 = performance.now();
      for (const [i, buffer] of turn) behavior.message!(sockets[i] as unknown as WebSocket<DeviceConn>, buffer, true);
      read += performance.now() - t0;
      await nextTurn(); // the journal commits at the end of the turn and reports in a microtask
    }
    await journal.settle();
    const events = opts.turns * opts['per-turn'];
    return { read: (read * 1000) / events, rest: ((performance.now() - started - read) * 1000) / events };
  };

  process.stderr.write(`warm-up pass, then ${opts.runs} timed passes of ${opts.turns} turns of ${opts['per-turn']} events\n`);
  await runPass(makePass());
  const passes: { read: number; rest: number }[] = [];
  for (let r = 0; r < opts.runs; r++) {
    passes.push(await runPass(makePass()));
    process.stderr.write(`pass ${r + 1}/${opts.runs}: read ${passes.at(-1)!.read.toFixed(2)} µs/event\n`);
  }

  // Allocation: one more pass under the sampling heap profiler, collected objects included.
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object): Promise<T> =>
    new Promise((resolve, reject) => session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T))));
  const heapPass = makePass();
  await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await runPass(heapPass);
  const { profile } = await post<{ profile: { head: SampleNode } }>('HeapProfiler.stopSampling');
  session.disconnect();
  interface SampleNode { selfSize: number; children: SampleNode[] }
  const total = (node: SampleNode): number => node.selfSize + node.children.reduce((sum, c) => sum + total(c), 0);
  const bytesPerEvent = total(profile.head) / (opts.turns * opts['per-turn']);

  const unacked = sockets.filter((s, i) => s.acked !== seqs[i]).length;
  const sent = seqs.reduce((a, b) => a + b, 0);
  if (unacked > 0 || durable !== sent) {
    console.error(`not every event was acknowledged: ${unacked} devices short, ${durable} of ${sent} durable`);
    process.exitCode = 1;
  } else {
    const figures = {
      readMicros: micros(passes.map((p) => p.read)),
      commitAndAcksMicros: micros(passes.map((p) => p.rest)),
      totalMicros: micros(passes.map((p) => p.read + p.rest)),
      allocatedBytesPerEvent: Math.round(bytesPerEvent),
    };
    console.log(`events: ${sent} from ${opts.devices} devices, all acknowledged; ${opts.runs} timed passes of ${opts.turns * opts['per-turn']}`);
    console.log('| per event | median | p10 | p90 |\n|---|---|---|---|');
    for (const [label, f] of [['reading (decode, checks, journal append)', figures.readMicros],
      ['commit and acks', figures.commitAndAcksMicros], ['all', figures.totalMicros]] as const) {
      console.log(`| ${label} | ${f.median} µs | ${f.p10} µs | ${f.p90} µs |`);
    }
    console.log(`allocated: about ${figures.allocatedBytesPerEvent} bytes an event (V8 sampling heap profiler, collected objects included)`);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/gateway.json', JSON.stringify({ machine, command, options: opts, figures, passes }, null, 2));
  }
} finally {
  gateway?.close();
  await db.root.close();
  rmSync(dir, { recursive: true, force: true });
}
