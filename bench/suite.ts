/**
 * `vigil bench` and `npm run bench`: the load benchmark suite for operators. How many devices one
 * node carries and how fast an alert reaches a manager, against the budgets in bench/budgets.json,
 * with Vigil's ingest stated as a ratio to a minimal baseline. It starts its servers on temporary
 * data folders (or measures a running one with `--url`), runs the phases in bench/suite-phases.ts,
 * and writes report.json, report.md and SVG charts to bench/results/<timestamp>/.
 * Run: node dist/bench/suite.js [--quick] [--check] [...] (see SUITE_USAGE).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Io } from '../cli/commands.js';
import { UsageError, isUsageError } from '../core/index.js';
import { evaluate, loadBudgets, offeredRate } from './budgets.js';
import { fetchFrom } from './http-load.js';
import { openRawWs } from './raw-ws-client.js';
import { raiseFileLimit, sampleProcess } from './server-process.js';
import { BENCH_NAMES, LiveEnrolment } from './live-enrolment.js';
import { credentialsFromFile, type Credentials } from './suite-data.js';
import { loadAverage, machineInfo, versions } from './suite-machine.js';
import { PUBLISH_DIR, parseSuiteOptions, SUITE_USAGE, type SuiteOptions } from './suite-options.js';
import {
  budgetDevices, budgetPhase, freshServer, heartbeatPhase, httpPhase, ratioPhase, scalingPhase, scalingRate,
  type Server, type SuiteContext,
} from './suite-phases.js';
import { carriedDevices, writeReport, type SuiteReport } from './suite-report.js';
import { makeImageSet } from './swarm-images.js';
import { STOP_SIGNALS, signalExitCode } from '../cli/stop-signals.js';
import { Unpackr } from 'msgpackr';

/** Devices the suite keeps below the open-files limit for the server's own descriptors. */
const FD_HEADROOM = 400;
const HTTP_BACKGROUND_DEVICES = 100;
/** With --url, the heartbeat phase waits for the server's own deadline only if it is this short. */
const MAX_URL_HEARTBEAT_WAIT_S = 120;
const DEFAULT_GRACE_SECONDS = 30;

/** One line per phase event; the per-second ticks overwrite each other on a terminal, every 5 s otherwise. */
function progressPrinter(io: Io, started: number): (line: string) => void {
  let lastTick = 0;
  let open = false;
  return (line) => {
    const elapsed = (performance.now() - started) / 1000;
    const stamp = `${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(Math.floor(elapsed % 60)).padStart(2, '0')}`;
    const tick = /^\[[^\]]+\]\s+\d+\/\d+ s /.test(line);
    if (tick && io.isTTY) { process.stderr.write(`\r\x1b[K${stamp} ${line}`); open = true; return }
    if (tick && performance.now() - lastTick < 5000) return;
    if (tick) lastTick = performance.now();
    if (open) { process.stderr.write('\n'); open = false }
    io.err(`${stamp} ${line}`);
  };
}

/** Reads a device's hello from a running server: its heartbeat policy. */
async function probeHeartbeatSeconds(port: number, token: string): Promise<number> {
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  let resolveHello: (s: number) => void = () => {};
  const hello = new Promise<number>((r) => { resolveHello = r });
  const sock = await openRawWs('127.0.0.1', port, '/v1/device', token, {
    message: (p) => { const m = unpackr.unpack(p) as { type?: string; policy?: { heartbeatSeconds?: number } }; if (m.type === 'hello') resolveHello(m.policy?.heartbeatSeconds ?? 0) },
    close: () => resolveHello(0),
  });
  const timeout = new Promise<number>((r) => setTimeout(() => r(0), 10_000).unref());
  const s = await Promise.race([hello, timeout]);
  sock.destroy();
  return s;
}

/** The running server of `--url`, and the devices enrolled in its data folder for this run (none with --tokens-file). */
interface RunningServer { server: Server; creds: Credentials; enrolment: LiveEnrolment | undefined }

async function runningServer(o: SuiteOptions, ctx: SuiteContext, devices: number): Promise<RunningServer> {
  const u = new URL(o.url!);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const pid = o.serverPid;
  const server: Server = { target: 'vigil', port, handle: { sample: () => (pid === undefined ? undefined : sampleProcess(pid)), stop: async () => {} } };
  if (o.dataDir === undefined) {
    ctx.notes.push('--tokens-file: the hashes list was not imported; image alerts arrive only if the server lists bench-images\' hashes');
    return { server, creds: credentialsFromFile(o.tokensFile!, o.consumerToken), enrolment: undefined };
  }
  const dir = resolve(o.dataDir);
  // Nothing is enrolled for a server that is not there.
  await (await fetchFrom(`http://127.0.0.1:${port}`, '/v1/alerts')).arrayBuffer();
  ctx.progress(`enrolling ${devices} devices (subjects ${BENCH_NAMES.subject}-0..${devices - 1}) and a consumer in ${dir}, audited; `
    + 'they are revoked when the run ends');
  const enrolment = await LiveEnrolment.enrol(dir, devices, ctx.images.hashesCsv, () => ctx.signal.aborted);
  if (enrolment.leftovers !== undefined) { ctx.progress(enrolment.leftovers); ctx.notes.push(`before the run: ${enrolment.leftovers}`) }
  return { server, creds: enrolment.creds, enrolment };
}

/** Revokes what the run enrolled in the running server's data folder, and says so. */
async function retire(enrolment: LiveEnrolment, progress: (line: string) => void): Promise<string> {
  progress(`revoking the ${enrolment.devices} devices and the consumer token this run enrolled in ${enrolment.dir}`);
  const r = await enrolment.retire();
  const line = `revoked the ${r.devices} devices${r.consumer ? ' and the consumer token' : ''} this run enrolled in ${enrolment.dir} `
    + `(audited): they owe no heartbeats, so no heartbeat-missed alerts follow; their subjects (${BENCH_NAMES.subject}-N) `
    + 'and orders stay in the registry, inert';
  progress(line);
  return line;
}

/** `--render FILE`: writes report.md and the charts again from a run's report.json (after the rendering changed). */
function render(file: string, io: Io): number {
  const report = JSON.parse(readFileSync(file, 'utf8')) as SuiteReport;
  const files = writeReport(report, dirname(resolve(file)), report.profile === 'full' ? PUBLISH_DIR : undefined);
  io.out(`rendered ${files.length} files from ${file}${report.profile === 'full' ? ` (copied to ${PUBLISH_DIR})` : ''}`);
  return 0;
}

export async function runSuite(args: string[], io: Io, dataDir?: string): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { io.out(SUITE_USAGE); return 0 }
  if (args[0] === '--render' && args[1] !== undefined) return render(args[1], io);
  const o = parseSuiteOptions(args, dataDir);
  // Ctrl-C, SIGTERM (kill, timeout, a service stop) or SIGHUP (a closed terminal) ends the run early: the swarm and
  // the servers the suite started are stopped, and the devices it enrolled in a running server's data folder are
  // revoked, before it exits as a shell would for that signal (128 + its number). A second one quits at once.
  const abort = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stoppedBy !== undefined) process.exit(signalExitCode(signal));
    stoppedBy = signal;
    abort.abort(new Error('interrupted'));
    io.err(`vigil bench: interrupted (${signal}): winding up (again to quit at once, leaving enrolled devices to the next run to revoke)`);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    const code = await measure(args, io, o, abort.signal);
    return stoppedBy === undefined ? code : signalExitCode(stoppedBy);
  } catch (err) {
    if (stoppedBy === undefined) throw err;
    io.err('vigil bench: interrupted: no report written');
    return signalExitCode(stoppedBy);
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}

async function measure(args: string[], io: Io, o: SuiteOptions, signal: AbortSignal): Promise<number> {
  const budgets = loadBudgets(o.budgetsPath);
  const openFiles = raiseFileLimit();
  const t0 = performance.now();
  const startedAt = new Date();
  const progress = progressPrinter(io, t0);
  const notes: string[] = [];
  const devices = budgetDevices({ o, budgets } as SuiteContext);
  const maxSteps = o.steps.filter((n) => n <= openFiles.soft - FD_HEADROOM);
  if (maxSteps.length < o.steps.length) {
    notes.push(`scaling: steps above ${openFiles.soft - FD_HEADROOM} connections (${o.steps.filter((n) => !maxSteps.includes(n)).join(', ')}) `
      + `left out: the open-files limit is ${openFiles.soft} (hard ${openFiles.hard}) per process and the server holds one descriptor per connection`);
    o.steps = maxSteps;
  }
  const report: SuiteReport = {
    version: 1, startedAt: startedAt.toISOString(), finishedAt: '', durationSeconds: 0, profile: o.profile,
    budgetsFile: relative(process.cwd(), o.budgetsPath) || o.budgetsPath,
    command: `vigil bench ${args.join(' ')}`.trim(), seed: o.seed, machine: machineInfo(openFiles), versions: versions(),
    server: o.url === undefined
      ? { kind: 'started by the suite', config: {}, workers: 'pipeline.workers = min(4, cores)' }
      : { kind: 'running (--url)', url: o.url, config: {} },
    load: { procs: o.procs, devices, offeredPerSecond: Math.round(offeredRate(budgets)), window: o.window },
    images: { ...o.images, meanBytes: 0 }, budgets, phases: {}, verdicts: [], notes,
  };
  progress(`vigil bench (${o.profile}): ${[...o.phases].join(', ')}; load average ${report.machine.loadAverage.start.join(' / ')}`);
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  let running: RunningServer | undefined;
  let cleanUp = 'nothing enrolled: the suite started its own servers on temporary folders, removed as it ends';
  try {
    progress(`drawing ${o.images.listed + o.images.unlisted} synthetic images`);
    const images = await makeImageSet({ seed: o.seed, ...o.images, dir: join(tmp, 'images') });
    report.images.meanBytes = images.meanBytes;
    const ctx: SuiteContext = { o, budgets, images, tmp, progress, notes, signal };
    const wantMain = o.phases.has('budget') || o.phases.has('ratio') || o.phases.has('http');
    const urlNeeds = Math.max(devices, HTTP_BACKGROUND_DEVICES, ...(o.phases.has('scaling') ? o.steps : []), o.heartbeat.devices);
    signal.throwIfAborted();
    if (o.url !== undefined) {
      running = await runningServer(o, ctx, urlNeeds);
      if (!running.enrolment) cleanUp = 'nothing enrolled: the devices given by token (--tokens-file) are left as they are';
    }
    signal.throwIfAborted();

    if (wantMain) {
      const main = running ?? await freshServer(ctx, 'vigil', 'vigil', Math.max(devices, HTTP_BACKGROUND_DEVICES));
      try {
        if (o.phases.has('budget')) report.phases.budget = { vigil: await budgetPhase(ctx, main.server, main.creds) };
        if (o.phases.has('ratio')) report.phases.ratio = { vigil: await ratioPhase(ctx, main.server, main.creds) };
        if (o.phases.has('http')) report.phases.http = await httpPhase(ctx, main.server, main.creds);
      } finally {
        if (!running) await main.server.handle.stop();
      }
    }
    if (o.baseline && (o.phases.has('budget') || o.phases.has('ratio'))) {
      const base = await freshServer(ctx, 'baseline', 'baseline', devices);
      try {
        if (o.phases.has('budget')) report.phases.budget = { ...report.phases.budget, baseline: await budgetPhase(ctx, base.server, base.creds) };
        if (o.phases.has('ratio')) report.phases.ratio = { ...report.phases.ratio, baseline: await ratioPhase(ctx, base.server, base.creds) };
      } finally {
        await base.server.handle.stop();
      }
    }
    const q = report.phases.ratio;
    if (q?.vigil && q.baseline && q.baseline.ackedPerSecond > 0) q.throughputRatio = Number((q.vigil.ackedPerSecond / q.baseline.ackedPerSecond).toFixed(2));

    if (o.phases.has('scaling')) {
      report.load.scalingRatePerDevice = scalingRate(ctx);
      report.phases.scaling = await scalingPhase(ctx, running);
    }
    if (o.phases.has('heartbeat')) {
      const budgetMs = budgets.categories.heartbeat?.deadlineP99Ms ?? 1500;
      if (running) {
        const token = running.creds.tokens[running.creds.tokens.length - 1];
        const hb = token === undefined ? 0 : await probeHeartbeatSeconds(running.server.port, token);
        if (hb === 0 || hb + DEFAULT_GRACE_SECONDS > MAX_URL_HEARTBEAT_WAIT_S) {
          notes.push(`heartbeat deadlines not measured: the server's policy.heartbeatSeconds is ${hb} s; the suite waits for deadlines up to ${MAX_URL_HEARTBEAT_WAIT_S} s`);
        } else {
          const f = await heartbeatPhase(ctx, running.server, running.creds, hb + DEFAULT_GRACE_SECONDS, budgetMs);
          report.phases.heartbeat = { ...f, heartbeatSeconds: hb, graceSeconds: DEFAULT_GRACE_SECONDS };
        }
      } else {
        const { heartbeatSeconds, graceSeconds } = { heartbeatSeconds: o.heartbeat.seconds, graceSeconds: o.heartbeat.graceSeconds };
        const hbServer = await freshServer(ctx, 'vigil', 'heartbeat', o.heartbeat.devices, { policy: { heartbeatSeconds, heartbeatGraceSeconds: graceSeconds } });
        try {
          const f = await heartbeatPhase(ctx, hbServer.server, hbServer.creds, heartbeatSeconds + graceSeconds, budgetMs);
          report.phases.heartbeat = { ...f, heartbeatSeconds, graceSeconds };
        } finally {
          await hbServer.server.handle.stop();
        }
      }
    }
  } finally {
    // Done, failed or interrupted: a device left enrolled would raise heartbeat-missed alerts on that server for ever.
    if (running?.enrolment) {
      cleanUp = await retire(running.enrolment, progress);
      notes.push(`clean-up: ${cleanUp}`);
    }
    rmSync(tmp, { recursive: true, force: true });
  }
  report.verdicts = evaluate(budgets, report.phases.budget?.vigil, report.phases.heartbeat);
  report.machine.loadAverage.end = loadAverage();
  report.finishedAt = new Date().toISOString();
  report.durationSeconds = Math.round((performance.now() - t0) / 1000);
  const dir = resolve(o.outDir, startedAt.toISOString().replace(/[:.]/g, '-'));
  const files = writeReport(report, dir, o.publishDir);
  for (const v of report.verdicts) {
    const m = v.measured === undefined ? '–' : `${v.measured} ${v.unit}`;
    io.out(`${v.status === 'met' ? 'met   ' : v.status === 'missed' ? 'MISSED' : 'n/a   '} ${v.category} ${v.measure}: ${m} (budget ${v.unit === 'ms' ? '<=' : '>='} ${v.budget} ${v.unit})${v.note ? `; ${v.note}` : ''}`);
  }
  const q = report.phases.ratio;
  if (q?.throughputRatio !== undefined) io.out(`vigil / baseline ingest, as fast as acks allow: ${q.throughputRatio}x (${q.vigil!.ackedPerSecond} vs ${q.baseline!.ackedPerSecond} events/s)`);
  const steps = report.phases.scaling ?? [];
  if (steps.length > 0) {
    const last = steps[steps.length - 1]!;
    io.out(`scaling: kept up with ${carriedDevices(report, false) ?? 'none'} devices, within budgets ${carriedDevices(report, true) ?? 'none'}; at ${last.connections} connections `
      + `${last.figures.ackedPerSecond} events/s acked, ack p99 ${last.figures.ack?.p99 ?? '–'} ms`
      + (last.memory ? `, ${last.memory.perConnectionKiB} KiB RSS per connection` : ''));
  }
  io.out(`clean-up: ${cleanUp}`);
  io.out(`report: ${files.find((f) => f.endsWith('report.md'))}${o.publishDir ? ` (copied to ${o.publishDir})` : ''}`);
  return o.check && report.verdicts.some((v) => v.status === 'missed') ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const io: Io = { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n'), isTTY: Boolean(process.stderr.isTTY) };
  const args = process.argv.slice(2);
  const i = args.indexOf('--data');
  const data = i >= 0 ? args.splice(i, 2)[1] : undefined;
  const run = i >= 0 && !data ? Promise.reject(new UsageError('--data needs a value')) : runSuite(args, io, data);
  run.then((code) => { process.exitCode = code }, (err: unknown) => {
    io.err(`vigil bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = isUsageError(err) ? 2 : 1;
  });
}
