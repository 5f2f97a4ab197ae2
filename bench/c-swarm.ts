/**
 * The ingest benchmark's open-loop swarm driven by bench/devices.c instead of Node load processes
 * (`node dist/bench/ingest.js --generator c`): the same devices, event mix, schedule and latency measure, with the
 * generator's own CPU cut to what the socket work costs. The program is compiled here with the system's C compiler
 * into a temporary folder, once a run. What it prints is turned into the figures ingest.js reports.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpuPercentBetween, type ProcSample } from './server-process.js';
import type { Percentiles } from './suite-figures.js';
import { encodeFields } from './swarm-frames.js';
import { SwarmMix } from './swarm-mix.js';
import type { EventShares } from './swarm-protocol.js';

/** The figures ingest.js reports of a load run, whichever generator drove it. */
export interface LoadFigures {
  seconds: number;
  ackedPerSecond: number;
  ack: Quantiles | undefined;
  sendLag?: Quantiles | undefined;
  rejects: Record<string, number>;
  generatorCpuPercent: number;
  server?: { cpuPercent: number } | undefined;
  skipped: number;
  unacked: number;
  closes: Record<string, number>;
}

export type Quantiles = Omit<Percentiles, 'count' | 'mean'>;

export interface CSwarmOptions {
  host: string;
  port: number;
  tokens: readonly string[];
  perDevice: number;
  shares: EventShares;
  hitRate: number;
  seed: number;
  warmupSeconds: number;
  seconds: number;
  settleSeconds: number;
  sampleServer: () => ProcSample | undefined;
  atWindowEdge: (edge: 'start' | 'end') => void;
  progress: (line: string) => void;
}

/** Events the program cycles through, as the Node swarm does (bench/swarm-frames.ts). */
const ENCODED_EVENTS = 4096;
const SOURCE = fileURLToPath(new URL('../../bench/devices.c', import.meta.url));

let compiled: { dir: string; binary: string } | undefined;

/** Compiles bench/devices.c once per process; the binary is removed when the process exits. */
function binary(): string {
  if (compiled) return compiled.binary;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-devices-'));
  const out = join(dir, 'devices');
  try {
    execFileSync(process.env.CC ?? 'cc', ['-O2', '-Wall', '-o', out, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`--generator c needs a C compiler (cc, or $CC) to build ${SOURCE}: ${stderr || (err as Error).message}`);
  }
  compiled = { dir, binary: out };
  process.once('exit', () => { if (compiled) rmSync(compiled.dir, { recursive: true, force: true }) });
  return out;
}

/** The spec file bench/devices.c reads: a header line, the tokens, then each event's entry count and bytes in hex. */
function writeSpec(path: string, o: CSwarmOptions): void {
  const mix = new SwarmMix(o.seed, o.shares, o.hitRate, 0, { listed: [], unlisted: [] });
  const lines = [`${o.host} ${o.port} ${o.perDevice} ${o.warmupSeconds} ${o.seconds} ${o.settleSeconds} ${o.seed} ${o.tokens.length}`, ...o.tokens, String(ENCODED_EVENTS)];
  for (let i = 0; i < ENCODED_EVENTS; i++) {
    const e = encodeFields(mix.next());
    lines.push(`${e.count} ${e.entries.toString('hex')}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

interface Printed {
  seconds: number; sent: number; ackedPerSecond: number; cpuPercent: number; unacked: number; skipped: number; closes: number;
  rejected: number; rejects: Record<string, number>; ack: Quantiles & { count: number }; sendLag: Quantiles & { count: number };
}

const quantiles = (q: Quantiles & { count: number }): Quantiles | undefined =>
  (q.count === 0 ? undefined : { p50: q.p50, p90: q.p90, p99: q.p99, p999: q.p999, max: q.max });

/** Runs one measured interval with the C generator and returns its figures. */
export async function runCSwarm(o: CSwarmOptions): Promise<LoadFigures> {
  const exe = binary();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-devices-spec-'));
  try {
    const spec = join(dir, 'spec');
    writeSpec(spec, o);
    const child = spawn(exe, [spec], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => o.progress(`[c generator] ${String(d).trim()}`));
    let before: ProcSample | undefined;
    let after: ProcSample | undefined;
    let printed: Printed | undefined;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line === 'measure') { before = o.sampleServer(); o.atWindowEdge('start'); o.progress('[c generator] measuring') }
      else if (line === 'end') { after = o.sampleServer(); o.atWindowEdge('end'); o.progress('[c generator] settling') }
      else if (line.startsWith('{')) printed = JSON.parse(line) as Printed;
    });
    // 'close' comes after the child's output has been read to its end, so its last line is in.
    const code = await new Promise<number | null>((resolve, reject) => { child.once('error', reject); child.once('close', resolve) });
    if (code !== 0 || printed === undefined) throw new Error(`the C generator exited with ${code} and ${printed ? 'its figures' : 'no figures'}`);
    const p = printed;
    return {
      seconds: p.seconds, ackedPerSecond: p.ackedPerSecond, ack: quantiles(p.ack), sendLag: quantiles(p.sendLag), rejects: p.rejects,
      generatorCpuPercent: Math.round(p.cpuPercent), skipped: p.skipped, unacked: p.unacked,
      closes: p.closes > 0 ? { closed: p.closes } : {},
      server: before && after ? { cpuPercent: cpuPercentBetween(before, after) } : undefined,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
