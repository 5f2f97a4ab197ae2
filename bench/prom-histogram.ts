/**
 * A Prometheus histogram read from two scrapes of `/metrics`: what it counted between them. The ingest
 * benchmark uses it to print Vigil's own ack latency (`vigil_ack_latency_seconds`: from reading a frame to
 * sending its durable ack) beside the latency the load generator measures, so that the part of the
 * generator's figure spent outside the server (waiting for a core, in socket buffers, in the generator)
 * is printed rather than worked out by hand. Quantiles are at bucket resolution: "p99 ≤ 25 ms". It also
 * reads how busy the server's event loop was between the scrapes (`vigil_event_loop_seconds_total`).
 */

/** Cumulative counts by upper bound in seconds (`le`), +Inf last, from one scrape. */
export function readHistogram(text: string, name: string): Map<number, number> {
  const counts = new Map<number, number>();
  const prefix = `${name}_bucket{`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const m = /le="([^"]+)"\}\s+(\S+)$/.exec(line);
    if (!m) continue;
    counts.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  }
  return counts;
}

export interface HistogramDelta {
  /** Observations between the two scrapes. */
  count: number;
  /** Upper bound (ms) of the bucket holding each quantile; Infinity past the last bound. */
  p50AtMostMs: number;
  p99AtMostMs: number;
  /** The histogram's last finite bound, ms. */
  lastBoundMs: number;
  /** Share of observations at or under each bound (ms), as fractions. */
  within: { ms: number; share: number }[];
}

/** What was observed between scrape `before` and scrape `after` (cumulative counts, same buckets). */
export function histogramDelta(before: Map<number, number>, after: Map<number, number>): HistogramDelta | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = bounds.map((le) => ({ le, n: (after.get(le) ?? 0) - (before.get(le) ?? 0) }));
  const count = delta.at(-1)?.n ?? 0;
  if (count <= 0) return undefined;
  const quantile = (q: number): number => (delta.find((d) => d.n >= q * count)?.le ?? Infinity) * 1000;
  const within = delta.filter((d) => Number.isFinite(d.le)).map((d) => ({ ms: d.le * 1000, share: d.n / count }));
  return { count, p50AtMostMs: quantile(0.5), p99AtMostMs: quantile(0.99), lastBoundMs: within.at(-1)?.ms ?? Infinity, within };
}

/** `≤ 25 ms`, or past the last bound `> 10000 ms` (the default latency buckets' last bound unless given). */
export function atMost(ms: number, lastBoundMs = 10_000): string {
  return Number.isFinite(ms) ? `≤ ${Number(ms.toPrecision(3))} ms` : `> ${lastBoundMs} ms`;
}

/** The value of one sample (`name{labels} value`, labels as rendered, e.g. `state="idle"`), or undefined. */
export function readSample(text: string, name: string, labels = ''): number | undefined {
  const head = labels ? `${name}{${labels}} ` : `${name} `;
  for (const line of text.split('\n')) {
    if (!line.startsWith(head)) continue;
    const value = Number(line.slice(head.length));
    return Number.isNaN(value) ? undefined : value;
  }
  return undefined;
}

const LOOP = 'vigil_event_loop_seconds_total';

/** Share of the time between two scrapes that the server's event loop spent running callbacks, or undefined. */
export function loopBusyShare(before: string, after: string): number | undefined {
  const delta = (state: string): number | undefined => {
    const b = readSample(before, LOOP, `state="${state}"`);
    const a = readSample(after, LOOP, `state="${state}"`);
    return a === undefined || b === undefined ? undefined : a - b;
  };
  const active = delta('active');
  const idle = delta('idle');
  if (active === undefined || idle === undefined || active < 0 || idle < 0 || active + idle <= 0) return undefined;
  return active / (active + idle);
}
