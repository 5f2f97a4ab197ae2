/**
 * The report's charts: latency percentile distributions (event to alert per category, with the
 * budgets as dashed lines; ack latency of Vigil and the baseline) and the scaling curve
 * (throughput, p99 latency and server memory as connections grow).
 */
import type { Category } from '../core/index.js';
import type { LatencyFigures } from './suite-figures.js';
import type { SuiteReport } from './suite-report.js';
import { PERCENTILE_TICKS, lineChart, percentileX, svgDocument, type Series } from './svg-chart.js';

const WIDTH = 1000;
const PANEL = 400;

const curve = (l: LatencyFigures | undefined): [number, number][] => (l ? l.curve.map(([p, ms]) => [percentileX(p), Math.max(ms, 0.01)]) : []);

/** Event-to-alert percentiles per category in the budget phase, and the heartbeat-deadline delay. */
export function alertLatencyChart(r: SuiteReport): string | undefined {
  const phase = r.phases.budget?.vigil;
  const series: Series[] = [];
  const hLines: { y: number; label: string; series: string }[] = [];
  for (const [category, a] of Object.entries(phase?.alerts ?? {}) as [Category, { latency?: LatencyFigures }][]) {
    if (!a.latency) continue;
    series.push({ name: category, points: curve(a.latency) });
    const budget = r.budgets.categories[category]?.p99Ms;
    if (budget === undefined) continue;
    const same = hLines.find((h) => h.y === budget);
    if (same) same.label = same.label.replace(' p99 budget', `, ${category} p99 budget`);
    else hLines.push({ y: budget, label: `${category} p99 budget ${budget} ms`, series: category });
  }
  const hb = r.phases.heartbeat?.heartbeatMissed?.latency;
  if (hb) {
    series.push({ name: 'heartbeat deadline → alert', points: curve(hb), dashed: true });
    const budget = r.budgets.categories.heartbeat?.deadlineP99Ms;
    if (budget !== undefined) hLines.push({ y: budget, label: `deadline p99 budget ${budget} ms`, series: 'heartbeat deadline → alert' });
  }
  if (series.length === 0) return undefined;
  const g = lineChart({
    title: 'Event to alert on the feed, by category (budget phase)', xLabel: 'percentile', yLabel: 'latency, ms (log scale)',
    yScale: 'log', xTicks: PERCENTILE_TICKS, series, hLines,
  }, { x: 0, y: 0, width: WIDTH, height: 460 });
  return svgDocument(WIDTH, 460, 'Vigil event-to-alert latency percentiles', [g]);
}

/** Ack latency percentiles: Vigil and the baseline, at the budget rate and as fast as acks allow. */
export function ackLatencyChart(r: SuiteReport): string | undefined {
  const series: Series[] = [];
  const add = (name: string, l: LatencyFigures | undefined, dashed = false): void => { if (l) series.push({ name, points: curve(l), dashed }) };
  add('vigil, budget rate', r.phases.budget?.vigil?.ack);
  add('baseline, budget rate', r.phases.budget?.baseline?.ack);
  add('vigil, as fast as acks allow', r.phases.ratio?.vigil?.ack, true);
  add('baseline, as fast as acks allow', r.phases.ratio?.baseline?.ack, true);
  if (series.length === 0) return undefined;
  const g = lineChart({
    title: 'Ack latency (event durable and acknowledged)', xLabel: 'percentile', yLabel: 'latency, ms (log scale)',
    yScale: 'log', xTicks: PERCENTILE_TICKS, series,
  }, { x: 0, y: 0, width: WIDTH, height: 460 });
  return svgDocument(WIDTH, 460, 'Vigil and baseline ack latency percentiles', [g]);
}

/** Three panels over connections: events/s, p99 latencies, server memory. */
export function scalingChart(r: SuiteReport): string | undefined {
  const steps = r.phases.scaling ?? [];
  if (steps.length === 0) return undefined;
  const pts = (f: (s: (typeof steps)[number]) => number | undefined): [number, number][] =>
    steps.flatMap((s) => { const v = f(s); return v === undefined ? [] : [[s.connections, v] as [number, number]] });
  const throughput = lineChart({
    title: 'Throughput as connections grow', xLabel: 'device connections (log scale)', yLabel: 'events/s', xScale: 'log',
    series: [{ name: 'offered', points: pts((s) => s.figures.offeredPerSecond), dashed: true }, { name: 'acked', points: pts((s) => s.figures.ackedPerSecond) }],
  }, { x: 0, y: 0, width: WIDTH, height: PANEL });
  const latency = lineChart({
    title: 'p99 latency as connections grow', xLabel: 'device connections (log scale)', yLabel: 'p99, ms (log scale)', xScale: 'log', yScale: 'log',
    series: [
      { name: 'ack p99', points: pts((s) => s.figures.ack?.p99) },
      { name: 'keyboard alert p99', points: pts((s) => s.figures.alerts.keyboard?.latency?.p99) },
      { name: 'web alert p99', points: pts((s) => s.figures.alerts.web?.latency?.p99) },
    ],
    hLines: [{ y: r.budgets.categories.keyboard?.p99Ms ?? 25, label: 'keyboard/web p99 budget', series: 'keyboard alert p99' }],
  }, { x: 0, y: PANEL, width: WIDTH, height: PANEL });
  const memory = lineChart({
    title: 'Server memory with every device connected, before any event', xLabel: 'device connections (log scale)', yLabel: 'MiB', xScale: 'log',
    series: [{ name: 'RSS before connecting', points: pts((s) => s.memory?.rssBeforeMiB), dashed: true },
      { name: 'RSS connected', points: pts((s) => s.memory?.rssConnectedMiB) }],
  }, { x: 0, y: 2 * PANEL, width: WIDTH, height: PANEL });
  return svgDocument(WIDTH, 3 * PANEL, 'Vigil scaling curve', [throughput, latency, memory]);
}
