/**
 * `vigil simulate`: a swarm of simulated devices over real WebSockets. Without `--token`/`--tokens-file`, it
 * enrols its own devices and a feed consumer in the data folder (which must be the running server's), audited,
 * and revokes them when the run ends or is stopped by a signal (cli/swarm-enrolment.ts). It prints progress each
 * second and a summary at the end: events sent and acknowledged, rejects by code, what set the pace (the --rate
 * asked, the server's acks, or its RATE_LIMITED refusals), alerts seen on the feed for its devices, and ack latency
 * percentiles. Its devices behave as a well-written app does (cli/sim-device.ts): refused RATE_LIMITED, they back off
 * and send the event again, so that a run measures the server rather than how fast its rate limiter says no.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { CATEGORIES, ConnectError, FileError, UsageError, loadConfig, type ConfigOverrides } from '../core/index.js';
import type { Io } from './commands.js';
import { EventMix } from './event-mix.js';
import { MAX_OUTSTANDING, SimDevice, type SimStats } from './sim-device.js';
import { STOP_SIGNALS, signalExitCode } from './stop-signals.js';
import { enrolSwarm, retireSwarm, type Swarm } from './swarm-enrolment.js';

const TICK_MS = 10;
/** With --rate 0, each device's events in flight at most: enough to keep a loopback server busy. */
const FLAT_OUT_WINDOW = 64;
const CONNECT_BATCH = 50;
const SETTLE_MS = 10_000;
/** After a stop signal, how long the events in flight get to be acknowledged before the run winds up. */
const SETTLE_INTERRUPTED_MS = 1000;

/** A number from the command line; '' and '  ' are not 0. */
function numberFlag(raw: string | undefined, flag: string, dflt: number, check: (n: number) => boolean, what: string): number {
  if (raw === undefined) return dflt;
  const n = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`${flag} must be ${what}, got ${JSON.stringify(raw)}`);
  return n;
}
const positiveInteger = (n: number): boolean => Number.isSafeInteger(n) && n > 0;

const URL_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:']);
const URL_EXAMPLE = 'e.g. http://127.0.0.1:8080';

/**
 * `ws://host:port/v1/device` from `http(s)://host:port` or `ws(s)://host:port[/v1/device]`. Anything else is refused
 * rather than dropped: a path, query or credentials would not be used, and another scheme is no Vigil server.
 * (WHATWG URL gives these schemes a host always: `http://` alone does not parse.)
 */
export function deviceUrl(raw: string): { device: string; base: string } {
  let u: URL | undefined;
  try { u = new URL(raw) } catch { /* below */ }
  if (u === undefined && raw.includes('://')) throw new UsageError(`--url ${JSON.stringify(raw)} is not a URL; ${URL_EXAMPLE}`);
  if (u === undefined || !URL_SCHEMES.has(u.protocol)) {
    throw new UsageError(`--url ${JSON.stringify(raw)} must be http, https, ws or wss with the server's host, ${URL_EXAMPLE}`);
  }
  if (!['/', '/v1/device'].includes(u.pathname) || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') {
    throw new UsageError(`--url ${JSON.stringify(raw)}: simulate connects to /v1/device on the server; give its address alone, ${URL_EXAMPLE}`);
  }
  const scheme = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
  const host = u.host;
  return { device: `${scheme}//${host}/v1/device`, base: `${scheme === 'wss:' ? 'https:' : 'http:'}//${host}` };
}

/** Counts alerts raised for the swarm's devices on the WebSocket feed, from the feed's head at start. */
async function watchFeed(base: string, token: string, devices: () => Set<string>, onAlert: () => void): Promise<() => void> {
  let res: Response;
  try {
    res = await fetch(`${base}/v1/alerts?limit=1`, { headers: { authorization: `Bearer ${token}` } });
  } catch (err) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND) is in its cause.
    const reason = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    throw new ConnectError(`could not reach ${base}: ${reason}; check --url and that the server is running`, { cause: err });
  }
  if (res.status === 401) {
    throw new ConnectError(`the feed at ${base} refused the consumer token (HTTP 401): check --consumer-token, or that --data names the running server's data folder`);
  }
  if (!res.ok) throw new ConnectError(`the feed at ${base} answered HTTP ${res.status}`);
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

/** Why a device could not connect, as one line that says what to check. */
function connectFailure(err: unknown, url: string, enrolled: boolean, dataDir: string): ConnectError {
  const status = (err as { status?: number }).status;
  if (status === 401) {
    return new ConnectError(`the server at ${url} refused a device token (HTTP 401): ${enrolled
      ? `the devices were enrolled in ${dataDir}; check that --data (or VIGIL_DATA) names the running server's data folder`
      : 'check the tokens given (--token, --tokens-file): revoked, expired, or from another server\'s data folder'}`, { cause: err });
  }
  const reason = (err as Error).message ?? String(err);
  return new ConnectError(`could not connect a device to ${url}: ${reason}; check --url and that the server is running`, { cause: err });
}

const OPTIONS = {
  url: { type: 'string' }, devices: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' },
  token: { type: 'string', multiple: true }, 'tokens-file': { type: 'string' }, 'consumer-token': { type: 'string' },
  'hit-rate': { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' },
} as const;

/**
 * The arguments with a negative number after an option that takes a value joined to it (`--rate -1` as
 * `--rate=-1`), so that it is checked as a number and refused as one; parseArgs would take it for an option and say
 * the argument is "ambiguous". Another option in a value's place is refused here in one line.
 */
function joinNegativeValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    const takesValue = arg.startsWith('--') && (OPTIONS as Record<string, { type: string }>)[arg.slice(2)]?.type === 'string';
    if (!takesValue || next === undefined || !next.startsWith('-')) { out.push(arg); continue }
    if (!/^-[\d.]/.test(next)) throw new UsageError(`${arg} needs a value (got the option ${next})`);
    out.push(`${arg}=${next}`);
    i++;
  }
  return out;
}

export async function simulate(args: string[], io: Io, overrides: ConfigOverrides = {}): Promise<number> {
  const { values } = parseArgs({ args: joinNegativeValues(args), strict: true, options: OPTIONS });
  if (values.url === undefined) throw new UsageError('--url is required, e.g. --url http://127.0.0.1:8080');
  const { device: url, base } = deviceUrl(values.url);
  const n = numberFlag(values.devices, '--devices', 10, positiveInteger, 'a positive integer');
  const rate = numberFlag(values.rate, '--rate', 5, (r) => r >= 0, 'events per second per device, 0 or more (0: as fast as acks allow)');
  const seconds = numberFlag(values.seconds, '--seconds', 10, (x) => x > 0, 'a positive number of seconds');
  const hitRate = numberFlag(values['hit-rate'], '--hit-rate', 0.05, (h) => h >= 0 && h <= 1, 'between 0 and 1');
  const seed = numberFlag(values.seed, '--seed', 1, (x) => Number.isSafeInteger(x) && x >= 0, 'a non-negative integer');

  let tokens = [...(values.token ?? [])];
  const tokensFile = values['tokens-file'];
  if (tokensFile) {
    let text: string;
    try { text = readFileSync(tokensFile, 'utf8') } catch (cause) { throw new FileError('read', tokensFile, cause) }
    tokens.push(...text.split(/\s+/).filter(Boolean));
  }
  let consumer = values['consumer-token'];
  const dataDir = loadConfig(overrides).dataDir;

  // Ctrl-C, SIGTERM (kill, timeout, a service stop) and SIGHUP (a closed terminal) end the run early, still revoking
  // what it enrolled: left active, its devices would raise heartbeat-missed alerts on the server. A second signal
  // quits at once. The exit code is the shell's for the first signal: 128 + its number.
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stoppedBy !== undefined) process.exit(signalExitCode(signal));
    stoppedBy = signal;
    io.err(`interrupted (${signal}): winding up, revoking what this run enrolled (${signal === 'SIGINT' ? 'Ctrl-C' : signal} `
      + 'again to quit at once, leaving enrolled devices active)');
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  const interrupted = (): boolean => stoppedBy !== undefined;
  let swarm: Swarm | undefined;
  try {
    if (tokens.length === 0) {
      io.err(`enrolling ${n} simulated devices (subjects sim-subject-0..${n - 1}) in ${dataDir}; they are revoked when the run ends`);
      swarm = await enrolSwarm(dataDir, n, [...CATEGORIES], interrupted);
      tokens = swarm.devices.map((d) => d.token);
      consumer ??= swarm.consumer.token;
    }
    if (stoppedBy !== undefined) return signalExitCode(stoppedBy);
    if (tokens.length < n) throw new UsageError(`${n} devices need ${n} tokens; ${tokens.length} given`);
    const code = await run(io, { url, base, n, rate, seconds, hitRate, seed, tokens, consumer, json: values.json === true,
      stoppedBy: () => stoppedBy, enrolled: swarm !== undefined, dataDir });
    return stoppedBy !== undefined ? signalExitCode(stoppedBy) : code;
  } finally {
    if (swarm) {
      await retireSwarm(dataDir, swarm);
      io.err(`revoked the ${swarm.devices.length} devices and the consumer token this run enrolled`);
    }
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}

interface RunOptions {
  url: string;
  base: string;
  n: number;
  rate: number;
  seconds: number;
  hitRate: number;
  seed: number;
  tokens: string[];
  consumer: string | undefined;
  json: boolean;
  /** The signal that ended the run early, if one did. */
  stoppedBy: () => NodeJS.Signals | undefined;
  /** The devices were enrolled by this run (and are revoked when it ends). */
  enrolled: boolean;
  dataDir: string;
}

async function run(io: Io, o: RunOptions): Promise<number> {
  const { url, base, n, rate, seconds } = o;
  const interrupted = (): boolean => o.stoppedBy() !== undefined;
  const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const stats: SimStats = {
    sent: 0, acked: 0, resent: 0, rejects: new Map(), captures: 0, reconnects: 0, pauses: 0, sentAgain: 0,
    ackLatencyUs: (us) => latency.recordValue(Math.min(us, 60_000_000)),
  };
  const devices = o.tokens.slice(0, n).map((t) => new SimDevice(url, t, stats, rate > 0 ? MAX_OUTSTANDING : FLAT_OUT_WINDOW));
  let alerts = 0;
  let stopFeed = (): void => {};
  try {
    for (let i = 0; i < devices.length && !interrupted(); i += CONNECT_BATCH) {
      try {
        await Promise.all(devices.slice(i, i + CONNECT_BATCH).map((d) => d.connect()));
      } catch (err) {
        throw connectFailure(err, url, o.enrolled, o.dataDir);
      }
    }
    if (interrupted()) return 1; // the caller gives the signal's exit code
    io.err(`${n} devices connected to ${url}; sending ${rate > 0 ? `${rate} events/s each`
      : `as fast as the server acknowledges them (up to ${FLAT_OUT_WINDOW} in flight each)`} for ${seconds} s`);
    const ids = new Set(devices.map((d) => d.deviceId));
    if (o.consumer) stopFeed = await watchFeed(base, o.consumer, () => ids, () => { alerts++ });

    const mix = new EventMix(o.seed, o.hitRate);
    const started = performance.now();
    let owed = 0;
    let lastTick = started;
    let cursor = 0;
    let lastReport = started;
    while (performance.now() - started < seconds * 1000 && !interrupted()) {
      await new Promise((r) => setTimeout(r, TICK_MS));
      const now = performance.now();
      for (const d of devices) d.pump(); // what waits: events refused RATE_LIMITED whose pause is over, first
      if (rate > 0) {
        owed += ((now - lastTick) / 1000) * rate * n;
        lastTick = now;
        for (; owed >= 1; owed--) {
          const d = devices[cursor++ % n] as SimDevice;
          if (d.canTake) d.send(mix.next());
        }
      } else {
        for (const d of devices) while (d.canSend) d.send(mix.next());
      }
      if (now - lastReport >= 1000) {
        lastReport = now;
        io.err(`t=${((now - started) / 1000).toFixed(0)}s sent=${stats.sent} acked=${stats.acked} rejects=${[...stats.rejects.values()].reduce((a, b) => a + b, 0)} sent_again=${stats.sentAgain} alerts=${alerts} ack_p99=${(latency.getValueAtPercentile(99) / 1000).toFixed(1)}ms`);
      }
    }
    const elapsed = (performance.now() - started) / 1000;
    await Promise.all(devices.map((d) => d.settle(interrupted() ? SETTLE_INTERRUPTED_MS : SETTLE_MS)));
    await new Promise((r) => setTimeout(r, 500)); // let the last alerts reach the feed
    const unacked = devices.reduce((a, d) => a + d.outstanding, 0);
    const refusals = stats.rejects.get('RATE_LIMITED') ?? 0;
    const rateLimited = {
      refusals, pauses: stats.pauses, sentAgain: stats.sentAgain,
      heldAtEnd: devices.reduce((a, d) => a + d.refused, 0), unsentAtEnd: devices.reduce((a, d) => a + d.unsent, 0),
    };
    // What the figures measure: with refusals, the server's limit; without, at --rate 0, how fast it acknowledges.
    const pacedBy = refusals > 0 ? 'rate-limited' : rate > 0 ? 'rate' : 'acks';
    const summary = {
      devices: n, seconds: Number(elapsed.toFixed(2)), sent: stats.sent, acked: stats.acked, unacked,
      resent: stats.resent, reconnects: stats.reconnects,
      rejects: Object.fromEntries(stats.rejects), alertsSeen: alerts, capturesRequested: stats.captures,
      ackedPerSecond: Math.round(stats.acked / elapsed), pacedBy, rateLimited,
      ackLatencyMs: {
        p50: latency.getValueAtPercentile(50) / 1000, p90: latency.getValueAtPercentile(90) / 1000,
        p99: latency.getValueAtPercentile(99) / 1000, max: latency.maxValue / 1000,
      },
      interrupted: interrupted(), stoppedBy: o.stoppedBy() ?? null,
      // Revoked as the run ends (simulate's finally): they would otherwise owe heartbeats and raise alerts.
      revokedAtEnd: o.enrolled ? { devices: n, consumer: true } : { devices: 0, consumer: false },
    };
    if (o.json) io.out(JSON.stringify(summary));
    else {
      io.out(`devices            ${summary.devices}${interrupted() ? ` (interrupted by ${o.stoppedBy()})` : ''}`);
      io.out(`events sent        ${summary.sent} (${summary.resent} resent after reconnects, ${stats.sentAgain} sent again after RATE_LIMITED)`);
      io.out(`events acked       ${summary.acked} (${summary.ackedPerSecond}/s), unacked at end ${unacked}${rateLimited.heldAtEnd > 0
        ? `, ${rateLimited.heldAtEnd} refused RATE_LIMITED and not sent again before the run ended` : ''}${rateLimited.unsentAtEnd > 0
        ? `, ${rateLimited.unsentAtEnd} made and not yet sent` : ''}`);
      io.out(`rejects            ${JSON.stringify(summary.rejects)}`);
      io.out(`paced by           ${pacedBy === 'rate-limited'
        ? `RATE_LIMITED refusals (${refusals}, in ${stats.pauses} pauses): the server's per-device limit (ingest.deviceRatePerSecond, `
          + 'burst ingest.deviceBurst) or its full matching queue held the devices back, so acked/s measures that limit, not what '
          + 'the server can take (for that: more devices, a higher limit in its config, or vigil bench)'
        : pacedBy === 'rate' ? `--rate: ${rate} events/s per device asked, ${rate * n}/s in all`
          : `the server's acks (--rate 0): acked/s is what it took from ${n} devices with up to ${FLAT_OUT_WINDOW} events in flight each`}`);
      io.out(`alerts seen        ${alerts}${o.consumer ? '' : ' (no consumer token: feed not watched)'}`);
      io.out(`captures requested ${stats.captures}`);
      io.out(`ack latency        p50 ${summary.ackLatencyMs.p50.toFixed(2)} ms, p90 ${summary.ackLatencyMs.p90.toFixed(2)} ms, p99 ${summary.ackLatencyMs.p99.toFixed(2)} ms, max ${summary.ackLatencyMs.max.toFixed(2)} ms`);
      io.out(`clean-up           ${o.enrolled
        ? `the ${n} devices and the consumer token this run enrolled are revoked as it ends (no heartbeat-missed alerts follow)`
        : 'nothing: devices given by token are left as they are'}`);
    }
    return unacked === 0 ? 0 : 1;
  } finally {
    for (const d of devices) d.close();
    stopFeed();
  }
}
