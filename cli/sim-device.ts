/**
 * One simulated device: a real WebSocket client speaking the device protocol as a well-written device app does.
 * It keeps every unacknowledged event and resends them after a reconnect, so a run can prove that nothing
 * acknowledged was lost; it records each event's ack latency.
 *
 * Refused `RATE_LIMITED` (docs/protocol.md §3: over the device's rate, or the server busy), it keeps the event and
 * backs off: it sends nothing for a pause (doubling while refusals go on, with jitter), then sends the event again
 * under a new seq (the refused seq is spent: sent again it may be refused `SEQ_REGRESSION`). It comes back with
 * half as many events in flight, and opens up again by one per round of acks, so a device held to a rate settles
 * near it instead of filling its window with events bound to be refused. Events it makes meanwhile wait behind.
 */
import WebSocket from 'ws';
import { encodeFrame, decodeFrame } from '../ingest/index.js';

export interface SimStats {
  /** Events sent, each counted once: not resends. */
  sent: number;
  acked: number;
  /** Unacknowledged events sent again on a new connection (same seq). */
  resent: number;
  rejects: Map<string, number>;
  captures: number;
  reconnects: number;
  /** Pauses after a `RATE_LIMITED` refusal. */
  pauses: number;
  /** Events refused `RATE_LIMITED` and sent again (new seq), once per sending. */
  sentAgain: number;
  ackLatencyUs: (us: number) => void;
}

export type SimEvent = Record<string, unknown> & { type: string };

/** Events a device holds at most, sent and unacknowledged or waiting to be sent. */
export const MAX_OUTSTANDING = 2000;
/** The first pause after a `RATE_LIMITED` refusal, and the longest. */
const MIN_PAUSE_MS = 100;
const MAX_PAUSE_MS = 5000;

export class SimDevice {
  readonly #url: string;
  readonly #token: string;
  readonly #stats: SimStats;
  #ws: WebSocket | undefined;
  #ready = false;
  #nextSeq = 1;
  readonly #outstanding = new Map<number, { frame: Buffer; sentAt: number; event: SimEvent }>();
  /** Refused `RATE_LIMITED`, to send again after the pause, oldest first; then events made while they wait. */
  readonly #refused: SimEvent[] = [];
  readonly #waiting: SimEvent[] = [];
  /** Events in flight at most, now; between 1 and `#maxWindow`. */
  #window: number;
  readonly #maxWindow: number;
  #pausedUntil = 0;
  #pauseMs = MIN_PAUSE_MS;
  /** The highest seq sent when the latest pause began: refusals up to it were in flight then, and add no pause. */
  #pausedAfterSeq = 0;
  #stopped = false;
  deviceId = '';

  /** `window`: events in flight at most (without refusals). */
  constructor(url: string, token: string, stats: SimStats, window = MAX_OUTSTANDING) {
    this.#url = url;
    this.#token = token;
    this.#stats = stats;
    this.#maxWindow = Math.min(window, MAX_OUTSTANDING);
    this.#window = this.#maxWindow;
  }

  get ready(): boolean { return this.#ready }
  get outstanding(): number { return this.#outstanding.size }
  /** Events refused `RATE_LIMITED` and not yet sent again. */
  get refused(): number { return this.#refused.length }
  /** Events made and not yet sent once (made while the device paused, or its window was full). */
  get unsent(): number { return this.#waiting.length }
  /** Would send another event now: connected, not paused, nothing waiting before it, window open. */
  get canSend(): boolean {
    return this.#sendable() && this.#refused.length === 0 && this.#waiting.length === 0;
  }
  /** Can take another event, to send now or once it may: connected, holding fewer than `MAX_OUTSTANDING`. */
  get canTake(): boolean {
    return this.#ready && this.#outstanding.size + this.#refused.length + this.#waiting.length < MAX_OUTSTANDING;
  }

  #sendable(): boolean {
    return this.#ready && performance.now() >= this.#pausedUntil && this.#outstanding.size < Math.floor(this.#window);
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.#url, { headers: { authorization: `Bearer ${this.#token}` }, perMessageDeflate: false });
      this.#ws = ws;
      let settled = false;
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) return;
        const msg = decodeFrame(data) as Record<string, unknown>;
        switch (msg.type) {
          case 'hello': {
            this.deviceId = String(msg.deviceId);
            const lastSeq = Number(msg.lastSeq);
            for (const seq of [...this.#outstanding.keys()]) if (seq <= lastSeq) this.#ack(seq);
            this.#nextSeq = Math.max(this.#nextSeq, lastSeq + 1);
            this.#ready = true;
            for (const [, o] of this.#outstanding) { ws.send(o.frame); this.#stats.resent++ }
            if (!settled) { settled = true; resolve() }
            break;
          }
          case 'ack': {
            const upTo = Number(msg.upTo);
            for (const seq of this.#outstanding.keys()) if (seq <= upTo) this.#ack(seq);
            // An event sent after the pause was taken: the next refusal starts from the shortest pause again.
            if (upTo > this.#pausedAfterSeq) this.#pauseMs = MIN_PAUSE_MS;
            break;
          }
          case 'reject': {
            const code = String(msg.code);
            this.#stats.rejects.set(code, (this.#stats.rejects.get(code) ?? 0) + 1);
            if (typeof msg.seq !== 'number') break;
            const o = this.#outstanding.get(msg.seq);
            this.#outstanding.delete(msg.seq);
            if (code === 'RATE_LIMITED' && o) this.#rateLimited(msg.seq, o.event);
            break;
          }
          case 'capture':
            this.#stats.captures++;
            break;
        }
      });
      ws.on('error', (err) => { if (!settled) { settled = true; reject(err) } });
      ws.on('unexpected-response', (_req, res) => {
        // The status tells the caller what to check (401: a token this server does not know).
        if (!settled) { settled = true; reject(Object.assign(new Error(`server refused the device connection: HTTP ${res.statusCode}`), { status: res.statusCode })) }
      });
      ws.on('close', () => {
        this.#ready = false;
        if (!this.#stopped && settled) {
          this.#stats.reconnects++;
          setTimeout(() => { if (!this.#stopped) this.connect().catch(() => {}) }, 200);
        }
      });
    });
  }

  /** Keeps a refused event to send again, and pauses if it was sent since the latest pause began. */
  #rateLimited(seq: number, event: SimEvent): void {
    this.#refused.push(event);
    if (seq <= this.#pausedAfterSeq) return;
    this.#stats.pauses++;
    this.#pausedUntil = performance.now() + this.#pauseMs * (0.75 + Math.random() / 2);
    this.#pauseMs = Math.min(MAX_PAUSE_MS, this.#pauseMs * 2);
    this.#pausedAfterSeq = this.#nextSeq - 1;
    this.#window = Math.max(1, this.#window / 2);
  }

  #ack(seq: number): void {
    const o = this.#outstanding.get(seq);
    if (!o) return;
    this.#outstanding.delete(seq);
    this.#stats.acked++;
    this.#stats.ackLatencyUs(Math.max(1, Math.round((performance.now() - o.sentAt) * 1000)));
    this.#window = Math.min(this.#maxWindow, this.#window + 1 / this.#window);
  }

  /** Sends `event` now if it may, or once it may (see `pump`). */
  send(event: SimEvent): void {
    if (!this.#ready) return;
    const made = { ...event, at: Date.now() }; // when it happened: kept if it has to be sent again
    if (this.canSend) this.#transmit(made, false);
    else this.#waiting.push(made);
  }

  /** Sends what waits, refused events first, as far as the pause and the window allow. Call it often. */
  pump(): void {
    while (this.#sendable()) {
      const again = this.#refused.shift();
      if (again) { this.#transmit(again, true); continue }
      const next = this.#waiting.shift();
      if (!next) return;
      this.#transmit(next, false);
    }
  }

  #transmit(event: SimEvent, again: boolean): void {
    const seq = this.#nextSeq++;
    const frame = encodeFrame({ ...event, seq });
    this.#outstanding.set(seq, { frame, sentAt: performance.now(), event });
    if (again) this.#stats.sentAgain++;
    else this.#stats.sent++;
    this.#ws!.send(frame);
  }

  /** Waits up to `ms` for every sent event to be acknowledged or rejected. */
  async settle(ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (this.#outstanding.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  }

  close(): void {
    this.#stopped = true;
    this.#ws?.close();
  }
}
