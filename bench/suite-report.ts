/**
 * The suite's report: one JSON document per run (every figure, the machine, the versions, the
 * command and seed) and a Markdown rendering of it for people, with the SVG charts beside it.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATEGORIES } from '../core/index.js';
import { keptUp, withinBudgets, type Budgets, type Verdict } from './budgets.js';
import type { HttpFigures } from './http-load.js';
import { ackLatencyChart, alertLatencyChart, scalingChart } from './suite-charts.js';
import { fmt, type LatencyFigures } from './suite-figures.js';
import type { MachineInfo } from './suite-machine.js';
import { SCALING_HIT_RATE, type ScalingStep } from './suite-phases.js';
import type { SwarmFigures } from './swarm.js';

export interface SuiteReport {
  version: 1;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  profile: 'quick' | 'full' | 'custom';
  budgetsFile: string;
  command: string;
  seed: number;
  machine: MachineInfo;
  versions: Record<string, string>;
  server: { kind: 'started by the suite' | 'running (--url)'; url?: string; config: object; workers?: string };
  load: { procs: number; devices: number; offeredPerSecond: number; window: number; scalingRatePerDevice?: number };
  images: { listed: number; unlisted: number; width: number; height: number; meanBytes: number };
  budgets: Budgets;
  phases: {
    budget?: { vigil?: SwarmFigures; baseline?: SwarmFigures };
    ratio?: { vigil?: SwarmFigures; baseline?: SwarmFigures; throughputRatio?: number };
    scaling?: ScalingStep[];
    http?: HttpFigures[];
    heartbeat?: SwarmFigures & { heartbeatSeconds: number; graceSeconds: number };
  };
  verdicts: Verdict[];
  notes: string[];
}

const ms = (v: number | undefined): string => (v === undefined ? '–' : `${fmt(v, v < 10 ? 2 : v < 100 ? 1 : 0)}`);
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const head = (cells: string[]): string => `${row(cells)}\n${row(cells.map(() => '---'))}`;
const pcts = (l: LatencyFigures | undefined): string[] => [ms(l?.p50), ms(l?.p90), ms(l?.p99), ms(l?.p999), ms(l?.max)];
const counts = (c: Record<string, number>): string => (Object.keys(c).length === 0 ? '–' : Object.entries(c).map(([k, v]) => `${k} ${fmt(v)}`).join(', '));

function header(r: SuiteReport): string[] {
  const m = r.machine;
  const la = (xs: number[] | undefined): string => (xs ? xs.join(' / ') : '–');
  return [
    `# Vigil load benchmark: ${r.profile} run, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC`, '',
    `- **Machine**: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, ${m.os}; open files ${m.openFiles.soft} (hard ${m.openFiles.hard}).`,
    `- **Load average** (1 / 5 / 15 min): ${la(m.loadAverage.start)} at the start, ${la(m.loadAverage.end)} at the end`
      + `${m.loadAverage.start[0]! > m.cores * 0.5 ? ' (the machine was shared with other work: treat latencies as upper bounds)' : ''}.`,
    `- **Versions**: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `- **Command**: \`${r.command}\`, seed ${r.seed}, ${fmt(r.durationSeconds)} s in all.`,
    `- **Server**: ${r.server.kind}${r.server.url ? ` at ${r.server.url}` : ''}; config file ${JSON.stringify(r.server.config)}`
      + ` (defaults otherwise${r.server.workers ? `; ${r.server.workers}` : ''}).`,
    `- **Load generator**: ${r.load.procs} processes of raw-socket devices on the same machine, HDR histograms;`
      + ` synthetic images ${r.images.width}x${r.images.height} JPEG (mean ${fmt(r.images.meanBytes / 1024)} KiB),`
      + ` ${r.images.listed} listed by PDQ hash, ${r.images.unlisted} matching nothing.`,
    '',
  ];
}

function budgetsSection(r: SuiteReport): string[] {
  const v = r.verdicts;
  const met = v.filter((x) => x.status === 'met').length;
  const missed = v.filter((x) => x.status === 'missed').length;
  const out = ['## Budgets', '',
    `From \`${r.budgetsFile}\`. **${met} of ${v.length} met, ${missed} missed, ${v.length - met - missed} not measured.**`, '',
    head(['category', 'measure', 'budget', 'measured', 'verdict', 'note'])];
  for (const x of v) {
    const b = x.unit === 'ms' ? `≤ ${fmt(x.budget)} ms` : `≥ ${fmt(x.budget)} events/s`;
    const m = x.measured === undefined ? '–' : x.unit === 'ms' ? `${ms(x.measured)} ms` : `${fmt(x.measured)} events/s`;
    const verdict = x.status === 'met' ? 'met' : x.status === 'missed' ? '**missed**' : 'not measured';
    out.push(row([x.category, x.measure, b, m, verdict, x.note ?? '']));
  }
  return [...out, ''];
}

function budgetPhaseSection(r: SuiteReport): string[] {
  const f = r.phases.budget?.vigil;
  if (!f) return [];
  const out = ['## Event to alert, at the budget rates', '',
    `${fmt(f.connected)} devices, open loop: ${fmt(f.offeredPerSecond)} events/s offered (every category at its minimum rate x ${r.budgets.offerFactor}),`
    + ` ${fmt(f.seconds, 1)} s measured after a warm-up; latency from each event's intended send time (no coordinated omission) to its alert`
    + ` on the \`/v1/feed\` WebSocket. ${fmt(r.budgets.hitRate * 100, 1)}% of text and web events carry a listed term, domain or app;`
    + ` ${fmt(r.budgets.listedImageShare * 100)}% of images are listed; tamper signals always alert${r.budgets.answerCaptures ? `; keyword alerts' screenshot requests are answered (${fmt(f.captures)} in the interval)` : ''}.`, '',
    head(['category', 'alerts expected', 'seen', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'p99 budget'])];
  for (const c of CATEGORIES) {
    const a = f.alerts[c];
    if (!a) continue;
    const budget = r.budgets.categories[c]?.p99Ms;
    out.push(row([c, fmt(a.expected), fmt(a.seen), ...pcts(a.latency), budget === undefined ? '–' : `${budget} ms`]));
  }
  out.push('', '![Event-to-alert latency percentiles](latency-alerts.svg)', '',
    'Ack latency per event type in the same interval (event received, journaled and flushed to disk, ack back):', '',
    head(['event type', 'acked/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'rejects']));
  for (const [t, x] of Object.entries(f.types)) out.push(row([t, fmt(x.ackedPerSecond), ...pcts(x.ack), counts(x.rejects)]));
  out.push('', `Server CPU ${f.server ? `${f.server.cpuPercent}% of one core, RSS ${f.server.rssMiB} MiB` : 'not sampled'};`
    + ` load generator CPU ${f.generatorCpuPercent}% of one core. Unexpected alerts: ${counts(f.unexpectedAlerts)}.`, '');
  return out;
}

function serverRow(load: string, f: SwarmFigures | undefined): string[] {
  if (!f) return [];
  return [row([load, f.label.split(': ').pop() ?? '', fmt(f.ackedPerSecond), ...pcts(f.ack), counts(f.rejects),
    f.server ? `${f.server.cpuPercent}%` : '–', `${f.generatorCpuPercent}%`])];
}

function baselineSection(r: SuiteReport): string[] {
  const b = r.phases.budget;
  const q = r.phases.ratio;
  if (!b?.baseline && !q?.baseline && !q?.vigil) return [];
  const out = ['## Vigil against the baseline', '',
    'The baseline (`bench/baseline-ws-server.ts`) is a minimal `ws` server doing the same durable work per event: token check at upgrade,'
    + ' MessagePack decode, the same LMDB journal with group commit, cumulative ack after the flush; no scope checks, no matching, no alerts.'
    + ` "As fast as acks allow": each device keeps ${r.load.window} events unacknowledged; the mix has no images there, since Vigil hashes`
    + ' images before journaling and the baseline would only store them.', '',
    head(['load', 'server', 'acked events/s', 'ack p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'rejects', 'server CPU', 'generator CPU']),
    ...serverRow('budget rates, open loop', b?.vigil), ...serverRow('budget rates, open loop', b?.baseline),
    ...serverRow('as fast as acks allow', q?.vigil), ...serverRow('as fast as acks allow', q?.baseline), ''];
  if (q?.throughputRatio !== undefined) {
    out.push(`**Vigil ingests ${q.throughputRatio}x the baseline's events/s** as fast as acks allow`
      + (b?.vigil?.ack && b.baseline?.ack ? `; at the budget rates its ack p99 is ${ms(b.vigil.ack.p99)} ms against the baseline's ${ms(b.baseline.ack.p99)} ms.` : '.'), '');
  }
  return [...out, '![Ack latency percentiles](latency-ack.svg)', ''];
}

/**
 * The largest scaling step, going up from the smallest, up to which every step was kept up with
 * (`within: false`) or also held the latency budgets (`within: true`).
 */
export function carriedDevices(r: SuiteReport, within: boolean): number | undefined {
  let carried: number | undefined;
  for (const s of r.phases.scaling ?? []) {
    if (!(within ? withinBudgets(r.budgets, s.figures) : keptUp(s.figures)).ok) break;
    carried = s.connections;
  }
  return carried;
}

/** "p99 (n=123)": a p99 of few samples is close to their maximum, so the count goes with it. */
const p99n = (a: { latency: LatencyFigures | undefined } | undefined): string =>
  (a?.latency ? `${ms(a.latency.p99)} (n=${fmt(a.latency.count)})` : '–');

function scalingSection(r: SuiteReport): string[] {
  const steps = r.phases.scaling ?? [];
  if (steps.length === 0) return [];
  const out = ['## Scaling with connections', '',
    `A fresh server per step; every device sends ${fmt(r.load.scalingRatePerDevice ?? 0, 2)} events/s (the budget mix without images), open loop,`
    + ` so each step offers connections x that rate; ${fmt(SCALING_HIT_RATE * 100)}% of text and web events are listed, for enough alerts per step.`
    + ' Memory: the server\'s RSS before the devices connect and once all are connected, before any event (RssAnon leaves out LMDB\'s mapped file).', '',
    head(['connections', 'offered/s', 'acked/s', 'ack p50 ms', 'ack p99 ms', 'keyboard alert p99 ms (alerts)', 'web alert p99 ms (alerts)',
      'within budgets', 'RSS connected MiB', 'KiB per connection (RSS / anon)', 'server CPU', 'generator CPU', 'rejects'])];
  for (const s of steps) {
    const f = s.figures;
    const w = withinBudgets(r.budgets, f);
    out.push(row([fmt(s.connections), fmt(f.offeredPerSecond), fmt(f.ackedPerSecond), ms(f.ack?.p50), ms(f.ack?.p99),
      p99n(f.alerts.keyboard), p99n(f.alerts.web), w.ok ? 'yes' : `no: ${w.why}`,
      s.memory ? fmt(s.memory.rssConnectedMiB) : '–',
      s.memory ? `${fmt(s.memory.perConnectionKiB, 1)} / ${fmt(s.memory.anonPerConnectionKiB, 1)}` : '–',
      f.server ? `${f.server.cpuPercent}%` : '–', `${f.generatorCpuPercent}%`, counts(f.rejects)]));
  }
  const last = steps[steps.length - 1]!;
  const kept = carriedDevices(r, false);
  const within = carriedDevices(r, true);
  out.push('', `**Kept up with (no rejects, acks at the offered rate): up to ${kept === undefined ? 'none of the steps' : `${fmt(kept)} devices`}.`
    + ` Within the latency budgets as well: ${within === undefined ? 'none of the steps' : `up to ${fmt(within)} devices`}.**`
    + ' (Each counts from the smallest step up to the last one before the first that fails; every category\'s alert p99 is checked,'
    + ' tamper alerts included.)');
  if (last.memory) out.push(`Memory per connection at ${fmt(last.connections)} connections: ${fmt(last.memory.perConnectionKiB, 1)} KiB of RSS (${fmt(last.memory.anonPerConnectionKiB, 1)} KiB anonymous).`);
  return [...out, '', '![Scaling curve](scaling.svg)', ''];
}

function httpSection(r: SuiteReport): string[] {
  const h = r.phases.http ?? [];
  if (h.length === 0) return [];
  const out = ['## HTTP endpoints (autocannon)', '',
    'Long-polls follow the feed as a consumer does, each asking for alerts after the newest one any poll has seen,'
    + ' while 100 devices raise about 20 alerts/s: their latency is mostly the wait for the next alert.', '',
    head(['endpoint', 'path', 'connections', 'requests/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors'])];
  for (const x of h) {
    out.push(row([x.name, `\`${x.path}\``, x.connections, fmt(x.requestsPerSecond), ms(x.latencyMs.p50), ms(x.latencyMs.p90),
      ms(x.latencyMs.p99), ms(x.latencyMs.max), fmt(x.non2xx), fmt(x.errors)]));
  }
  return [...out, ''];
}

function heartbeatSection(r: SuiteReport): string[] {
  const h = r.phases.heartbeat;
  const m = h?.heartbeatMissed;
  if (!h || !m) return [];
  return ['## Heartbeat deadlines', '',
    `${fmt(h.connected)} devices each sent one heartbeat and fell silent; policy.heartbeatSeconds ${h.heartbeatSeconds},`
    + ` heartbeatGraceSeconds ${h.graceSeconds}. Time from the deadline each alert states to the alert on the feed:`, '',
    head(['alerts expected', 'seen', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'p99 budget']),
    row([fmt(m.expected), fmt(m.seen), ...pcts(m.latency), `${r.budgets.categories.heartbeat?.deadlineP99Ms ?? '–'} ms`]), ''];
}

/** The whole report as Markdown. */
export function renderMarkdown(r: SuiteReport): string {
  const notes = r.notes.length === 0 ? [] : ['## Notes', '', ...r.notes.map((n) => `- ${n}`), ''];
  return [...header(r), ...budgetsSection(r), ...budgetPhaseSection(r), ...baselineSection(r), ...scalingSection(r),
    ...httpSection(r), ...heartbeatSection(r), ...notes].join('\n');
}

/** Writes report.json, report.md and the charts into `dir`; with `publishDir`, copies the Markdown and charts there. */
export function writeReport(r: SuiteReport, dir: string, publishDir?: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files: [string, string | undefined][] = [
    ['report.json', JSON.stringify(r, null, 2)], ['report.md', renderMarkdown(r)],
    ['latency-alerts.svg', alertLatencyChart(r)], ['latency-ack.svg', ackLatencyChart(r)], ['scaling.svg', scalingChart(r)],
  ];
  const written: string[] = [];
  for (const [name, body] of files) {
    if (body === undefined) continue;
    writeFileSync(join(dir, name), body);
    written.push(join(dir, name));
  }
  if (publishDir !== undefined) {
    mkdirSync(publishDir, { recursive: true });
    for (const p of written) if (!p.endsWith('.json')) copyFileSync(p, join(publishDir, p.slice(dir.length + 1)));
  }
  return written;
}
