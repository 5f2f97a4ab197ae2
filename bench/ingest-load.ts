/**
 * Load-generator process for bench/ingest.ts: drives its share of devices over raw WebSockets,
 * keeping `window` unacknowledged events per device, and reports acked counts and an HDR histogram
 * of ack latency (µs) for the measured interval. Started with fork(); talks over IPC.
 */
import hdr from 'hdr-histogram-js';
import { Packr, Unpackr } from 'msgpackr';
import { EventMix } from '../cli/event-mix.js';
import { clientFrame, openRawWs } from './raw-ws-client.js';

/** `rate` > 0: open loop, that many events/s per device, latency measured from each event's intended send
 * time (so a stalled server is charged for the events it delayed: no coordinated omission).
 * `rate` = 0: closed loop, `window` unacknowledged events per device. */
export interface LoadJob { host: string; port: number; tokens: string[]; window: number; rate: number; seed: number; hitRate: number }
export type LoadCommand = { type: 'job'; job: LoadJob } | { type: 'measure' } | { type: 'stop' };
export type LoadReport =
  | { type: 'ready'; connected: number }
  | { type: 'result'; acked: number; sent: number; rejects: Record<string, number>; histogram: string; seconds: number };

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const RING = 1 << 16;

async function run(job: LoadJob): Promise<void> {
  const mix = new EventMix(job.seed, job.hitRate);
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let measuring = false;
  let stopping = false;
  let acked = 0;
  let sent = 0;
  const rejects: Record<string, number> = {};
  let measureStart = 0;

  const devices = await Promise.all(job.tokens.map(async (token) => {
    const sentAt = new Float64Array(RING);
    const rejected = new Uint8Array(RING);
    let next = 1;
    let ackedUpTo = 0;
    let outstanding = 0;
    let ready = false;
    const device = { sock: undefined as import('node:net').Socket | undefined, pump: () => {} };
    let started = 0;
    let issued = 0;
    device.pump = () => {
      if (!ready || stopping || !device.sock) return;
      const frames: Buffer[] = [];
      const now = performance.now();
      if (job.rate > 0) {
        if (started === 0) started = now;
        const due = Math.floor(((now - started) * job.rate) / 1000);
        for (; issued < due; issued++) {
          const seq = next++;
          outstanding++;
          sentAt[seq % RING] = started + (issued * 1000) / job.rate; // intended time
          frames.push(clientFrame(packr.pack({ ...mix.next(), seq, at: Date.now() })));
          if (measuring) sent++;
        }
      } else {
        while (outstanding < job.window) {
          const seq = next++;
          outstanding++;
          sentAt[seq % RING] = now;
          frames.push(clientFrame(packr.pack({ ...mix.next(), seq, at: Date.now() })));
          if (measuring) sent++;
        }
      }
      if (frames.length > 0) device.sock.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    };
    device.sock = await openRawWs(job.host, job.port, '/v1/device', token, {
      message(payload) {
        const msg = unpackr.unpack(payload) as { type: string; upTo?: number; lastSeq?: number; code?: string; seq?: number };
        if (msg.type === 'hello') { next = (msg.lastSeq ?? 0) + 1; ackedUpTo = msg.lastSeq ?? 0; ready = true; device.pump(); return }
        if (msg.type === 'reject') {
          // A rejected event is settled too (the device drops it); the next cumulative ack skips it.
          if (measuring) rejects[msg.code ?? '?'] = (rejects[msg.code ?? '?'] ?? 0) + 1;
          if (msg.seq !== undefined) { rejected[msg.seq % RING] = 1; outstanding-- }
          device.pump();
          return;
        }
        if (msg.type !== 'ack' || msg.upTo === undefined) return;
        const now = performance.now();
        for (let s = ackedUpTo + 1; s <= msg.upTo; s++) {
          if (rejected[s % RING]) { rejected[s % RING] = 0; continue }
          outstanding--;
          if (measuring) { acked++; histogram.recordValue(Math.max(1, Math.round((now - (sentAt[s % RING] as number)) * 1000))) }
        }
        ackedUpTo = Math.max(ackedUpTo, msg.upTo);
        device.pump();
      },
      close() {},
    });
    device.pump(); // the hello may have arrived with the upgrade response, before the socket was ours
    return device;
  }));
  if (job.rate > 0) setInterval(() => { for (const d of devices) d.pump() }, 5).unref();
  process.send!({ type: 'ready', connected: devices.length } satisfies LoadReport);
  process.on('message', (cmd: LoadCommand) => {
    if (cmd.type === 'measure') { measuring = true; measureStart = performance.now() }
    if (cmd.type === 'stop') {
      measuring = false;
      stopping = true;
      const seconds = (performance.now() - measureStart) / 1000;
      for (const d of devices) d.sock?.destroy();
      process.send!({ type: 'result', acked, sent, rejects, seconds, histogram: hdr.encodeIntoCompressedBase64(histogram) } satisfies LoadReport,
        () => process.exit(0));
    }
  });
}

process.once('message', (cmd: LoadCommand) => {
  if (cmd.type === 'job') run(cmd.job).catch((err: unknown) => { console.error(err); process.exit(1) });
});
