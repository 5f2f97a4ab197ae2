/**
 * The device swarm, orchestrator side: splits the devices over several load processes
 * (bench/swarm-load.ts) so that the generator is not the bottleneck, runs one measured interval
 * (connect, warm up, measure, stop and settle) and merges what the processes report into the
 * figures the report shows. While it runs it prints one progress line a second.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { EVENT_CATEGORY, type Category } from '../core/index.js';
import { addCounts, latencyFromEncoded, type LatencyFigures } from './suite-figures.js';
import { benchNodeArgs, cpuPercentBetween, type ProcSample } from './server-process.js';
import type { EventType, LoadMode, LoadResult, SwarmCommand, SwarmJob, SwarmMessage, SwarmProgress } from './swarm-protocol.js';

export interface SwarmOptions extends Omit<SwarmJob, 'tokens' | 'seed'> {
  label: string;
  tokens: string[];
  seed: number;
  procs: number;
  warmupSeconds: number;
  seconds: number;
  /** Longest wait after the interval for outstanding acks and alerts. */
  settleMs: number;
  /** Samples the server's process (CPU, memory) at the start and end of the measured interval. */
  sampleServer?: () => ProcSample | undefined;
  /** Called as the measured interval starts and as it ends (the ingest benchmark scrapes `/metrics` then). */
  atWindowEdge?: (edge: 'start' | 'end') => void;
  /** Called once every device is connected, before any event is sent (memory per connection). */
  afterConnect?: () => Promise<void>;
  progress: (line: string) => void;
  /** Aborted (Ctrl-C): the interval ends at once, the load processes are killed, and `runSwarm` rejects. */
  signal?: AbortSignal;
}

/** `acked`: events sent in the interval and acked; `ackedPerSecond`: acks that arrived in the interval, per second. */
export interface TypeFigures { sent: number; acked: number; ackedPerSecond: number; rejects: Record<string, number>; ack: LatencyFigures | undefined }
export interface AlertFigures { expected: number; seen: number; missing: number; latency: LatencyFigures | undefined }

export interface SwarmFigures {
  label: string;
  mode: LoadMode;
  devices: number;
  connected: number;
  connectFailures: number;
  firstConnectError?: string;
  procs: number;
  seconds: number;
  /** Open loop: the events/s the schedule asked for. */
  offeredPerSecond?: number;
  sentPerSecond: number;
  ackedPerSecond: number;
  ack: LatencyFigures | undefined;
  /** Open loop: how late the generator sent events, from their intended send time (part of `ack`). */
  sendLag?: LatencyFigures | undefined;
  types: Partial<Record<EventType, TypeFigures>>;
  /** Acked events/s per alert category (the categories' event types together). */
  categoryRates: Partial<Record<Category, number>>;
  alerts: Partial<Record<Category, AlertFigures>>;
  heartbeatMissed?: AlertFigures;
  rejects: Record<string, number>;
  unexpectedAlerts: Record<string, number>;
  captures: number;
  skipped: number;
  unacked: number;
  closes: Record<string, number>;
  /** CPU used by all load processes in the measured interval, percent of one core. */
  generatorCpuPercent: number;
  server?: { cpuPercent: number; rssMiB: number; anonMiB: number };
}

const READY_TIMEOUT_MS = 180_000;

function waitFor<T extends SwarmMessage['type']>(child: ChildProcess, type: T, timeoutMs: number, signal?: AbortSignal): Promise<Extract<SwarmMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return }
    const timer = setTimeout(() => { cleanup(); reject(new Error(`load process sent no ${type} within ${timeoutMs / 1000} s`)) }, timeoutMs);
    const onMessage = (m: SwarmMessage): void => { if (m.type === type) { cleanup(); resolve(m as Extract<SwarmMessage, { type: T }>) } };
    const onExit = (code: number | null): void => { cleanup(); reject(new Error(`load process exited with ${code} before ${type}`)) };
    const onAbort = (): void => { cleanup(); reject(signal!.reason) };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      signal?.removeEventListener('abort', onAbort);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs one measured interval of the swarm and returns its merged figures. */
export async function runSwarm(o: SwarmOptions): Promise<SwarmFigures> {
  const procs = Math.max(1, Math.min(o.procs, o.tokens.length));
  const script = fileURLToPath(new URL('./swarm-load.js', import.meta.url));
  const children = Array.from({ length: procs }, () => fork(script, [], { execArgv: [...process.execArgv, ...benchNodeArgs()], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const progress: SwarmProgress[] = children.map(() => ({ sent: 0, acked: 0, rejected: 0, alerts: 0 }));
  children.forEach((c, i) => c.on('message', (m: SwarmMessage) => { if (m.type === 'progress') progress[i] = m.progress }));
  const send = (cmd: SwarmCommand): void => { for (const c of children) if (c.connected) c.send(cmd) };
  let ticker: NodeJS.Timeout | undefined;
  try {
    const { label: _l, procs: _p, warmupSeconds: _w, seconds: _s, settleMs: _m, sampleServer: _ss, atWindowEdge: _e, afterConnect: _a, progress: _pr, signal, ...job } = o;
    const sleep = (ms: number): Promise<void> => delay(ms, undefined, { signal });
    children.forEach((c, i) => c.send({
      type: 'job', job: { ...job, tokens: o.tokens.filter((_, k) => k % procs === i), seed: o.seed + i * 7919 },
    } satisfies SwarmCommand));
    const ready = await Promise.all(children.map((c) => waitFor(c, 'ready', READY_TIMEOUT_MS, signal)));
    const connected = ready.reduce((a, r) => a + r.connected, 0);
    const failed = ready.reduce((a, r) => a + r.failed, 0);
    o.progress(`[${o.label}] ${connected} devices connected${failed > 0 ? `, ${failed} failed (${ready.find((r) => r.firstError)?.firstError})` : ''}`
      + `; warm-up ${o.warmupSeconds} s, then ${o.seconds} s measured`);
    await o.afterConnect?.();
    const started = performance.now();
    send({ type: 'start' });
    ticker = setInterval(() => {
      const t = (performance.now() - started) / 1000;
      const sum = progress.reduce((a, p) => ({ sent: a.sent + p.sent, acked: a.acked + p.acked, rejected: a.rejected + p.rejected, alerts: a.alerts + p.alerts }));
      o.progress(`[${o.label}] ${t.toFixed(0).padStart(3)}/${o.warmupSeconds + o.seconds} s  sent ${sum.sent}  acked ${sum.acked}`
        + `  rejected ${sum.rejected}  alerts ${sum.alerts}`);
    }, 1000);
    await sleep(o.warmupSeconds * 1000);
    send({ type: 'measure' });
    const before = o.sampleServer?.();
    o.atWindowEdge?.('start');
    await sleep(o.seconds * 1000);
    const after = o.sampleServer?.();
    o.atWindowEdge?.('end');
    const results = children.map((c) => waitFor(c, 'result', o.settleMs + 60_000, signal));
    send({ type: 'stop', settleMs: o.settleMs });
    const reports = (await Promise.all(results)).map((m) => m.result);
    clearInterval(ticker);
    const figures = merge(o, procs, connected, failed, reports);
    const firstError = ready.find((r) => r.firstError !== undefined)?.firstError;
    if (firstError !== undefined) figures.firstConnectError = firstError;
    if (before && after) {
      figures.server = {
        cpuPercent: cpuPercentBetween(before, after),
        rssMiB: Math.round(after.rssKiB / 1024), anonMiB: Math.round(after.anonKiB / 1024),
      };
    }
    return figures;
  } finally {
    clearInterval(ticker);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill();
  }
}

function merge(o: SwarmOptions, procs: number, connected: number, failed: number, reports: LoadResult[]): SwarmFigures {
  const seconds = Math.max(...reports.map((r) => r.seconds));
  const types: SwarmFigures['types'] = {};
  const categoryRates: SwarmFigures['categoryRates'] = {};
  const rejects: Record<string, number> = {};
  let sent = 0;
  let acked = 0;
  const typeNames = new Set(reports.flatMap((r) => Object.keys(r.types) as EventType[]));
  for (const t of typeNames) {
    const parts = reports.map((r) => r.types[t]).filter((x) => x !== undefined);
    const f: TypeFigures = {
      sent: parts.reduce((a, p) => a + p.sent, 0), acked: parts.reduce((a, p) => a + p.acked, 0),
      ackedPerSecond: Math.round(parts.reduce((a, p) => a + p.ackedInWindow, 0) / seconds),
      rejects: parts.reduce((a, p) => addCounts(a, p.rejects), {} as Record<string, number>),
      ack: latencyFromEncoded(parts.map((p) => p.histogram)),
    };
    types[t] = f;
    sent += f.sent;
    acked += parts.reduce((a, p) => a + p.ackedInWindow, 0);
    addCounts(rejects, f.rejects);
    const c = EVENT_CATEGORY[t];
    categoryRates[c] = (categoryRates[c] ?? 0) + f.ackedPerSecond;
  }
  const alerts: SwarmFigures['alerts'] = {};
  const categories = new Set(reports.flatMap((r) => Object.keys(r.alerts) as Category[]));
  for (const c of categories) {
    const parts = reports.map((r) => r.alerts[c]).filter((x) => x !== undefined);
    const expected = parts.reduce((a, p) => a + p.expected, 0);
    const seen = parts.reduce((a, p) => a + p.seen, 0);
    alerts[c] = { expected, seen, missing: Math.max(0, expected - seen), latency: latencyFromEncoded(parts.map((p) => p.histogram)) };
  }
  const figures: SwarmFigures = {
    label: o.label, mode: o.mode, devices: o.tokens.length, connected, connectFailures: failed, procs, seconds: Number(seconds.toFixed(2)),
    sentPerSecond: Math.round(sent / seconds), ackedPerSecond: Math.round(acked / seconds),
    ack: latencyFromEncoded(reports.flatMap((r) => Object.values(r.types).map((t) => t.histogram))),
    types, categoryRates, alerts, rejects,
    unexpectedAlerts: reports.reduce((a, r) => addCounts(a, r.unexpectedAlerts), {} as Record<string, number>),
    captures: reports.reduce((a, r) => a + r.captures, 0),
    skipped: reports.reduce((a, r) => a + r.skipped, 0),
    unacked: reports.reduce((a, r) => a + r.unacked, 0),
    closes: reports.reduce((a, r) => addCounts(a, r.closes), {} as Record<string, number>),
    generatorCpuPercent: Math.round((reports.reduce((a, r) => a + r.cpuMicros, 0) / 1e6 / seconds) * 100),
  };
  if (o.mode.kind === 'rate') {
    figures.offeredPerSecond = Math.round(o.mode.perDevice * o.tokens.length);
    figures.sendLag = latencyFromEncoded(reports.map((r) => r.sendLag));
  }
  if (o.mode.kind === 'silent') {
    const expected = reports.reduce((a, r) => a + r.heartbeatMissed.expected, 0);
    const seen = reports.reduce((a, r) => a + r.heartbeatMissed.seen, 0);
    figures.heartbeatMissed = { expected, seen, missing: Math.max(0, expected - seen),
      latency: latencyFromEncoded(reports.map((r) => r.heartbeatMissed.histogram)) };
  }
  return figures;
}
