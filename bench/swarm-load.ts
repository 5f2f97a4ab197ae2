/**
 * One load process of the device swarm (started by bench/swarm.ts with fork()). It holds its share
 * of the devices on raw sockets (bench/raw-ws-client.ts), sends the mix open loop or closed loop,
 * records ack latency per event type, and watches the alert feed to time each expected alert from
 * its event's intended send time. Clocks never cross processes: send and alert times are both
 * taken here with performance.now().
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import hdr from 'hdr-histogram-js';
import { Unpackr } from 'msgpackr';
import WebSocket from 'ws';
import { CATEGORIES, type Category } from '../core/index.js';
import { benchCommand } from './bench-command.js';
import { openRawWs } from './raw-ws-client.js';
import { EncodedMix, deviceFrame, encodeFields, type EncodedEvent } from './swarm-frames.js';
import { OutstandingRing, TAG_MEASURED, TAG_REJECTED, TAG_TYPE_MASK } from './swarm-ring.js';
import { SwarmMix } from './swarm-mix.js';
import { EVENT_TYPES, type LoadResult, type SwarmCommand, type SwarmJob, type SwarmMessage } from './swarm-protocol.js';
import { seededRandom } from '../cli/event-mix.js';

benchCommand({
  run: 'node dist/bench/swarm-load.js',
  summary: 'One load process of the device swarm. bench/swarm.ts (vigil bench, bench/ingest.js) starts it with fork() and\n'
    + 'gives it its share of the devices over IPC; it is not run by hand.',
  options: {},
  check: () => (process.send === undefined ? 'it is started by bench/swarm.ts with an IPC channel, not by hand' : undefined),
});

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const TICK_MS = 2;
const PROGRESS_MS = 1000;
const HELLO_TIMEOUT_MS = 30_000;
const SILENT_SPREAD_MS = 1000;
const MAX_US = 3_600_000_000;
/** Events encoded ahead and cycled through (bench/swarm-frames.ts). */
const ENCODED_EVENTS = 4096;
const HEARTBEAT = encodeFields({ type: 'heartbeat', fields: { type: 'heartbeat', battery: 80 }, expect: undefined });

type Histogram = ReturnType<typeof hdr.build>;
const histogram = (): Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_US, numberOfSignificantValueDigits: 3 });
const record = (h: Histogram, ms: number): void => h.recordValue(Math.min(MAX_US, Math.max(1, Math.round(ms * 1000))));

interface Device {
  index: number;
  id: string;
  token: string;
  sock: Socket | undefined;
  ready: boolean;
  closed: boolean;
  ring: OutstandingRing;
  outstanding: number;
  frames: Buffer[];
  heartbeatSeconds: number;
  lastAckWall: number;
  hello?: () => void;
}

interface Expected { time: number; category: Category; measured: boolean }

class LoadProcess {
  readonly #job: SwarmJob;
  readonly #mix: SwarmMix;
  readonly #encoded: EncodedMix;
  readonly #rnd: () => number;
  readonly #devices: Device[];
  readonly #byId = new Map<string, Device>();
  readonly #dirty = new Set<Device>();
  readonly #types = EVENT_TYPES.map(() => ({ sent: 0, acked: 0, inWindow: 0, rejects: {} as Record<string, number>, h: histogram() }));
  readonly #alerts = new Map<Category, { expected: number; seen: number; h: Histogram }>(
    CATEGORIES.map((c) => [c, { expected: 0, seen: 0, h: histogram() }]));
  readonly #expected = new Map<number, Expected>();
  readonly #done = new Set<number>();
  readonly #heartbeat = { expected: 0, seen: 0, h: histogram() };
  /** Open loop: how late each measured event left this process, from its intended send time, µs. */
  readonly #sendLag = histogram();
  readonly #unexpected: Record<string, number> = {};
  readonly #closes: Record<string, number> = {};
  readonly #progress = { sent: 0, acked: 0, rejected: 0, alerts: 0 };
  #sending = false;
  #measuring = false;
  /** Between `measure` and `stop`: acks arriving now count towards throughput, whatever event they ack. */
  #windowOpen = false;
  #measureStart = Infinity;
  #measureEnd = 0;
  #cpuStart = process.cpuUsage();
  #measuredOutstanding = 0;
  #measuredPending = 0;
  #captures = 0;
  #skipped = 0;
  #t0 = 0;
  #issued = 0;
  #feed: WebSocket | undefined;

  constructor(job: SwarmJob) {
    this.#job = job;
    const load = (paths: string[]) => paths.map((p) => readFileSync(p));
    this.#mix = new SwarmMix(job.seed, job.shares, job.hitRate, job.listedImageShare,
      { listed: load(job.images.listed), unlisted: load(job.images.unlisted) });
    this.#encoded = new EncodedMix(this.#mix, ENCODED_EVENTS);
    this.#rnd = seededRandom(job.seed ^ 0x2545f491);
    this.#devices = job.tokens.map((token, index) => ({
      index, id: token.split('.')[1] ?? '', token, sock: undefined, ready: false, closed: false,
      ring: new OutstandingRing(0), outstanding: 0, frames: [], heartbeatSeconds: 0, lastAckWall: 0,
    }));
    for (const d of this.#devices) this.#byId.set(d.id, d);
  }

  /** Connects every device (a few at a time) and waits for each one's hello. */
  async connect(): Promise<SwarmMessage> {
    let next = 0;
    let failed = 0;
    let firstError: string | undefined;
    const worker = async (): Promise<void> => {
      while (next < this.#devices.length) {
        const d = this.#devices[next++]!;
        try { await this.#open(d) } catch (err) { failed++; firstError ??= err instanceof Error ? err.message : String(err) }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.#job.connectConcurrency) }, worker));
    if (this.#job.consumerToken !== undefined) await this.#watchFeed(this.#job.consumerToken);
    const msg: SwarmMessage = { type: 'ready', connected: this.#devices.length - failed, failed };
    if (firstError !== undefined) msg.firstError = firstError;
    return msg;
  }

  async #open(d: Device): Promise<void> {
    const hello = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no hello within 30 s')), HELLO_TIMEOUT_MS);
      d.hello = () => { clearTimeout(timer); resolve() };
    });
    d.sock = await openRawWs(this.#job.host, this.#job.port, '/v1/device', d.token, {
      message: (payload) => this.#onDeviceMessage(d, payload),
      close: (code) => {
        d.closed = true;
        if (this.#sending) this.#closes[String(code ?? 'no close frame')] = (this.#closes[String(code ?? 'no close frame')] ?? 0) + 1;
      },
    });
    await hello;
  }

  #watchFeed(token: string): Promise<void> {
    const { host, port, feedAfter } = this.#job;
    const ws = new WebSocket(`ws://${host}:${port}/v1/feed?after=${feedAfter}`, { headers: { authorization: `Bearer ${token}` } });
    this.#feed = ws;
    ws.on('message', (data) => this.#onAlert(String(data)));
    return new Promise((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) });
  }

  #onDeviceMessage(d: Device, payload: Buffer): void {
    const msg = unpackr.unpack(payload) as { type: string; upTo?: number; lastSeq?: number; code?: string; seq?: number | null;
      id?: string; policy?: { heartbeatSeconds?: number } };
    switch (msg.type) {
      case 'hello':
        d.ring = new OutstandingRing(msg.lastSeq ?? 0);
        d.heartbeatSeconds = msg.policy?.heartbeatSeconds ?? 0;
        d.ready = true;
        d.hello?.();
        if (this.#sending) this.#pump(d);
        return;
      case 'ack': return this.#onAck(d, msg.upTo ?? 0);
      case 'reject': return this.#onReject(d, msg.seq ?? null, msg.code ?? '?');
      case 'capture':
        if (this.#measuring) this.#captures++;
        if (this.#job.answerCaptures && this.#sending && msg.id !== undefined) {
          this.#send(d, encodeFields(this.#mix.screenshot(msg.id)), performance.now(), Date.now());
          this.#flush();
        }
        return;
    }
  }

  #onAck(d: Device, upTo: number): void {
    const now = performance.now();
    d.lastAckWall = Date.now();
    d.ring.settle(upTo, (time, tag) => {
      if (tag & TAG_REJECTED) return;
      d.outstanding--;
      this.#progress.acked++;
      const t = this.#types[tag & TAG_TYPE_MASK]!;
      if (this.#windowOpen) t.inWindow++;
      if (!(tag & TAG_MEASURED)) return;
      this.#measuredOutstanding--;
      t.acked++;
      record(t.h, now - time);
    });
    if (this.#job.mode.kind === 'window') this.#pump(d);
  }

  #onReject(d: Device, seq: number | null, code: string): void {
    this.#progress.rejected++;
    const tag = seq === null ? undefined : d.ring.tag(seq);
    if (seq === null || tag === undefined || tag & TAG_REJECTED) return;
    d.ring.markRejected(seq);
    d.outstanding--;
    const e = this.#expected.get(d.index * 2 ** 32 + seq);
    if (e) {
      this.#expected.delete(d.index * 2 ** 32 + seq);
      if (e.measured) { this.#measuredPending--; this.#alerts.get(e.category)!.expected-- }
    }
    if (tag & TAG_MEASURED) {
      this.#measuredOutstanding--;
      const t = this.#types[tag & TAG_TYPE_MASK]!;
      t.rejects[code] = (t.rejects[code] ?? 0) + 1;
    }
    if (this.#job.mode.kind === 'window') this.#pump(d);
  }

  #onAlert(raw: string): void {
    const now = performance.now();
    const a = JSON.parse(raw) as { type?: string; data?: { deviceId?: string; eventSeq?: number; match?: { rule?: string; detail?: string } } };
    const d = this.#byId.get(a.data?.deviceId ?? '');
    if (!d || a.data === undefined) return;
    this.#progress.alerts++;
    if (a.data.match?.rule === 'heartbeat-missed') {
      // eventSeq 0: the device had sent nothing yet (connected, but the server had been watching it a period already).
      if (a.data.eventSeq === 0) { this.#countUnexpected('vigil.alert.heartbeat (heartbeat-missed, no event ever)'); return }
      if (this.#job.mode.kind !== 'silent') { this.#countUnexpected('vigil.alert.heartbeat (heartbeat-missed)'); return }
      const stated = Date.parse(/deadline (\S+)$/.exec(a.data.match.detail ?? '')?.[1] ?? '');
      const deadline = Number.isFinite(stated) ? stated
        : d.lastAckWall + (d.heartbeatSeconds + this.#job.heartbeatGraceSeconds) * 1000;
      this.#heartbeat.seen++;
      record(this.#heartbeat.h, Date.now() - deadline);
      return;
    }
    const key = d.index * 2 ** 32 + (a.data.eventSeq ?? 0);
    const e = this.#expected.get(key);
    if (e) {
      this.#expected.delete(key);
      this.#done.add(key);
      if (!e.measured) return;
      this.#measuredPending--;
      const s = this.#alerts.get(e.category)!;
      s.seen++;
      record(s.h, now - e.time);
    } else if (!this.#done.has(key)) this.#countUnexpected(a.type ?? '?');
  }

  #countUnexpected(type: string): void { this.#unexpected[type] = (this.#unexpected[type] ?? 0) + 1 }

  /** Sends one event; `at` is the device's clock for it (one reading per tick will do). */
  #send(d: Device, e: EncodedEvent, intended: number, at: number): void {
    const ev = e.ev;
    if (!d.ready || d.closed || !d.sock) { if (this.#measuring) this.#skipped++; return }
    const measured = this.#measuring && intended >= this.#measureStart;
    const typeIndex = EVENT_TYPES.indexOf(ev.type);
    const seq = d.ring.push(intended, typeIndex | (measured ? TAG_MEASURED : 0));
    d.outstanding++;
    d.frames.push(deviceFrame(e, seq, at));
    this.#dirty.add(d);
    this.#progress.sent++;
    if (measured) { this.#types[typeIndex]!.sent++; this.#measuredOutstanding++ }
    if (ev.expect === undefined || this.#feed === undefined) return; // no feed watched: no alert to wait for
    this.#expected.set(d.index * 2 ** 32 + seq, { time: intended, category: ev.expect, measured });
    if (measured) { this.#alerts.get(ev.expect)!.expected++; this.#measuredPending++ }
  }

  #flush(): void {
    for (const d of this.#dirty) {
      if (d.sock && !d.closed && d.frames.length > 0) d.sock.write(d.frames.length === 1 ? d.frames[0]! : Buffer.concat(d.frames));
      d.frames = [];
    }
    this.#dirty.clear();
  }

  /** Closed loop: tops the device's window up. */
  #pump(d: Device): void {
    const mode = this.#job.mode;
    if (!this.#sending || mode.kind !== 'window') return;
    while (d.outstanding < mode.window && d.ready && !d.closed) this.#send(d, this.#encoded.next(), performance.now(), Date.now());
    this.#flush();
  }

  /** Open loop and silent mode: sends whatever the schedule says is due by now. */
  #tick(): void {
    if (!this.#sending) return;
    const mode = this.#job.mode;
    const now = performance.now();
    const wall = Date.now();
    const n = this.#devices.length;
    if (mode.kind === 'rate') {
      const perMs = (mode.perDevice * n) / 1000;
      const due = Math.floor((now - this.#t0) * perMs);
      for (; this.#issued < due; this.#issued++) {
        const intended = this.#t0 + this.#issued / perMs;
        this.#send(this.#devices[Math.floor(this.#rnd() * n)]!, this.#encoded.next(), intended, wall);
        if (this.#measuring && intended >= this.#measureStart) record(this.#sendLag, now - intended);
      }
    } else if (mode.kind === 'silent') {
      const due = Math.min(n, Math.floor(((now - this.#t0) * n) / SILENT_SPREAD_MS));
      for (; this.#issued < due; this.#issued++) {
        const d = this.#devices[this.#issued]!;
        if (d.ready && !d.closed) this.#heartbeat.expected++;
        this.#send(d, HEARTBEAT, now, wall);
      }
    }
    this.#flush();
  }

  start(): void {
    this.#sending = true;
    this.#t0 = performance.now();
    if (this.#job.mode.kind === 'window') for (const d of this.#devices) this.#pump(d);
    else setInterval(() => this.#tick(), TICK_MS);
    setInterval(() => process.send!({ type: 'progress', progress: { ...this.#progress } } satisfies SwarmMessage), PROGRESS_MS);
  }

  measure(): void {
    this.#measuring = true;
    this.#windowOpen = true;
    this.#measureStart = performance.now();
    this.#cpuStart = process.cpuUsage();
  }

  /** Stops sending, waits up to `settleMs` for measured acks and alerts, and reports. */
  async stop(settleMs: number): Promise<LoadResult> {
    const cpu = process.cpuUsage(this.#cpuStart);
    this.#measureEnd = performance.now();
    this.#windowOpen = false;
    this.#sending = false;
    const silent = this.#job.mode.kind === 'silent';
    const until = performance.now() + settleMs;
    while (performance.now() < until) {
      const hbDone = !silent || this.#heartbeat.seen >= this.#heartbeat.expected;
      if (this.#measuredOutstanding <= 0 && this.#measuredPending <= 0 && hbDone) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    this.#measuring = false;
    const encode = (h: Histogram) => hdr.encodeIntoCompressedBase64(h);
    const result: LoadResult = {
      seconds: (this.#measureEnd - this.#measureStart) / 1000, cpuMicros: cpu.user + cpu.system,
      types: {}, alerts: {}, unexpectedAlerts: this.#unexpected, captures: this.#captures, skipped: this.#skipped,
      unacked: Math.max(0, this.#measuredOutstanding), closes: this.#closes,
      heartbeatMissed: { expected: this.#heartbeat.expected, seen: this.#heartbeat.seen, histogram: encode(this.#heartbeat.h) },
      sendLag: encode(this.#sendLag),
    };
    EVENT_TYPES.forEach((type, i) => {
      const t = this.#types[i]!;
      if (t.sent > 0 || t.inWindow > 0) result.types[type] = { sent: t.sent, acked: t.acked, ackedInWindow: t.inWindow, rejects: t.rejects, histogram: encode(t.h) };
    });
    for (const [c, s] of this.#alerts) if (s.expected > 0 || s.seen > 0) result.alerts[c] = { expected: s.expected, seen: s.seen, histogram: encode(s.h) };
    return result;
  }

  close(): void {
    for (const d of this.#devices) d.sock?.destroy();
    this.#feed?.terminate();
  }
}

let load: LoadProcess | undefined;
process.on('message', (cmd: SwarmCommand) => {
  switch (cmd.type) {
    case 'job':
      load = new LoadProcess(cmd.job);
      load.connect().then((msg) => process.send!(msg), (err: unknown) => { console.error(err); process.exit(1) });
      return;
    case 'start': load?.start(); return;
    case 'measure': load?.measure(); return;
    case 'stop':
      void load?.stop(cmd.settleMs).then((result) => {
        load?.close();
        process.send!({ type: 'result', result } satisfies SwarmMessage, () => process.exit(0));
      });
      return;
  }
});
process.on('disconnect', () => process.exit(0));
