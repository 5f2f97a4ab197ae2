/**
 * `vigil bench` options: a profile (`--quick` or the full run) sets every duration and size, and
 * single flags override them, which is how the tests run the whole suite on a tiny configuration.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/index.js';

export type Phase = 'budget' | 'ratio' | 'scaling' | 'http' | 'heartbeat';
export const PHASES: readonly Phase[] = ['budget', 'ratio', 'scaling', 'http', 'heartbeat'];

export interface SuiteOptions {
  /** `custom` when flags change the profile's durations or sizes. */
  profile: 'quick' | 'full' | 'custom';
  /** A running server to measure instead of one the suite starts. */
  url: string | undefined;
  /** The running server's data folder (devices and consumer are enrolled there). */
  dataDir: string | undefined;
  tokensFile: string | undefined;
  consumerToken: string | undefined;
  /** The running server's process id, for its CPU and memory. */
  serverPid: number | undefined;
  check: boolean;
  budgetsPath: string;
  seed: number;
  procs: number;
  outDir: string;
  /** Where the latest full run's Markdown and charts are copied (bench/report), or undefined. */
  publishDir: string | undefined;
  phases: ReadonlySet<Phase>;
  baseline: boolean;
  /** Budget and ratio phases: devices (default: the budgets file's), warm-up and measured seconds. */
  devices: number | undefined;
  warmup: number;
  seconds: number;
  ratioSeconds: number;
  window: number;
  steps: number[];
  stepSeconds: number;
  /** Scaling: events/s per device (default: the budgets file's scalingRatePerDevice). */
  scalingRate: number | undefined;
  httpSeconds: number;
  httpConnections: number;
  heartbeat: { devices: number; seconds: number; graceSeconds: number };
  images: { listed: number; unlisted: number; width: number; height: number };
}

export const SUITE_USAGE = `Usage: vigil bench [--quick] [--check] [--url URL (--data DIR | --tokens-file F --consumer-token T)]

Runs the load benchmark suite: a device swarm against latency budgets (bench/budgets.json), Vigil
against a minimal ws+LMDB baseline, a scaling curve over connections, autocannon on the alert
endpoints and /metrics, and heartbeat deadlines. Writes report.md, report.json and SVG charts to
bench/results/<timestamp>/ and, for a full run, copies them to bench/report/.

  --quick                 under two minutes (the full run takes under fifteen)
  --check                 exit 1 when any budget is missed
  --url URL               measure a running server (its --data DIR, or --tokens-file and --consumer-token);
                          with --data, the devices and consumer it enrols there are revoked when the run
                          ends, fails or is interrupted (Ctrl-C)
  --server-pid PID        with --url: the server's process, for its CPU and memory
  --budgets FILE          budgets file (default bench/budgets.json)
  --phases LIST           some of ${PHASES.join(',')} (default all)
  --no-baseline           skip the baseline server
  --seed N --procs N      seed (default 1); load processes (default 2)
  --devices N --warmup S --seconds S --window N      budget and ratio phases
  --steps N,N,... --step-seconds S --scaling-rate R  scaling curve
  --http-seconds S --heartbeat-devices N --images LISTED,UNLISTED
  --out DIR --no-publish  results folder (default bench/results); skip the bench/report copy
  --render REPORT.json    write report.md and the charts again from a run's figures
`;

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Where the latest full run's Markdown and charts are kept (committed). */
export const PUBLISH_DIR = `${repoRoot}bench/report`;

function num(raw: string | undefined, flag: string, dflt: number, min = 0): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`${flag} must be a number >= ${min}`);
  return n;
}

function list(raw: string, flag: string): number[] {
  const xs = raw.split(',').map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x <= 0)) throw new UsageError(`${flag} must be positive integers separated by commas`);
  return xs;
}

export function parseSuiteOptions(args: string[], dataDir: string | undefined): SuiteOptions {
  const { values: v } = parseArgs({
    args, strict: true,
    options: {
      quick: { type: 'boolean' }, check: { type: 'boolean' }, url: { type: 'string' }, 'tokens-file': { type: 'string' },
      'consumer-token': { type: 'string' }, 'server-pid': { type: 'string' }, budgets: { type: 'string' },
      phases: { type: 'string' }, 'no-baseline': { type: 'boolean' }, seed: { type: 'string' }, procs: { type: 'string' },
      devices: { type: 'string' }, warmup: { type: 'string' }, seconds: { type: 'string' }, window: { type: 'string' },
      steps: { type: 'string' }, 'step-seconds': { type: 'string' }, 'scaling-rate': { type: 'string' },
      'http-seconds': { type: 'string' }, 'heartbeat-devices': { type: 'string' }, images: { type: 'string' },
      out: { type: 'string' }, 'no-publish': { type: 'boolean' },
    },
  });
  const quick = v.quick === true;
  const url = v.url;
  if (url === undefined && (v['tokens-file'] !== undefined || v['server-pid'] !== undefined)) {
    throw new UsageError('--tokens-file and --server-pid go with --url');
  }
  if (url === undefined && dataDir !== undefined) {
    throw new UsageError('--data goes with --url (the server\'s data folder); without --url the suite uses temporary folders');
  }
  if (url !== undefined && dataDir === undefined && v['tokens-file'] === undefined) {
    throw new UsageError('--url needs the server\'s --data DIR, or --tokens-file F (and --consumer-token T for alert latency)');
  }
  const phases = new Set<Phase>(v.phases === undefined ? PHASES : v.phases.split(',').map((p) => {
    if (!(PHASES as readonly string[]).includes(p.trim())) throw new UsageError(`--phases: ${p} is not one of ${PHASES.join(', ')}`);
    return p.trim() as Phase;
  }));
  const [listed, unlisted] = v.images === undefined ? (quick ? [4, 12] : [8, 24]) : list(v.images, '--images');
  const seconds = num(v.seconds, '--seconds', quick ? 6 : 30, 1);
  const custom = Object.keys(v).some((k) => !['quick', 'check', 'url', 'tokens-file', 'consumer-token', 'server-pid', 'no-publish', 'out'].includes(k));
  return {
    profile: custom ? 'custom' : quick ? 'quick' : 'full', url, dataDir: url === undefined ? undefined : dataDir,
    tokensFile: v['tokens-file'], consumerToken: v['consumer-token'],
    serverPid: v['server-pid'] === undefined ? undefined : num(v['server-pid'], '--server-pid', 0, 1),
    check: v.check === true, budgetsPath: v.budgets ?? `${repoRoot}bench/budgets.json`,
    seed: Math.floor(num(v.seed, '--seed', 1)), procs: Math.floor(num(v.procs, '--procs', 2, 1)),
    outDir: v.out ?? 'bench/results',
    // Only a full run with the default figures, on a server the suite starts, becomes "the latest full run".
    publishDir: quick || url !== undefined || v['no-publish'] === true || custom ? undefined : PUBLISH_DIR,
    phases, baseline: v['no-baseline'] !== true,
    devices: v.devices === undefined ? undefined : Math.floor(num(v.devices, '--devices', 0, 1)),
    warmup: num(v.warmup, '--warmup', quick ? 2 : 5), seconds,
    ratioSeconds: v.seconds === undefined ? (quick ? 4 : 20) : seconds,
    window: Math.floor(num(v.window, '--window', 8, 1)),
    steps: v.steps === undefined ? (quick ? [100, 1000] : [100, 1000, 2500, 5000, 10000, 19000]) : list(v.steps, '--steps'),
    stepSeconds: num(v['step-seconds'], '--step-seconds', quick ? 4 : 10, 1),
    scalingRate: v['scaling-rate'] === undefined ? undefined : num(v['scaling-rate'], '--scaling-rate', 0, 0.001),
    httpSeconds: num(v['http-seconds'], '--http-seconds', quick ? 2 : 10, 1),
    httpConnections: 16,
    heartbeat: { devices: Math.floor(num(v['heartbeat-devices'], '--heartbeat-devices', quick ? 100 : 200, 1)), seconds: 2, graceSeconds: 1 },
    images: { listed: listed ?? 4, unlisted: unlisted ?? 12, width: 640, height: 480 },
  };
}
