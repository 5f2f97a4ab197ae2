/**
 * One simulated device: a real WebSocket client speaking the device protocol. It keeps every
 * unacknowledged event and resends them after a reconnect, so a run can prove that nothing
 * acknowledged was lost; it records each event's ack latency.
 */
import WebSocket from 'ws';
import { encodeFrame, decodeFrame } from '../ingest/index.js';

export interface SimStats {
  sent: number;
  acked: number;
  resent: number;
  rejects: Map<string, number>;
  captures: number;
  reconnects: number;
  ackLatencyUs: (us: number) => void;
}

export type SimEvent = Record<string, unknown> & { type: string };

const MAX_OUTSTANDING = 2000;

export class SimDevice {
  readonly #url: string;
  readonly #token: string;
  readonly #stats: SimStats;
  #ws: WebSocket | undefined;
  #ready = false;
  #nextSeq = 1;
  readonly #outstanding = new Map<number, { frame: Buffer; sentAt: number }>();
  #stopped = false;
  deviceId = '';

  constructor(url: string, token: string, stats: SimStats) {
    this.#url = url;
    this.#token = token;
    this.#stats = stats;
  }

  get ready(): boolean { return this.#ready }
  get outstanding(): number { return this.#outstanding.size }
  /** Can take another event without exceeding its window of unacknowledged events. */
  get canSend(): boolean { return this.#ready && this.#outstanding.size < MAX_OUTSTANDING }

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
            break;
          }
          case 'reject': {
            const code = String(msg.code);
            this.#stats.rejects.set(code, (this.#stats.rejects.get(code) ?? 0) + 1);
            if (typeof msg.seq === 'number') this.#outstanding.delete(msg.seq);
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

  #ack(seq: number): void {
    const o = this.#outstanding.get(seq);
    if (!o) return;
    this.#outstanding.delete(seq);
    this.#stats.acked++;
    this.#stats.ackLatencyUs(Math.max(1, Math.round((performance.now() - o.sentAt) * 1000)));
  }

  send(event: SimEvent): void {
    if (!this.#ws || !this.#ready) return;
    const seq = this.#nextSeq++;
    const frame = encodeFrame({ ...event, seq, at: Date.now() });
    this.#outstanding.set(seq, { frame, sentAt: performance.now() });
    this.#stats.sent++;
    this.#ws.send(frame);
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
