/**
 * Question: how many events per second can ingest acknowledge durably, and with what ack latency,
 * with 1,000 devices connected and the load generator on the same machine?
 *
 * Starts Vigil (`vigil serve`, full path: scope checks, journal, matching in workers, alerts), the
 * baseline (a minimal `ws` server doing only the same journaling) and the floor (bench/floor-uws-server.ts:
 * a uWebSockets.js server that acks without storing anything, what the machine does at all) one after
 * the other on fresh data folders, drives each with the same device swarm (bench/swarm.ts: an open-loop `--rate` per device
 * with latency from the intended send time, or with `--rate 0` a closed loop where each device keeps
 * `--window` events unacknowledged), and reports acked events/s, ack latency percentiles, and Vigil's
 * ratios to the baseline and the floor. For Vigil it also prints how old frames were when the server read them
 * (`vigil_event_age_seconds`) and the server's own part of the ack latency, from reading a frame to sending its ack
 * (`vigil_ack_latency_seconds`), both scraped from `/metrics` as the measured interval starts and ends
 * (bench/prom-histogram.ts). The whole suite (`vigil bench`) measures more; this is its ingest question alone.
 * Run: node dist/bench/ingest.js [--devices 1000] [--seconds 10] [--warmup 3] [--rate 50] [--window 32]
 *   [--procs 1] [--only vigil|baseline|floor] [--seed 1] [--hit-rate 0.02] [--workers 1] [--rounds 1] [--generator node|c]
 * `--generator c` drives the same open loop from bench/devices.c (compiled here with `cc`), a generator that costs
 * the shared cores about 0.55 of a core at 50,000 events/s where the Node swarm costs 0.75-0.9 (bench/README.md).
 * With `--rounds N` the servers take turns N times (this machine is shared and noisy) and the summary gives
 * each server's median over its rounds, and the ratios of those medians.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDataDir } from './suite-data.js';
import { startServer, type Target } from './server-process.js';
import { runSwarm } from './swarm.js';
import { runCSwarm, type LoadFigures } from './c-swarm.js';
import { benchCommand } from './bench-command.js';
import { benchMachine, machineLine } from './suite-machine.js';
import { atMost, histogramDelta, loopBusyShare, readHistogram, type HistogramDelta } from './prom-histogram.js';

const TARGETS: readonly Target[] = ['vigil', 'baseline', 'floor'];
const { values } = benchCommand({
  run: 'node dist/bench/ingest.js',
  summary: 'How many events a second ingest acknowledges durably, and with what ack latency, with the load generator on the\n'
    + 'same machine: Vigil (vigil serve), the baseline (bench/baseline-ws-server.js) and the floor\n'
    + '(bench/floor-uws-server.js), one after the other on fresh data folders, driven by the same device swarm.',
  options: {
    devices: { kind: 'int', default: 1000, min: 1, help: 'devices connected' },
    seconds: { kind: 'number', default: 10, min: 0.1, help: 'measured seconds' },
    warmup: { kind: 'number', default: 3, min: 0, help: 'warm-up seconds before measuring' },
    rate: { kind: 'number', default: 50, min: 0, help: 'events/s per device, open loop; 0: closed loop with --window' },
    window: { kind: 'int', default: 32, min: 1, help: 'closed loop (--rate 0): events each device keeps unacknowledged' },
    procs: { kind: 'int', default: 1, min: 1, help: 'load generator processes' },
    only: { kind: 'string', choices: TARGETS, help: 'measure one server (default all three)' },
    seed: { kind: 'int', default: 1, min: 0, help: 'seed of the event mix' },
    'hit-rate': { kind: 'number', default: 0.02, min: 0, max: 1, help: 'share of events carrying a listed term, domain or app' },
    workers: { kind: 'int', default: 1, min: 1, max: 64, help: 'Vigil\'s matcher threads (VIGIL_WORKERS)' },
    rounds: { kind: 'int', default: 1, min: 1, max: 20, help: 'turns the servers take (medians over them)' },
    generator: { kind: 'string', default: 'node', choices: ['node', 'c'], help: 'the swarm (node) or bench/devices.c, built with cc (c)' },
  },
  check: (o) => (o.generator === 'c' && o.rate <= 0
    ? '--generator c drives the open loop only: give --rate a positive number of events a second per device' : undefined),
});
const { devices, seconds, warmup, window: windowSize, rate, seed, 'hit-rate': hitRate, rounds, generator } = values;
/** The simulator's default mix, without images (see bench/README.md). */
const SHARES = { text: 0.4, dns: 0.25, url: 0.15, app: 0.05, heartbeat: 0.1, location: 0.05 };

interface RunResult {
  target: Target; ackedPerSecond: number; acked: number; rejects: Record<string, number>; latencyMs: Record<string, number>; figures: LoadFigures;
  /** Vigil only: its own ack latency in the measured interval, from reading a frame to sending the ack (`/metrics`). */
  serverAck?: HistogramDelta | undefined;
  /** Vigil only: how old frames were when it read them, from the `at` the generator stamped as it sent them. */
  ageAtRead?: HistogramDelta | undefined;
  /** Vigil only: how long each group commit held its event loop (`vigil_journal_commit_seconds`). */
  commit?: HistogramDelta | undefined;
  /** Vigil only: share of the measured interval its main thread's event loop spent running callbacks. */
  loopBusy?: number | undefined;
}

const ACK_HISTOGRAM = 'vigil_ack_latency_seconds';
const AGE_HISTOGRAM = 'vigil_event_age_seconds';
const COMMIT_HISTOGRAM = 'vigil_journal_commit_seconds';

/**
 * `/metrics` of the server on `port`; an empty text when it cannot be read (the figures are then left out). With
 * `node:http` rather than `fetch`, whose first call loads and compiles undici: CPU this process would spend at the
 * start of the measured interval, beside a server and a generator that already share two cores. The server is also
 * scraped once before any load, so that nothing is done for the first time mid-run (bench/README.md).
 */
function scrapeMetrics(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/metrics', timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk });
      res.on('end', () => resolve(res.statusCode === 200 ? body : ''));
      res.on('error', () => resolve(''));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(''));
  });
}

async function runOne(target: Target): Promise<RunResult> {
  const dataDir = mkdtempSync(join(tmpdir(), `vigil-bench-${target}-`));
  try {
    process.stderr.write(`[${target}] enrolling ${devices} devices\n`);
    const creds = await prepareDataDir(dataDir, devices, {
      ingest: { deviceRatePerSecond: 1_000_000, deviceBurst: 1_000_000 }, journal: { maxBatch: 8192 },
    }, undefined);
    const server = await startServer(target, dataDir, { VIGIL_WORKERS: String(values.workers) });
    const scrapes: Promise<string>[] = [];
    try {
      const atWindowEdge = (): void => { if (target === 'vigil') scrapes.push(scrapeMetrics(server.port)) };
      const progress = (line: string): void => { process.stderr.write(`${line}\n`) };
      let f: LoadFigures;
      if (generator === 'c') {
        if (target === 'vigil') await scrapeMetrics(server.port);
        f = await runCSwarm({
          host: '127.0.0.1', port: server.port, tokens: creds.tokens, perDevice: rate, shares: SHARES, hitRate, seed,
          warmupSeconds: warmup, seconds, settleSeconds: 10, sampleServer: () => server.sample(), atWindowEdge, progress,
        });
      } else {
        f = await runSwarm({
          label: target, host: '127.0.0.1', port: server.port, tokens: creds.tokens, feedAfter: 0,
          mode: rate > 0 ? { kind: 'rate', perDevice: rate } : { kind: 'window', window: windowSize },
          shares: SHARES, hitRate, listedImageShare: 0, images: { listed: [], unlisted: [] }, answerCaptures: false,
          heartbeatGraceSeconds: 30, seed, procs: values.procs, connectConcurrency: 128,
          warmupSeconds: warmup, seconds, settleMs: 10_000, sampleServer: () => server.sample(),
          afterConnect: async () => { if (target === 'vigil') await scrapeMetrics(server.port) },
          atWindowEdge, progress,
        });
      }
      const l = f.ack;
      const [before, after] = await Promise.all(scrapes);
      if (target === 'vigil' && (!before || !after)) process.stderr.write('[vigil] /metrics could not be read; the server-side figures are left out\n');
      const delta = (name: string) => (before && after ? histogramDelta(readHistogram(before, name), readHistogram(after, name)) : undefined);
      return {
        serverAck: delta(ACK_HISTOGRAM), ageAtRead: delta(AGE_HISTOGRAM), commit: delta(COMMIT_HISTOGRAM), loopBusy: before && after ? loopBusyShare(before, after) : undefined,
        target, figures: f, acked: Math.round(f.ackedPerSecond * f.seconds), ackedPerSecond: f.ackedPerSecond, rejects: f.rejects,
        latencyMs: { p50: l?.p50 ?? NaN, p90: l?.p90 ?? NaN, p99: l?.p99 ?? NaN, p999: l?.p999 ?? NaN, max: l?.max ?? NaN },
      };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const machine = benchMachine();
const command = `node dist/bench/ingest.js ${process.argv.slice(2).join(' ')}`.trim();
console.log(machineLine(machine));
console.log(`command: ${command}`);
console.log(`load: ${generator === 'c' ? 'C generator (bench/devices.c), ' : ''}${devices} devices, ${rate > 0 ? `open loop at ${rate} events/s each (${rate * devices} offered), latency from intended send time` : `closed loop, window ${windowSize}`}, ${values.procs} generator process(es), seed ${seed}, hit rate ${hitRate}, measured ${seconds} s after ${warmup} s warm-up`);
const targets = values.only !== undefined ? [values.only] : TARGETS;
const runs: (RunResult & { round: number })[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const t of targets) {
    if (rounds > 1) process.stderr.write(`round ${round} of ${rounds}: ${t}\n`);
    runs.push({ ...(await runOne(t)), round });
  }
}
/** p50 and p99 at bucket resolution. */
const quantiles = (a: HistogramDelta | undefined): string =>
  (a === undefined ? '–' : `${atMost(a.p50AtMostMs, a.lastBoundMs)} / ${atMost(a.p99AtMostMs, a.lastBoundMs)}`);
/** Vigil's own ack latency: its quantiles, and the share acked within 50 ms of being read. */
const ownAck = (a: HistogramDelta | undefined): string => {
  const within50 = a?.within.find((w) => w.ms === 50)?.share;
  return `${quantiles(a)}${within50 === undefined ? '' : `, ${(within50 * 100).toFixed(2)}% ≤ 50 ms`}`;
};
/** Group commits a second over the measured interval, and how long each held the event loop. */
const commits = (r: RunResult): string =>
  (r.commit === undefined ? '–' : `${Math.round(r.commit.count / r.figures.seconds)}, ${quantiles(r.commit)}`);
const busy = (share: number | undefined): string => (share === undefined ? '–' : `${(share * 100).toFixed(1)}%`);
console.log(`\n|${rounds > 1 ? ' round |' : ''} server | acked events/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | rejects | server CPU | generator CPU | send lag p50 / p99 ms | age at read p50 / p99 | server's own ack p50 / p99 | event loop busy | commits/s, each p50 / p99 |`);
console.log(`|${rounds > 1 ? '---|' : ''}---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`);
for (const r of runs) {
  console.log(`|${rounds > 1 ? ` ${r.round} |` : ''} ${r.target} | ${r.ackedPerSecond} | ${r.latencyMs.p50} | ${r.latencyMs.p90} | ${r.latencyMs.p99} | ${r.latencyMs.p999} | ${r.latencyMs.max} `
    + `| ${JSON.stringify(r.rejects)} | ${r.figures.server?.cpuPercent ?? '–'}% | ${r.figures.generatorCpuPercent}% `
    + `| ${r.figures.sendLag ? `${r.figures.sendLag.p50} / ${r.figures.sendLag.p99}` : '–'} | ${quantiles(r.ageAtRead)} | ${ownAck(r.serverAck)} | ${busy(r.loopBusy)} | ${commits(r)} |`);
}
if (runs.some((r) => r.serverAck !== undefined)) {
  console.log(`\nage at read: Vigil's ${AGE_HISTOGRAM}, from the time the generator stamped in the frame as it sent it (one `
    + 'clock reading per 2 ms tick) to the server reading the frame: time in the socket, while the server\'s event loop '
    + `serves other sockets or waits for a core. server's own ack: its ${ACK_HISTOGRAM}, from reading the frame to sending `
    + 'its durable ack. Both over the measured interval (from /metrics), at bucket resolution; the rest of the generator\'s '
    + 'figure is its send lag and the time until it reads the ack. event loop busy: the share of the interval Vigil\'s main '
    + 'thread (device sockets, commits, acks) spent running callbacks rather than waiting for events '
    + '(vigil_event_loop_seconds_total). commits: journal group commits a second, and how long each one held the event '
    + 'loop, disk sync included (vigil_journal_commit_seconds). The baseline and the floor export no metrics.');
}
for (const r of runs) {
  const f = r.figures;
  if (f.skipped > 0 || f.unacked > 0 || Object.keys(f.closes).length > 0) {
    console.log(`${r.target}${rounds > 1 ? ` (round ${r.round})` : ''}: ${f.skipped} events not sent (device disconnected), `
      + `${f.unacked} unacknowledged, socket closes ${JSON.stringify(f.closes)}`);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/** Per server, the median over its rounds of throughput and of each latency percentile. */
const medians = new Map(targets.map((t) => {
  const mine = runs.filter((r) => r.target === t);
  const of = (key: string) => median(mine.map((r) => r.latencyMs[key] ?? NaN));
  const round2 = (x: number) => Number(x.toFixed(2));
  return [t, { ackedPerSecond: Math.round(median(mine.map((r) => r.ackedPerSecond))), p50: round2(of('p50')), p99: round2(of('p99')) }];
}));
if (rounds > 1) {
  console.log(`\nmedians over ${rounds} rounds:`);
  for (const [t, m] of medians) console.log(`  ${t}: ${m.ackedPerSecond} acked events/s, p50 ${m.p50} ms, p99 ${m.p99} ms`);
  const own = runs.filter((r) => r.target === 'vigil').map((r) => r.serverAck?.within.find((w) => w.ms === 50)?.share);
  if (own.length > 0 && own.every((x) => x !== undefined)) {
    console.log(`  vigil's own acks within 50 ms of reading the frame: median ${(median(own as number[]) * 100).toFixed(2)}%`);
  }
  const loop = runs.filter((r) => r.target === 'vigil').map((r) => r.loopBusy);
  if (loop.length > 0 && loop.every((x) => x !== undefined)) {
    console.log(`  vigil's event loop busy: median ${busy(median(loop as number[]))} of the measured interval`);
  }
}
const v = medians.get('vigil');
const b = medians.get('baseline');
const f = medians.get('floor');
const ratio = v && b ? Number((v.ackedPerSecond / b.ackedPerSecond).toFixed(2)) : undefined;
if (v && b) console.log(`\nvigil / baseline throughput: ${ratio}x; p99 ${v.p99} ms vs ${b.p99} ms`);
if (v && f) {
  console.log(`vigil / floor throughput: ${(v.ackedPerSecond / f.ackedPerSecond).toFixed(2)}x; `
    + `p99 ${v.p99} ms vs ${f.p99} ms (${(v.p99 / f.p99).toFixed(1)}x)`);
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/ingest.json', JSON.stringify({ machine, command, devices, rate, window: windowSize, seed, seconds, rounds,
  runs: runs.map(({ figures: _f, ...r }) => r), medians: Object.fromEntries(medians), ratio }, null, 2));
