/**
 * `vigil simulate`: a swarm of simulated devices over real WebSockets. Without `--token`, it enrols
 * its own devices in the data folder (which must be the running server's). It prints progress each
 * second and a summary at the end: events sent and acknowledged, rejects by code, alerts seen on the
 * feed for its devices, and ack latency percentiles.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { CATEGORIES, UsageError, loadConfig, type Category, type ConfigOverrides } from '../core/index.js';
import { RegistryStore, openDatabases } from '../store/index.js';
import type { Io } from './commands.js';
import { EventMix } from './event-mix.js';
import { SimDevice, type SimStats } from './sim-device.js';

const TICK_MS = 10;
const CONNECT_BATCH = 50;
const SETTLE_MS = 10_000;

function positiveNumber(raw: string | undefined, flag: string, dflt: number, allowZero = false): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new UsageError(`${flag} must be a ${allowZero ? 'non-negative' : 'positive'} number`);
  return n;
}

/** `ws://host:port/v1/device` from `http(s)://host:port` or `ws(s)://host:port[/v1/device]`. */
export function deviceUrl(raw: string): { device: string; base: string } {
  let u: URL;
  try { u = new URL(raw) } catch { throw new UsageError(`--url ${JSON.stringify(raw)} is not a URL`) }
  const scheme = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
  const host = u.host;
  return { device: `${scheme}//${host}/v1/device`, base: `${scheme === 'wss:' ? 'https:' : 'http:'}//${host}` };
}

async function enrolSwarm(overrides: ConfigOverrides, n: number, categories: Category[]): Promise<string[]> {
  const db = openDatabases(loadConfig(overrides).dataDir);
  try {
    const registry = new RegistryStore(db);
    const now = Date.now();
    // Each run's orders have their own terms (dates from now), and an order is never re-used with other terms.
    const run = randomBytes(4).toString('hex');
    const tokens: string[] = [];
    for (let i = 0; i < n; i++) {
      const { token } = await registry.enrol({
        subjectId: `sim-subject-${i}`, orderRef: `SIM-ORDER-${run}-${i}`, categories,
        from: now - 86_400_000, until: now + 30 * 86_400_000,
      });
      tokens.push(token);
    }
    const { token: consumer } = await registry.createConsumer();
    tokens.push(consumer);
    return tokens;
  } finally {
    await db.root.close();
  }
}

/** Counts alerts raised for the swarm's devices on the WebSocket feed, from the feed's head at start. */
async function watchFeed(base: string, token: string, devices: () => Set<string>, onAlert: () => void): Promise<() => void> {
  const res = await fetch(`${base}/v1/alerts?limit=1&after=${Number.MAX_SAFE_INTEGER}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`the feed refused the consumer token: HTTP ${res.status}`);
  const { head } = await res.json() as { head: number };
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/feed?after=${head}`, { headers: { authorization: `Bearer ${token}` } });
  ws.on('message', (data) => {
    // The feed also carries review and deletion notices: count alerts only.
    const ev = JSON.parse(String(data)) as { type?: string; data?: { deviceId?: string } };
    if (!ev.type?.startsWith('vigil.alert.')) return;
    if (ev.data?.deviceId !== undefined && devices().has(ev.data.deviceId)) onAlert();
  });
  ws.on('error', () => {});
  return () => ws.close();
}

export async function simulate(args: string[], io: Io, overrides: ConfigOverrides = {}): Promise<number> {
  const { values } = parseArgs({
    args, strict: true,
    options: {
      url: { type: 'string' }, devices: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' },
      token: { type: 'string', multiple: true }, 'tokens-file': { type: 'string' }, 'consumer-token': { type: 'string' },
      'hit-rate': { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' },
    },
  });
  if (values.url === undefined) throw new UsageError('--url is required, e.g. --url http://127.0.0.1:8080');
  const { device: url, base } = deviceUrl(values.url);
  const n = Math.floor(positiveNumber(values.devices, '--devices', 10));
  const rate = positiveNumber(values.rate, '--rate', 5, true);
  const seconds = positiveNumber(values.seconds, '--seconds', 10);
  const hitRate = positiveNumber(values['hit-rate'], '--hit-rate', 0.05, true);
  const seed = Math.floor(positiveNumber(values.seed, '--seed', 1, true));
  if (hitRate > 1) throw new UsageError('--hit-rate must be between 0 and 1');

  let tokens = [...(values.token ?? [])];
  if (values['tokens-file']) tokens.push(...readFileSync(values['tokens-file'], 'utf8').split(/\s+/).filter(Boolean));
  let consumer = values['consumer-token'];
  if (tokens.length === 0) {
    io.err(`enrolling ${n} simulated devices (subjects sim-subject-0..${n - 1}) in the data folder`);
    tokens = await enrolSwarm(overrides, n, [...CATEGORIES]);
    consumer ??= tokens.pop();
  }
  if (tokens.length < n) throw new UsageError(`${n} devices need ${n} tokens; ${tokens.length} given`);

  const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const stats: SimStats = {
    sent: 0, acked: 0, resent: 0, rejects: new Map(), captures: 0, reconnects: 0,
    ackLatencyUs: (us) => latency.recordValue(Math.min(us, 60_000_000)),
  };
  const devices = tokens.slice(0, n).map((t) => new SimDevice(url, t, stats));
  for (let i = 0; i < devices.length; i += CONNECT_BATCH) {
    await Promise.all(devices.slice(i, i + CONNECT_BATCH).map((d) => d.connect()));
  }
  io.err(`${n} devices connected to ${url}; sending ${rate > 0 ? `${rate} events/s each` : 'as fast as acks allow'} for ${seconds} s`);
  let alerts = 0;
  const ids = new Set(devices.map((d) => d.deviceId));
  const stopFeed = consumer ? await watchFeed(base, consumer, () => ids, () => { alerts++ }) : () => {};

  const mix = new EventMix(seed, hitRate);
  const started = performance.now();
  let owed = 0;
  let lastTick = started;
  let cursor = 0;
  let lastReport = started;
  while (performance.now() - started < seconds * 1000) {
    await new Promise((r) => setTimeout(r, TICK_MS));
    const now = performance.now();
    if (rate > 0) {
      owed += ((now - lastTick) / 1000) * rate * n;
      lastTick = now;
      for (; owed >= 1; owed--) {
        const d = devices[cursor++ % n] as SimDevice;
        if (d.canSend) d.send(mix.next());
      }
    } else {
      for (const d of devices) while (d.canSend && d.outstanding < 64) d.send(mix.next());
    }
    if (now - lastReport >= 1000) {
      lastReport = now;
      io.err(`t=${((now - started) / 1000).toFixed(0)}s sent=${stats.sent} acked=${stats.acked} rejects=${[...stats.rejects.values()].reduce((a, b) => a + b, 0)} alerts=${alerts} ack_p99=${(latency.getValueAtPercentile(99) / 1000).toFixed(1)}ms`);
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(devices.map((d) => d.settle(SETTLE_MS)));
  await new Promise((r) => setTimeout(r, 500)); // let the last alerts reach the feed
  for (const d of devices) d.close();
  stopFeed();
  const unacked = devices.reduce((a, d) => a + d.outstanding, 0);
  const summary = {
    devices: n, seconds: Number(elapsed.toFixed(2)), sent: stats.sent, acked: stats.acked, unacked,
    resent: stats.resent, reconnects: stats.reconnects,
    rejects: Object.fromEntries(stats.rejects), alertsSeen: alerts, capturesRequested: stats.captures,
    ackedPerSecond: Math.round(stats.acked / elapsed),
    ackLatencyMs: {
      p50: latency.getValueAtPercentile(50) / 1000, p90: latency.getValueAtPercentile(90) / 1000,
      p99: latency.getValueAtPercentile(99) / 1000, max: latency.maxValue / 1000,
    },
  };
  if (values.json) io.out(JSON.stringify(summary));
  else {
    io.out(`devices            ${summary.devices}`);
    io.out(`events sent        ${summary.sent} (${summary.resent} resent after reconnects)`);
    io.out(`events acked       ${summary.acked} (${summary.ackedPerSecond}/s), unacked at end ${unacked}`);
    io.out(`rejects            ${JSON.stringify(summary.rejects)}`);
    io.out(`alerts seen        ${alerts}${consumer ? '' : ' (no consumer token: feed not watched)'}`);
    io.out(`captures requested ${stats.captures}`);
    io.out(`ack latency        p50 ${summary.ackLatencyMs.p50.toFixed(2)} ms, p90 ${summary.ackLatencyMs.p90.toFixed(2)} ms, p99 ${summary.ackLatencyMs.p99.toFixed(2)} ms, max ${summary.ackLatencyMs.max.toFixed(2)} ms`);
  }
  return unacked === 0 ? 0 : 1;
}
