/**
 * How fast is a PDQ lookup in a list of millions of hashes? Per list size, one run:
 *  - builds a `HashIndex` from random PDQ hashes (fixed seed) with planted near-duplicates of the queries,
 *    timing the build and reporting shared memory per listed hash;
 *  - times `match` (our multi-index hashing), `scanPdq` (brute-force SIMD scan) and the published
 *    multi-index scheme (16 slices of 16 bits, every bucket entry verified on its full hash; built here
 *    over the same shared hashes) on the same queries, each query being 8 hashes as an image's 8
 *    dihedral hashes are, and reports p50/p99 and the ratios;
 *  - checks that all three give the same matches and that every planted hash within 31 bits was found.
 *
 * Usage: node dist/bench/hash-index.js [--sizes 1000000,10000000] [--queries N] [--scan-queries N] [--seed S]
 * (10 million hashes take about 1 GB of shared memory; see bench/README.md.)
 * Writes bench/results/hash-index.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HashIndex } from '../matchers/hash-index/index.js';
import { PDQ_MATCH_THRESHOLD, type PdqHash } from '../matchers/pdq/index.js';
import { seededUint32 } from '../core/index.js';
import { benchCommand } from './bench-command.js';
import { benchMachine, machineLine } from './suite-machine.js';

const DEFAULT_SIZES = [1_000_000, 10_000_000];
const DEFAULT_QUERIES = 1000;
/** The scan costs a full pass per query; at 10 million hashes fewer queries still give a stable p50/p99. */
const DEFAULT_SCAN_QUERIES = (size: number): number => (size > 2_000_000 ? 100 : 300);
const DEFAULT_SEED = 20240611;
const WARM_UP = 20;
/** Queries that have near-duplicates planted in the list, and how many each. */
const PLANTED_QUERY_SHARE = 0.5;
const PLANTS_PER_QUERY = 4;
const RESULTS = fileURLToPath(new URL('../../bench/results/hash-index.json', import.meta.url));

interface Args {
  sizes: number[];
  queries: number;
  scanQueries: number | undefined;
  seed: number;
}

function parseArgs(): Args {
  const { values } = benchCommand({
    run: 'node dist/bench/hash-index.js',
    summary: 'How fast a PDQ lookup is in a list of millions of hashes: per list size, HashIndex.match against a brute-force\n'
      + 'scan and the published multi-index scheme, on the same queries of 8 dihedral hashes, with the matches checked\n'
      + 'alike. 10 million hashes take about 1 GB of shared memory. Writes bench/results/hash-index.json.',
    options: {
      sizes: { kind: 'ints', default: DEFAULT_SIZES, help: 'list sizes, one run each' },
      queries: { kind: 'int', default: DEFAULT_QUERIES, min: 1, help: 'queries of 8 hashes' },
      'scan-queries': { kind: 'int', min: 1, help: 'queries for the brute-force scan (default 300, 100 over 2 million hashes)' },
      seed: { kind: 'int', default: DEFAULT_SEED, help: 'seed of the hashes and queries' },
    },
  });
  return { sizes: values.sizes, queries: values.queries, scanQueries: values['scan-queries'], seed: values.seed };
}

function randomHash(random: () => number): PdqHash {
  const h = new Uint32Array(8);
  for (let i = 0; i < 8; i++) h[i] = random();
  return h as PdqHash;
}

/** `hash` with `bits` distinct bits flipped. */
function flipBits(hash: PdqHash, bits: number, random: () => number): PdqHash {
  const out = new Uint32Array(hash) as PdqHash;
  const flipped = new Set<number>();
  while (flipped.size < bits) flipped.add(random() & 255);
  for (const b of flipped) out[b >>> 5] = (out[b >>> 5]! ^ (1 << (b & 31))) >>> 0;
  return out;
}

interface Stats {
  p50: number;
  p99: number;
  mean: number;
  max: number;
  n: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1]!, n: s.length };
}

function timeMs<T>(fn: () => T): [number, T] {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, r];
}

const key = (m: readonly { entry: number; distance: number }[]): string => m.map((x) => `${x.entry}:${x.distance}`).join(',');

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * The published multi-index hashing for PDQ at radius 31 (Norouzi, Punjani and Fleet; the scheme Meta's
 * PDQ index uses): 16 slices of 16 bits, one posting list of positions per slice value; a hash within 31
 * has a slice within 1 bit (16 slices x 2 > 31), so each slice is probed at its value and its 16 one-bit
 * neighbours, and every position found is verified on its full hash, deduplicated by a generation stamp.
 * 64 bytes of postings per hash, as our index has; the difference is what a bucket entry holds.
 */
class PublishedMih {
  private readonly starts: Uint32Array[] = [];
  private readonly ids: Uint32Array[] = [];
  private readonly stamp: Uint32Array;
  private generation = 0;

  constructor(
    private readonly hashes: Uint32Array,
    private readonly count: number,
  ) {
    this.stamp = new Uint32Array(count);
    for (let slice = 0; slice < 16; slice++) {
      const starts = new Uint32Array(65537);
      const ids = new Uint32Array(count);
      for (let j = 0; j < count; j++) starts[this.sliceOf(j, slice) + 1]!++;
      for (let v = 0; v < 65536; v++) starts[v + 1]! += starts[v]!;
      const cursor = starts.slice(0, 65536);
      for (let j = 0; j < count; j++) ids[cursor[this.sliceOf(j, slice)]!++] = j;
      this.starts.push(starts);
      this.ids.push(ids);
    }
  }

  get bytes(): number {
    return 16 * (65537 * 4 + this.count * 4);
  }

  match(queries: readonly PdqHash[], threshold: number): { entry: number; distance: number }[] {
    const out: { entry: number; distance: number }[] = [];
    const generation = ++this.generation;
    const { hashes, stamp } = this;
    for (const q of queries) {
      for (let slice = 0; slice < 16; slice++) {
        const value = slice & 1 ? q[slice >> 1]! & 0xffff : q[slice >> 1]! >>> 16;
        const starts = this.starts[slice]!;
        const ids = this.ids[slice]!;
        for (let probe = -1; probe < 16; probe++) {
          const v = probe < 0 ? value : value ^ (1 << probe);
          for (let k = starts[v]!, end = starts[v + 1]!; k < end; k++) {
            const id = ids[k]!;
            if (stamp[id] === generation) continue;
            stamp[id] = generation;
            let best = threshold + 1;
            for (const h of queries) {
              let d = 0;
              for (let w = 0; w < 8; w++) d += popcount32(hashes[id * 8 + w]! ^ h[w]!);
              if (d < best) best = d;
            }
            if (best <= threshold) out.push({ entry: id, distance: best });
          }
        }
      }
    }
    return out.sort((a, b) => a.entry - b.entry);
  }

  private sliceOf(j: number, slice: number): number {
    const word = this.hashes[j * 8 + (slice >> 1)]!;
    return slice & 1 ? word & 0xffff : word >>> 16;
  }
}

function runSize(size: number, args: Args): Record<string, unknown> {
  const random = seededUint32(args.seed ^ size);
  const queries = Array.from({ length: args.queries }, () => Array.from({ length: 8 }, () => randomHash(random)));

  // Planted near-duplicates: a random one of a query's 8 hashes with 0..40 bits flipped (over 31 must not match).
  const planted = new Map<number, PdqHash>();
  const expected: { query: number; entry: number; distance: number }[] = [];
  for (let q = 0; q < Math.floor(queries.length * PLANTED_QUERY_SHARE); q++) {
    for (let k = 0; k < PLANTS_PER_QUERY; k++) {
      let entry = random() % size;
      while (planted.has(entry)) entry = random() % size;
      const distance = random() % 41;
      planted.set(entry, flipBits(queries[q]![random() & 7]!, distance, random));
      expected.push({ query: q, entry, distance });
    }
  }

  const hex = Buffer.alloc(32);
  const words = new Uint32Array(8);
  function* entries(): Generator<{ hashType: string; value: string }> {
    for (let i = 0; i < size; i++) {
      const plant = planted.get(i);
      for (let w = 0; w < 8; w++) words[w] = plant === undefined ? random() : plant[w]!;
      for (let w = 0; w < 8; w++) hex.writeUInt32BE(words[w]!, w * 4);
      yield { hashType: 'pdq', value: hex.toString('hex') };
    }
  }

  console.log(`\n${size.toLocaleString('en')} PDQ hashes (seed ${args.seed ^ size}):`);
  const [buildMs, index] = timeMs(() => HashIndex.build(entries()));
  const pdq = index.stats().pdq;
  const memory = process.memoryUsage();
  console.log(
    `  build ${(buildMs / 1000).toFixed(1)} s (including generating the hex); shared memory ${(index.bytes / 2 ** 20).toFixed(0)} MiB, ` +
      `${(pdq.bytes / pdq.count).toFixed(1)} bytes per PDQ hash; rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB`,
  );

  const scanQueries = Math.min(args.scanQueries ?? DEFAULT_SCAN_QUERIES(size), queries.length);
  const [publishedBuildMs, published] = timeMs(() => new PublishedMih(new Uint32Array(index.toShared().pdq.hashes), size));
  for (let i = 0; i < WARM_UP; i++) index.match({ pdq: queries[i % queries.length]! });
  for (let i = 0; i < Math.min(3, WARM_UP); i++) {
    index.scanPdq(queries[i]!);
    published.match(queries[i]!, PDQ_MATCH_THRESHOLD);
  }

  const mihMs: number[] = [];
  const scanMs: number[] = [];
  const publishedMs: number[] = [];
  let differing = 0;
  let matches = 0;
  const found = new Set<string>();
  queries.forEach((q, i) => {
    const [ms, m] = timeMs(() => index.match({ pdq: q }));
    mihMs.push(ms);
    matches += m.length;
    for (const x of m) found.add(`${i}:${x.entry}`);
    if (i < scanQueries) {
      const [sms, s] = timeMs(() => index.scanPdq(q));
      scanMs.push(sms);
      const [pms, p] = timeMs(() => published.match(q, PDQ_MATCH_THRESHOLD));
      publishedMs.push(pms);
      if (key(s) !== key(m) || key(p) !== key(m)) differing++;
    }
  });
  const within = expected.filter((e) => e.distance <= PDQ_MATCH_THRESHOLD);
  const missed = within.filter((e) => !found.has(`${e.query}:${e.entry}`)).length;
  const mih = stats(mihMs);
  const scan = stats(scanMs);
  const publishedStats = stats(publishedMs);
  const fmt = (s: Stats): string => `p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms, mean ${s.mean.toFixed(3)} ms (n=${s.n})`;
  const ratio = (a: Stats, b: Stats): string => `p50 ${(a.p50 / b.p50).toFixed(1)}x, p99 ${(a.p99 / b.p99).toFixed(1)}x`;
  console.log(`  ours (multi-index + inline filter): ${fmt(mih)}`);
  console.log(
    `  published multi-index (16 x 16):    ${fmt(publishedStats)}; built in ${(publishedBuildMs / 1000).toFixed(1)} s, ` +
      `${(32 + published.bytes / size).toFixed(1)} bytes per hash`,
  );
  console.log(`  SIMD scan:                          ${fmt(scan)}`);
  console.log(`  scan / ours: ${ratio(scan, mih)}; published / ours: ${ratio(publishedStats, mih)}`);
  console.log(
    `  check: ${matches} matches over ${queries.length} queries; planted within 31 found ${within.length - missed}/${within.length}; ` +
      `the three differ on ${differing}/${scanQueries} queries`,
  );
  if (missed > 0 || differing > 0) process.exitCode = 1;
  const result = {
    size,
    seed: args.seed ^ size,
    queries: queries.length,
    hashesPerQuery: 8,
    threshold: PDQ_MATCH_THRESHOLD,
    buildMs,
    sharedBytes: index.bytes,
    pdqBytesPerHash: pdq.bytes / pdq.count,
    publishedBytesPerHash: 32 + published.bytes / size,
    rssBytes: memory.rss,
    multiIndex: mih,
    publishedMultiIndex: publishedStats,
    scan,
    ratio: {
      scanOverOurs: { p50: scan.p50 / mih.p50, p99: scan.p99 / mih.p99 },
      publishedOverOurs: { p50: publishedStats.p50 / mih.p50, p99: publishedStats.p99 / mih.p99 },
    },
    check: { matches, plantedWithinThreshold: within.length, missed, differing, compared: scanQueries },
  };
  index.dispose();
  return result;
}

function main(): void {
  const args = parseArgs();
  const machine = benchMachine();
  const command = `node ${process.execArgv.join(' ')} ${process.argv.slice(1).join(' ')}`.replace(/\s+/g, ' ');
  console.log(machineLine(machine));
  console.log(`command: ${command}`);
  console.log(`sizes: ${args.sizes.join(', ')}; queries: ${args.queries} of 8 hashes; seed: ${args.seed}`);
  const runs = args.sizes.map((size) => runSize(size, args));
  const result = { bench: 'hash-index', date: new Date().toISOString(), machine, command, seed: args.seed, runs };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${RESULTS}`);
}

main();
