/**
 * How fast can a worker match `dns` events against a million listed domains, and at what memory cost?
 *
 * Builds a WebIndex from N generated domains (fixed seed), then times lookups of a query mix (exact hits,
 * subdomain hits, misses) against the index and, in the same run on the same data, against the naive
 * baseline: a JS Set<string> probed with every parent suffix. The index is timed two ways: one domain a call
 * (`matchDomain`), and in batches of the pipeline's default batch size (`matchDomains`), which is how a worker
 * matches the `dns` events of a batch. Prints the figures and writes them as JSON to bench/results/domains.json.
 *
 * Every repetition gets fresh copies of the query strings, as events decoded from the network are: V8 caches
 * a string's hash in the string, so reusing one array of queries would let the Set skip hashing after the
 * first pass. The Set's memory likewise counts its own copies of the names, as a worker's would.
 *
 *   node --expose-gc dist/bench/domains.js [--entries 1000000] [--queries 1000000] [--reps 11] [--seed 42] [--batch 256]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { WebIndex } from '../matchers/web/index.js';
import { DEFAULT_PIPELINE_BATCH, seededRandom } from '../core/index.js';
import { benchCommand } from './bench-command.js';
import { benchMachine, machineLine } from './suite-machine.js';
import { summarise } from './stats.js';

/**
 * After each full collection, how long to wait before the clock starts: V8 sweeps the freed memory on helper
 * threads, which would otherwise share the two cores and the memory bus with the timed lookups.
 */
const SETTLE_MS = 200;
interface Options { entries: number; queries: number; reps: number; seed: number; batch: number }

function parseOptions(): Options {
  return benchCommand({
    run: 'node --expose-gc dist/bench/domains.js',
    summary: 'How fast a worker matches dns events against a million listed domains, and at what memory cost: the WebIndex,\n'
      + 'one domain a call and in batches, against a Set probed with every parent suffix, on the same data. Writes\n'
      + 'bench/results/domains.json. Without --expose-gc, the heap figures are approximate.',
    options: {
      entries: { kind: 'int', default: 1_000_000, min: 1, help: 'listed domains' },
      queries: { kind: 'int', default: 1_000_000, min: 1, help: 'queries in each mix' },
      reps: { kind: 'int', default: 11, min: 1, help: 'timed repetitions' },
      seed: { kind: 'int', default: 42, min: 1, help: 'seed of the generated names' },
      batch: { kind: 'int', default: DEFAULT_PIPELINE_BATCH, min: 1, help: 'domains per matchDomains call (the pipeline\'s batch)' },
    },
  }).values;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SUBDOMAINS = ['www', 'cdn', 'api', 'm', 'img', 'a1.b2', 'static.eu'];

/**
 * `entries` distinct names (so that each query's hit count is the same for the index and the Set), and two
 * query mixes: `mixed` is 1/3 listed names, 1/3 subdomains of listed names, 1/3 fresh names; `unlisted` is all
 * fresh names, as most of a real device's DNS traffic is.
 */
function generate({ entries, queries, seed }: Options): { listed: string[]; mixes: Record<'mixed' | 'unlisted', string[]> } {
  const next = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const label = (): string => {
    let s = pick([...LETTERS.slice(0, 26)]);
    const length = 5 + Math.floor(next() * 10);
    for (let i = 1; i < length; i++) s += pick([...LETTERS]);
    return s;
  };
  const name = (): string => {
    const base = `${label()}.${next() < 0.7 ? 'example' : 'test'}`;
    return next() < 0.2 ? `${label()}.${base}` : base;
  };
  const distinct = new Set<string>();
  while (distinct.size < entries) distinct.add(name());
  const listed = [...distinct].map(fresh);
  const unlisted = (): string => (next() < 0.5 ? name() : `${pick(SUBDOMAINS)}.${name()}`);
  const mixed = Array.from({ length: queries }, (_, i): string => {
    switch (i % 3) {
      case 0: return pick(listed);
      case 1: return `${pick(SUBDOMAINS)}.${pick(listed)}`;
      default: return unlisted();
    }
  });
  return { listed, mixes: { mixed, unlisted: Array.from({ length: queries }, unlisted) } };
}

/** A new flat string with the same characters, as a decoder would make from bytes off the wire. */
function fresh(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/** The baseline: a Set of the listed names, probed with the name and each parent. */
function baselineHits(set: ReadonlySet<string>, domain: string): number {
  let hits = set.has(domain) ? 1 : 0;
  for (let dot = domain.indexOf('.'); dot !== -1; dot = domain.indexOf('.', dot + 1)) {
    if (set.has(domain.slice(dot + 1))) hits++;
  }
  return hits;
}

/** A full collection, when the program runs with --expose-gc. */
function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

/** Heap in use after a full collection (with --expose-gc; without it, whatever is in use now). */
function heapUsed(): number {
  collect();
  return process.memoryUsage().heapUsed;
}

function time(run: () => void): number {
  const start = performance.now();
  run();
  return (performance.now() - start) / 1000;
}

/**
 * Nanoseconds per dependent random read over 64 MiB, about the size of a table of a million keys: the cost
 * of each cache miss a lookup makes, printed so that figures from different machines can be compared.
 */
function memoryLatencyNs(next: () => number): number {
  const cycle = new Int32Array(16 * 2 ** 20);
  for (let i = 0; i < cycle.length; i++) cycle[i] = i;
  for (let i = cycle.length - 1; i > 0; i--) { // Sattolo's shuffle: one cycle through every element
    const j = Math.floor(next() * i);
    const t = cycle[i] ?? 0;
    cycle[i] = cycle[j] ?? 0;
    cycle[j] = t;
  }
  const steps = 2_000_000;
  let at = 0;
  const seconds = time(() => { for (let i = 0; i < steps; i++) at = cycle[at] ?? 0; });
  return Math.round((seconds * 1e9) / steps);
}

/**
 * Nanoseconds this thread has spent on a CPU, from Linux's /proc/thread-self/schedstat; undefined elsewhere.
 * The process's CPU time (`process.cpuUsage`) would also count V8's helper threads, which go on sweeping
 * after a collection while the lookups are timed: 7-10% more CPU than wall time in a hand-run check.
 */
function threadCpuNs(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
  } catch {
    return undefined;
  }
}

/**
 * Wall-clock and CPU seconds of `run`. On a shared machine the thread is descheduled part of the time; its CPU
 * seconds leave that out, so lookups per CPU-second are the per-core rate the question asks for, while the
 * wall figure is what this run saw. The CPU time is this thread's where Linux reports it, else the process's.
 */
function timeBoth(run: () => void): { wall: number; cpu: number } {
  const threadStart = threadCpuNs();
  const cpuStart = process.cpuUsage();
  const wall = time(run);
  const threadEnd = threadCpuNs();
  if (threadStart !== undefined && threadEnd !== undefined) return { wall, cpu: (threadEnd - threadStart) / 1e9 };
  const { user, system } = process.cpuUsage(cpuStart);
  return { wall, cpu: (user + system) / 1e6 };
}

/** Blocks this thread for `ms` (V8's helper threads run on), without returning to the event loop. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function main(): void {
  const options = parseOptions();
  const script = relative(process.cwd(), fileURLToPath(import.meta.url));
  const command = ['node', ...process.execArgv, script, ...process.argv.slice(2)].join(' ');
  const machine = {
    ...benchMachine(),
    randomReadNs: memoryLatencyNs(seededRandom(options.seed)),
  };
  const exactHeap = typeof (globalThis as { gc?: unknown }).gc === 'function';
  console.log(`${machineLine(machine)} at start, ` +
    `${machine.randomReadNs} ns per dependent random read over 64 MiB`);
  console.log(`command: ${command}`);
  const cpuClock = threadCpuNs() === undefined ? 'process (user + system, all threads)' : 'this thread (/proc/thread-self/schedstat)';
  console.log(`timing: each pass starts ${SETTLE_MS} ms after a full collection; CPU time is ${cpuClock}`);
  console.log(`data: ${options.entries} distinct listed domains; two mixes of ${options.queries} queries, "mixed" (1/3 listed, 1/3 subdomains of listed, 1/3 unlisted) and "unlisted"; seed ${options.seed}; ${options.reps} repetitions`);

  const { listed, mixes } = generate(options);

  let index: WebIndex | undefined;
  const indexBuildSeconds = time(() => { index = WebIndex.build(listed); });
  if (index === undefined) throw new Error('unreachable');
  const web = index;
  const indexSharedBytes = web.byteLength;

  const heap = heapUsed();
  const names = listed.map(fresh);
  let set = new Set<string>();
  const baselineBuildSeconds = time(() => { set = new Set(names); });
  const baselineHeapBytes = heapUsed() - heap;

  const perEntry = (bytes: number): number => Math.round((bytes / options.entries) * 10) / 10;
  console.log(`build: WebIndex ${indexBuildSeconds.toFixed(2)} s, Set ${baselineBuildSeconds.toFixed(2)} s`);
  console.log(`memory: WebIndex ${perEntry(indexSharedBytes)} B/entry shared (${(indexSharedBytes / 2 ** 20).toFixed(1)} MiB, one copy for all workers), ` +
    `Set ${perEntry(baselineHeapBytes)} B/entry of JS heap per thread, names included${exactHeap ? '' : ' (approximate: run with --expose-gc)'}`);

  const race = (mixName: string, mix: readonly string[]) => {
    let hitQueries = 0;
    for (const q of mix) {
      const ours = web.matchDomain(q).length;
      if (ours > 0) hitQueries++;
      if (ours !== baselineHits(set, q)) throw new Error(`index and baseline disagree on ${JSON.stringify(q)}`);
    }
    const batchHits = new Int32Array(mix.length);
    for (let first = 0; first < mix.length; first += options.batch) {
      web.matchDomains(mix.slice(first, first + options.batch), (k) => { batchHits[first + k] = (batchHits[first + k] ?? 0) + 1; });
    }
    mix.forEach((q, k) => {
      if (batchHits[k] !== baselineHits(set, q)) throw new Error(`batched index and baseline disagree on ${JSON.stringify(q)}`);
    });
    const arms = {
      single: { wall: [] as number[], cpu: [] as number[] },
      batched: { wall: [] as number[], cpu: [] as number[] },
      baseline: { wall: [] as number[], cpu: [] as number[] },
    };
    let sink = 0;
    const countHit = (): void => { sink++; };
    const timeArm = (arm: keyof typeof arms, run: (queries: readonly string[]) => void, batched: boolean): void => {
      // Fresh copies, made and then promoted by a full collection before the clock starts: otherwise each minor
      // collection during the timed loop would copy a million young strings, on every side alike.
      const copies = mix.map(fresh);
      const queries = batched ? Array.from({ length: Math.ceil(copies.length / options.batch) }, (_, b) =>
        copies.slice(b * options.batch, (b + 1) * options.batch)) : [copies];
      collect();
      pause(SETTLE_MS);
      const { wall, cpu } = timeBoth(() => { for (const q of queries) run(q); });
      arms[arm].wall.push(mix.length / wall);
      arms[arm].cpu.push(mix.length / cpu);
    };
    for (let rep = 0; rep < options.reps; rep++) {
      // In turn, so that noise from other tenants on the machine falls on every side alike.
      timeArm('single', (queries) => { for (const q of queries) sink += web.matchDomain(q).length; }, false);
      timeArm('batched', (batch) => { web.matchDomains(batch, countHit); }, true);
      timeArm('baseline', (queries) => { for (const q of queries) sink += baselineHits(set, q); }, false);
    }
    const summary = (arm: keyof typeof arms) => ({ wall: summarise(arms[arm].wall), cpu: summarise(arms[arm].cpu) });
    const single = summary('single');
    const batched = summary('batched');
    const baseline = summary('baseline');
    const mega = (rate: number): string => `${(rate / 1e6).toFixed(2)}M/s`;
    const line = (r: { median: number; p10: number; p90: number }): string => `median ${mega(r.median)} (p10 ${mega(r.p10)}, p90 ${mega(r.p90)})`;
    const both = (r: typeof single): string => `${line(r.wall)} / ${line(r.cpu)}`;
    console.log(`${mixName} mix, ${(hitQueries / mix.length * 100).toFixed(1)}% of queries match (checksum ${sink}); lookups per second of wall-clock time / per CPU-second:`);
    console.log(`  WebIndex.matchDomains, batches of ${options.batch}  ${both(batched)}`);
    console.log(`  WebIndex.matchDomain, one a call   ${both(single)}`);
    console.log(`  Set + suffix loop                  ${both(baseline)}`);
    const ratio = (a: typeof single, b: typeof single): string => `${(a.wall.median / b.wall.median).toFixed(2)} / ${(a.cpu.median / b.cpu.median).toFixed(2)}`;
    console.log(`  ratios of medians: batched / Set ${ratio(batched, baseline)}, one a call / Set ${ratio(single, baseline)}`);
    return {
      hitRate: hitQueries / mix.length,
      batched: { ...batched, runs: arms.batched }, single: { ...single, runs: arms.single }, baseline: { ...baseline, runs: arms.baseline },
      ratioBatchedToBaseline: batched.wall.median / baseline.wall.median, ratioSingleToBaseline: single.wall.median / baseline.wall.median,
    };
  };
  const lookupsPerSecond = { mixed: race('mixed', mixes.mixed), unlisted: race('unlisted', mixes.unlisted) };

  const loadAverageEnd = Math.round((loadavg()[0] ?? 0) * 100) / 100;
  console.log(`load average ${loadAverageEnd} at the end`);
  const results = {
    benchmark: 'domains', date: new Date().toISOString(), machine: { ...machine, loadAverageEnd1m: loadAverageEnd }, command, options,
    timing: { settleMs: SETTLE_MS, cpuClock },
    build: { indexSeconds: indexBuildSeconds, baselineSeconds: baselineBuildSeconds },
    memory: {
      indexSharedBytes, indexBytesPerEntry: perEntry(indexSharedBytes),
      baselineHeapBytes, baselineBytesPerEntry: perEntry(baselineHeapBytes), exactHeap,
    },
    lookupsPerSecond,
  };
  const folder = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  mkdirSync(folder, { recursive: true });
  writeFileSync(`${folder}domains.json`, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${relative(process.cwd(), folder)}/domains.json`);
}

main();
