/**
 * Question: what does one group commit of the journal cost, and one commit that removes matched entries, as the
 * journal stores entries now (`page`: one record per commit holding its entries, each the device's frame behind a
 * short prefix, written in one synchronous transaction with no per-device record) against its earlier forms:
 * a record per entry keyed by an integer in append order, with that value (`frame-bytes`) or with the value
 * encoded by LMDB's general MessagePack encoder (`append-order`), and keys [deviceId, seq] with that encoder
 * (`device-seq`), each written as an LMDB batch with a deviceSeq record per device.
 *
 * Steady state as under load: a journal holding about `--live` unmatched entries; each round commits `--batch`
 * events from `--devices` devices in random order, then removes the oldest entries (or pages) down to `--live`
 * again in a second commit, as the alert store does once they are matched. The layouts run on LMDB in a temporary
 * folder opened as Vigil opens its own (the two oldest forms in the legacy journal database, which has the general
 * encoder); every commit is timed until it is on disk. Events and their frames are made before the clock starts,
 * and turning them into values is timed. Layouts alternate, `--runs` times each, so that other tenants' load falls
 * on all. Prints medians and p90 per commit and per event, and writes bench/results/journal-keys.json.
 *
 *   node dist/bench/journal-keys.js [--devices 1000] [--batch 3000] [--live 12000] [--rounds 60] [--runs 3] [--seed 7]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { openDatabases } from '../store/index.js';
import type { Key } from '../store/database.js';
import { encodePage, entryFromFrame, entryPrefix } from '../store/journal-codec.js';
import { asDeviceId, seededRandom, type DeviceEvent, type DeviceId } from '../core/index.js';
import { benchCommand } from './bench-command.js';
import { benchMachine, machineLine } from './suite-machine.js';

const { values: opts } = benchCommand({
  run: 'node dist/bench/journal-keys.js',
  summary: 'What one group commit of the journal costs, and one commit removing matched entries, as the journal stores\n'
    + 'entries now (page) against its earlier layouts (frame-bytes, append-order, device-seq), alternating, on LMDB in a\n'
    + 'temporary folder. Writes bench/results/journal-keys.json.',
  options: {
    devices: { kind: 'int', default: 1000, min: 1, help: 'devices the events come from' },
    batch: { kind: 'int', default: 3000, min: 1, help: 'events a commit' },
    live: { kind: 'int', default: 12000, min: 1, help: 'unmatched entries the journal is kept at' },
    rounds: { kind: 'int', default: 60, min: 1, help: 'commits a run (the first few not counted)' },
    runs: { kind: 'int', default: 3, min: 1, help: 'runs of each layout' },
    seed: { kind: 'int', default: 7, min: 1, help: 'seed of the events' },
  },
});
const WARMUP_ROUNDS = Math.min(10, Math.floor(opts.rounds / 3));

type Layout = 'page' | 'frame-bytes' | 'append-order' | 'device-seq';
/** A device's encoder: plain MessagePack maps (PROTOCOL.md §2). */
const devicePackr = new Packr({ useRecords: false });
interface Run { put: number[]; remove: number[] }

function event(seq: number, next: () => number): DeviceEvent {
  const at = 1_763_800_000_000 + seq;
  return next() < 0.5
    ? { type: 'dns', seq, at, domain: `host${Math.floor(next() * 1e6)}.example` }
    : { type: 'text', seq, at, app: 'com.example.chat', source: 'typed', text: `placeholder message ${Math.floor(next() * 1e9)} typed here` };
}

async function run(layout: Layout, seed: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-journal-keys-'));
  const db = openDatabases(dir);
  const { root, journal, legacyJournal, deviceSeq } = db;
  const next = seededRandom(seed);
  const devices = Array.from({ length: opts.devices }, (_, i) => asDeviceId(`dev-${i.toString(36).padStart(4, '0')}-bench`));
  const prefixes = new Map(devices.map((d) => [d, entryPrefix(d)])); // ingest keeps one per device
  const seqs = new Int32Array(opts.devices);
  /** Records not yet removed, oldest first, with the entries each holds. */
  const live: { k: Key; n: number }[] = [];
  let liveEntries = 0;
  let key = 1;
  const out: Run = { put: [], remove: [] };
  try {
    for (let round = 0; round < opts.rounds; round++) {
      const batch: { deviceId: DeviceId; e: DeviceEvent; frame: Uint8Array }[] = [];
      for (let i = 0; i < opts.batch; i++) {
        const d = Math.floor(next() * opts.devices);
        const e = event(++seqs[d]!, next);
        batch.push({ deviceId: devices[d]!, e, frame: devicePackr.pack(e) });
      }
      const t0 = performance.now();
      if (layout === 'page') {
        const page = encodePage(batch.map(({ deviceId, e, frame }) => entryFromFrame(prefixes.get(deviceId)!, e, frame)!));
        const k = key++;
        root.transactionSync(() => journal.put(k, page));
        live.push({ k, n: batch.length });
      } else {
        await root.batch(() => {
          const highest = new Map<string, number>();
          for (const { deviceId, e, frame } of batch) {
            let k: Key;
            if (layout === 'frame-bytes') journal.put(k = key++, entryFromFrame(prefixes.get(deviceId)!, e, frame)!);
            else if (layout === 'append-order') legacyJournal.put(k = key++, [deviceId, e]);
            else legacyJournal.put(k = [deviceId, e.seq], e);
            live.push({ k, n: 1 });
            highest.set(deviceId, e.seq);
          }
          for (const [deviceId, seq] of highest) if ((deviceSeq.get(deviceId) ?? 0) < seq) deviceSeq.put(deviceId, seq);
        });
        await root.flushed;
      }
      liveEntries += batch.length;
      const t1 = performance.now();
      const gone: Key[] = [];
      while (live.length > 0 && liveEntries - live[0]!.n >= opts.live) {
        const { k, n } = live.shift()!;
        gone.push(k);
        liveEntries -= n;
      }
      if (gone.length > 0) {
        await root.batch(() => {
          for (const k of gone) {
            if (layout === 'frame-bytes' || layout === 'page') journal.remove(k as number);
            else legacyJournal.remove(k);
          }
        });
        await root.flushed;
      }
      const t2 = performance.now();
      if (round < WARMUP_ROUNDS) continue;
      out.put.push(t1 - t0);
      if (gone.length > 0) out.remove.push(t2 - t1);
    }
  } finally {
    await root.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const quantile = (xs: readonly number[], q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};

const machine = benchMachine();
const command = `node dist/bench/journal-keys.js ${process.argv.slice(2).join(' ')}`.trim();
console.log(machineLine(machine));
console.log(`command: ${command}`);
console.log(`load: ${opts.devices} devices, ${opts.batch} events a commit, journal kept at ${opts.live} entries, `
  + `${opts.rounds} rounds (first ${WARMUP_ROUNDS} not counted) x ${opts.runs} runs a layout, alternating, seed ${opts.seed}`);
const layouts: Layout[] = ['page', 'frame-bytes', 'append-order', 'device-seq'];
const all = Object.fromEntries(layouts.map((l) => [l, { put: [], remove: [] }])) as unknown as Record<Layout, Run>;
for (let r = 0; r < opts.runs; r++) {
  // Each layout goes first, middle and last in turn.
  for (let i = 0; i < layouts.length; i++) {
    const layout = layouts[(i + r) % layouts.length]!;
    const res = await run(layout, opts.seed + r);
    all[layout].put.push(...res.put);
    all[layout].remove.push(...res.remove);
    process.stderr.write(`run ${r + 1}/${opts.runs} ${layout}: put commit median ${quantile(res.put, 0.5).toFixed(2)} ms\n`);
  }
}
const figures = Object.fromEntries(layouts.map((l) => [l, {
  putMs: { p50: quantile(all[l].put, 0.5), p90: quantile(all[l].put, 0.9) },
  removeMs: { p50: quantile(all[l].remove, 0.5), p90: quantile(all[l].remove, 0.9) },
  putMicrosPerEvent: (quantile(all[l].put, 0.5) * 1000) / opts.batch,
  commits: all[l].put.length,
}])) as Record<Layout, { putMs: { p50: number; p90: number }; removeMs: { p50: number; p90: number }; putMicrosPerEvent: number; commits: number }>;
console.log('\n| layout | commit of new events: p50 ms | p90 ms | per event, p50 | commit removing matched: p50 ms | p90 ms | commits timed |');
console.log('|---|---|---|---|---|---|---|');
for (const l of layouts) {
  const f = figures[l];
  console.log(`| ${l} | ${f.putMs.p50.toFixed(2)} | ${f.putMs.p90.toFixed(2)} | ${f.putMicrosPerEvent.toFixed(2)} us | ${f.removeMs.p50.toFixed(2)} | ${f.removeMs.p90.toFixed(2)} | ${f.commits} |`);
}
const now = figures.page;
console.log('');
for (const l of ['frame-bytes', 'append-order', 'device-seq'] as const) {
  const b = figures[l];
  console.log(`page / ${l}, medians: new events ${(now.putMs.p50 / b.putMs.p50).toFixed(2)}x the time, removals ${(now.removeMs.p50 / b.removeMs.p50).toFixed(2)}x`);
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/journal-keys.json', `${JSON.stringify({ machine, command, options: opts, warmupRounds: WARMUP_ROUNDS, figures }, null, 2)}\n`);
