/**
 * Question: how many events per second can ingest acknowledge durably, and with what ack latency,
 * with 1,000 devices connected and the load generator on the same machine?
 *
 * Starts Vigil (`vigil serve`, full path: scope checks, journal, matching in workers, alerts) and the
 * baseline (a minimal `ws` server doing only the same journaling) one after the other on fresh data
 * folders, drives each with the same closed-loop load (each device keeps `--window` events
 * unacknowledged, or an open-loop `--rate` per device), and reports acked events/s and ack latency percentiles, and Vigil's ratio to the
 * baseline. Run: node dist/bench/ingest.js [--devices 1000] [--seconds 10] [--warmup 3] [--window 32]
 *   [--procs 1] [--only vigil|baseline] [--seed 1]
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import hdr from 'hdr-histogram-js';
import { RegistryStore, openDatabases } from '../store/index.js';
import type { LoadCommand, LoadReport } from './ingest-load.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' }, window: { type: 'string', default: '32' }, rate: { type: 'string', default: '50' },
    procs: { type: 'string', default: '1' }, only: { type: 'string' }, seed: { type: 'string', default: '1' },
    'hit-rate': { type: 'string', default: '0.02' }, workers: { type: 'string', default: '1' },
  },
});
const devices = Number(values.devices);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const windowSize = Number(values.window);
const rate = Number(values.rate);
const procs = Number(values.procs);
const seed = Number(values.seed);
const hitRate = Number(values['hit-rate']);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

async function enrolAll(dataDir: string, n: number): Promise<string[]> {
  const db = openDatabases(dataDir);
  const registry = new RegistryStore(db);
  const now = Date.now();
  const tokens = await Promise.all(Array.from({ length: n }, (_, i) => registry.enrol({
    subjectId: `bench-subject-${i}`, orderRef: `BENCH-${i}`, categories: ['keyboard', 'web', 'image', 'heartbeat', 'location'],
    from: now - 86_400_000, until: now + 86_400_000,
  }).then((r) => r.token)));
  await db.root.close();
  return tokens;
}

function startProcess(target: 'vigil' | 'baseline', dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const args = target === 'vigil'
    ? [here('../cli/run.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--data', dataDir]
    : [here('./baseline-ws-server.js'), dataDir];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, VIGIL_LOG_LEVEL: 'info', VIGIL_EVIDENCE_KEY: 'b'.repeat(64), VIGIL_WORKERS: String(values.workers) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${target} exited with ${code}: ${out}`)));
  });
}

interface RunResult { target: string; ackedPerSecond: number; acked: number; rejects: Record<string, number>; latencyMs: Record<string, number> }

async function runOne(target: 'vigil' | 'baseline'): Promise<RunResult> {
  const dataDir = mkdtempSync(join(tmpdir(), `vigil-bench-${target}-`));
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'vigil.json'), JSON.stringify({
    ingest: { deviceRatePerSecond: 1_000_000, deviceBurst: 1_000_000 }, journal: { maxBatch: 8192 },
  }));
  try {
    process.stderr.write(`[${target}] enrolling ${devices} devices\n`);
    const tokens = await enrolAll(dataDir, devices);
    const { child, port } = await startProcess(target, dataDir);
    const loaders = Array.from({ length: procs }, () => fork(here('./ingest-load.js'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const ready = loaders.map((l) => new Promise<void>((res) => l.once('message', () => res())));
    loaders.forEach((l, i) => l.send({
      type: 'job', job: { host: '127.0.0.1', port, tokens: tokens.filter((_, k) => k % procs === i), window: windowSize, rate, seed: seed + i, hitRate },
    } satisfies LoadCommand));
    await Promise.all(ready);
    process.stderr.write(`[${target}] ${devices} devices connected; warming up ${warmup} s, then measuring ${seconds} s\n`);
    await new Promise((r) => setTimeout(r, warmup * 1000));
    const results = loaders.map((l) => new Promise<LoadReport>((res) => l.on('message', (m: LoadReport) => { if (m.type === 'result') res(m) })));
    for (const l of loaders) l.send({ type: 'measure' } satisfies LoadCommand);
    for (let s = 1; s <= seconds; s++) {
      await new Promise((r) => setTimeout(r, 1000));
      process.stderr.write(`[${target}] ${s}/${seconds} s\n`);
    }
    for (const l of loaders) l.send({ type: 'stop' } satisfies LoadCommand);
    const reports = (await Promise.all(results)) as Extract<LoadReport, { type: 'result' }>[];
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
    for (const r of reports) h.add(hdr.decodeFromCompressedBase64(r.histogram));
    const acked = reports.reduce((a, r) => a + r.acked, 0);
    const secs = Math.max(...reports.map((r) => r.seconds));
    const rejects: Record<string, number> = {};
    for (const r of reports) for (const [k, v] of Object.entries(r.rejects)) rejects[k] = (rejects[k] ?? 0) + v;
    const ms = (p: number) => Number((h.getValueAtPercentile(p) / 1000).toFixed(2));
    return { target, acked, ackedPerSecond: Math.round(acked / secs), rejects,
      latencyMs: { p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9), max: Number((h.maxValue / 1000).toFixed(2)) } };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const command = `node dist/bench/ingest.js ${process.argv.slice(2).join(' ')}`.trim();
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, node ${machine.node}`);
console.log(`command: ${command}`);
console.log(`load: ${devices} devices, ${rate > 0 ? `open loop at ${rate} events/s each (${rate * devices} offered), latency from intended send time` : `closed loop, window ${windowSize}`}, ${procs} generator process(es), seed ${seed}, hit rate ${hitRate}, measured ${seconds} s after ${warmup} s warm-up`);
const targets = values.only ? [values.only as 'vigil' | 'baseline'] : (['vigil', 'baseline'] as const);
const runs: RunResult[] = [];
for (const t of targets) runs.push(await runOne(t));
console.log('\n| server | acked events/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | rejects |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of runs) {
  console.log(`| ${r.target} | ${r.ackedPerSecond} | ${r.latencyMs.p50} | ${r.latencyMs.p90} | ${r.latencyMs.p99} | ${r.latencyMs.p999} | ${r.latencyMs.max} | ${JSON.stringify(r.rejects)} |`);
}
const v = runs.find((r) => r.target === 'vigil');
const b = runs.find((r) => r.target === 'baseline');
const ratio = v && b ? Number((v.ackedPerSecond / b.ackedPerSecond).toFixed(2)) : undefined;
if (ratio !== undefined) console.log(`\nvigil / baseline throughput: ${ratio}x; p99 ${v!.latencyMs.p99} ms vs ${b!.latencyMs.p99} ms`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/ingest.json', JSON.stringify({ machine, command, devices, rate, window: windowSize, seed, seconds, runs, ratio }, null, 2));
