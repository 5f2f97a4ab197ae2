import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { evaluate, loadBudgets, budgetShares, offeredRate, withinBudgets } from '../../bench/budgets.js';
import { lineChart, svgDocument, PERCENTILE_TICKS, percentileX } from '../../bench/svg-chart.js';
import type { SwarmFigures } from '../../bench/swarm.js';
import type { SuiteReport } from '../../bench/suite-report.js';
import { tempDir } from '../helpers/vigil.js';

const run = fileURLToPath(new URL('../../cli/run.js', import.meta.url));
const tmp = tempDir('vigil-bench-test-');
t.teardown(tmp.remove);

/** A budgets file for a tiny swarm; `heartbeatP99Ms` 0.001 ms is a budget no server can meet. */
function budgetsFile(name: string, heartbeatP99Ms: number): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, JSON.stringify({
    devices: 5, hitRate: 0.3, listedImageShare: 0.5, offerFactor: 1.1, answerCaptures: true,
    categories: {
      keyboard: { p99Ms: 60_000, minRate: 5, events: { text: 1 } },
      web: { p99Ms: 60_000, minRate: 5, events: { dns: 1, url: 1 } },
      image: { p99Ms: 60_000, minRate: 1, events: { image: 1 } },
      heartbeat: { p99Ms: heartbeatP99Ms, deadlineP99Ms: 60_000, minRate: 5, events: { heartbeat: 1, tamper: 1 } },
      location: { minRate: 1, events: { location: 1 } },
    },
  }));
  return path;
}

function figures(over: Partial<SwarmFigures>): SwarmFigures {
  return {
    label: 'x', mode: { kind: 'rate', perDevice: 1 }, devices: 1, connected: 1, connectFailures: 0, procs: 1, seconds: 1,
    sentPerSecond: 0, ackedPerSecond: 0, ack: undefined, types: {}, categoryRates: {}, alerts: {}, rejects: {},
    unexpectedAlerts: {}, captures: 0, skipped: 0, unacked: 0, closes: {}, generatorCpuPercent: 0, ...over,
  };
}
const lat = (p99: number) => ({ count: 100, mean: p99 / 2, p50: p99 / 2, p90: p99, p99, p999: p99, max: p99, curve: [[50, p99 / 2], [99, p99]] as [number, number][] });

t.test('bench - budgets shape the offered load and are marked met, missed or not measured', async (t) => {
  const b = loadBudgets(budgetsFile('budgets.json', 25));
  t.equal(offeredRate(b), (5 + 5 + 1 + 5 + 1) * 1.1, 'every category is offered its minimum rate x offerFactor');
  const shares = budgetShares(b);
  t.ok(Math.abs((shares.dns ?? 0) - 2.75) < 1e-9 && Math.abs((shares.url ?? 0) - 2.75) < 1e-9, 'web is split over its event types');
  t.notOk('image' in budgetShares(b, ['image']), 'a phase can leave images out');

  const phase = figures({
    categoryRates: { keyboard: 6, web: 4, image: 1, heartbeat: 6 },
    alerts: {
      keyboard: { expected: 100, seen: 100, missing: 0, latency: lat(10) },
      heartbeat: { expected: 100, seen: 100, missing: 0, latency: lat(40) },
      image: { expected: 100, seen: 90, missing: 10, latency: lat(10) },
    },
  });
  const v = evaluate(b, phase, undefined);
  const find = (c: string, m: string) => v.find((x) => x.category === c && x.measure.startsWith(m))!;
  t.equal(find('keyboard', 'event').status, 'met');
  t.equal(find('keyboard', 'sustained').status, 'met');
  t.equal(find('web', 'sustained').status, 'missed', '4 events/s is under the minimum of 5');
  t.equal(find('web', 'event').status, 'not measured', 'no web alert was expected');
  t.equal(find('heartbeat', 'event').status, 'missed', 'p99 40 ms over a 25 ms budget');
  t.equal(find('image', 'event').status, 'missed', 'alerts that never arrived beyond the 1% tail miss the p99');
  t.equal(find('location', 'sustained').status, 'not measured');
  t.equal(find('heartbeat', 'alert after').status, 'not measured', 'no heartbeat phase');

  t.same(withinBudgets(b, figures({ offeredPerSecond: 100, ackedPerSecond: 99 })), { ok: true });
  t.equal(withinBudgets(b, figures({ offeredPerSecond: 100, ackedPerSecond: 50 })).ok, false, 'falling behind the offered rate');
  t.equal(withinBudgets(b, figures({ rejects: { RATE_LIMITED: 3 } })).ok, false, 'any reject');
  t.throws(() => loadBudgets(budgetsFile('bad.json', -1)), /categories\.heartbeat\.p99Ms must be a positive number/);
});

t.test('bench - charts are well-formed SVG that an SVG renderer accepts', async (t) => {
  const curve: [number, number][] = [[0, 1], [50, 4], [90, 9], [99, 30], [99.9, 80], [100, 120]];
  const svg = svgDocument(600, 800, 'a <test> & "chart"', [
    lineChart({ title: 'Latency & <stuff>', xLabel: 'percentile', yLabel: 'ms', yScale: 'log', xTicks: PERCENTILE_TICKS,
      series: [{ name: 'a & b', points: curve.map(([p, v]) => [percentileX(p), v]) }], hLines: [{ y: 25, label: 'budget', series: 'a & b' }] },
    { x: 0, y: 0, width: 600, height: 400 }),
    lineChart({ title: 'Scaling', xLabel: 'connections', yLabel: 'events/s', xScale: 'log',
      series: [{ name: 'acked', points: [[100, 250], [1000, 2500], [10000, 9000]] }, { name: 'empty', points: [] }] },
    { x: 0, y: 400, width: 600, height: 400 }),
  ]);
  t.notMatch(svg, /NaN|undefined|Infinity/);
  t.match(svg, /&lt;test&gt; &amp; &quot;chart&quot;/, 'text is escaped');
  const meta = await sharp(Buffer.from(svg)).metadata();
  t.equal(meta.format, 'svg');
  t.equal(meta.width, 600);
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  t.ok(png.length > 1000, 'and renders it');
});

t.test('bench - vigil bench runs every phase on a tiny swarm, writes the report, and --check fails on a missed budget', async (t) => {
  const out = join(tmp.dir, 'results');
  const args = [run, 'bench', '--check', '--budgets', budgetsFile('impossible.json', 0.001), '--out', out, '--procs', '1',
    '--devices', '5', '--warmup', '1', '--seconds', '2', '--steps', '5', '--step-seconds', '1', '--http-seconds', '1',
    '--heartbeat-devices', '3', '--images', '1,2'];
  const child = spawn(process.execPath, args, { env: { ...process.env, VIGIL_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += String(d) });
  child.stderr.on('data', (d) => { stderr += String(d) });
  const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(timer);
  t.equal(code, 1, `exit 1 on a missed budget (stderr: ${stderr.slice(-2000)})`);
  t.match(stdout, /MISSED heartbeat event-to-alert p99/);
  t.match(stderr, /\[budget: vigil\]/, 'progress is shown while it runs');

  const [dir] = readdirSync(out);
  const files = readdirSync(join(out, dir!));
  for (const f of ['report.json', 'report.md', 'latency-alerts.svg', 'latency-ack.svg', 'scaling.svg']) t.ok(files.includes(f), `${f} written`);
  const report = JSON.parse(readFileSync(join(out, dir!, 'report.json'), 'utf8')) as SuiteReport;
  t.equal(report.version, 1);
  t.match(report, { seed: 1, machine: { cores: Number }, versions: { node: process.version } });
  t.ok(report.phases.budget?.vigil && report.phases.budget.baseline, 'budget phase on Vigil and on the baseline');
  t.ok(report.phases.ratio?.throughputRatio !== undefined, 'a throughput ratio to the baseline');
  t.equal(report.phases.scaling?.[0]?.connections, 5);
  t.equal(report.phases.http?.length, 3);
  t.equal(report.phases.heartbeat?.heartbeatMissed?.seen, 3, 'every silent device got its heartbeat-missed alert');
  const tamper = report.verdicts.find((v) => v.category === 'heartbeat' && v.measure === 'event-to-alert p99');
  t.equal(tamper?.status, 'missed', 'the impossible budget is missed');
  const rate = report.verdicts.find((v) => v.category === 'keyboard' && v.measure === 'sustained rate');
  t.ok(rate && typeof rate.measured === 'number' && rate.status !== 'not measured', 'rates are measured and judged');
  const md = readFileSync(join(out, dir!, 'report.md'), 'utf8');
  for (const h of ['## Budgets', '## Event to alert', '## Vigil against the baseline', '## Scaling', '## HTTP', '## Heartbeat deadlines']) t.match(md, h);
  for (const f of files.filter((x) => x.endsWith('.svg'))) {
    const meta = await sharp(join(out, dir!, f)).metadata();
    t.equal(meta.format, 'svg', `${f} parses as SVG`);
  }
});

t.test('bench - ingest.js measures the floor server over rounds: every event of a small swarm acked, medians reported', async (t) => {
  const script = fileURLToPath(new URL('../../bench/ingest.js', import.meta.url));
  const runIngest = (args: string[]) => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: tmp.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += String(d) });
    child.stderr.on('data', (d) => { err += String(d) });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out, err }) });
  });
  const bad = await runIngest(['--only', 'nothing']);
  t.equal(bad.code, 2);
  t.match(bad.err, /--only must be one of vigil, baseline, floor/);
  t.match((await runIngest(['--rounds', '0'])).err, /--rounds must be an integer from 1 to 20, got "0"/);
  const { code, out, err } = await runIngest(['--devices', '5', '--rate', '20', '--seconds', '2', '--warmup', '0', '--only', 'floor', '--rounds', '2']);
  t.equal(code, 0, err);
  const rows = out.split('\n').filter((l) => / floor \|/.test(l));
  t.equal(rows.length, 2, out);
  for (const row of rows) {
    const acked = Number(row.split('|')[3]);
    t.ok(acked >= 50 && acked <= 150, `about 100 events/s acked (${acked})`);
  }
  t.notMatch(out, /unacknowledged/, 'every measured event acked');
  t.match(out, /medians over 2 rounds:\n {2}floor: \d+ acked events\/s, p50 [\d.]+ ms, p99 [\d.]+ ms/);
  const saved = JSON.parse(readFileSync(join(tmp.dir, 'bench/results/ingest.json'), 'utf8')) as
    { runs: { target: string; round: number }[]; medians: Record<string, { p99: number }> };
  t.same(saved.runs.map((r) => [r.target, r.round]), [['floor', 1], ['floor', 2]]);
  t.ok(saved.medians.floor!.p99 > 0);
});
