/**
 * Figures as the report shows them: latency percentiles in milliseconds, from HDR histograms in
 * microseconds merged across load processes, with the percentile curve the charts draw.
 */
import hdr from 'hdr-histogram-js';

export interface Percentiles { count: number; mean: number; p50: number; p90: number; p99: number; p999: number; max: number }

/** Percentiles plus the curve `[percentile, ms]` for the percentile-distribution chart. */
export interface LatencyFigures extends Percentiles { curve: [number, number][] }

/** Percentiles drawn on the charts; the x axis spaces them by 1 / (1 - p). */
export const CURVE_PERCENTILES = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100];

const MAX_US = 3_600_000_000;
type Histogram = ReturnType<typeof hdr.build>;

export function emptyHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_US, numberOfSignificantValueDigits: 3 });
}

/** Adds every encoded histogram into one. */
export function mergeHistograms(encoded: readonly string[]): Histogram {
  const h = emptyHistogram();
  for (const e of encoded) h.add(hdr.decodeFromCompressedBase64(e));
  return h;
}

const ms = (us: number): number => Number((us / 1000).toFixed(us >= 100_000 ? 0 : 2));

/** The figures of a histogram of µs values, or undefined when it holds nothing. */
export function latencyFigures(h: Histogram): LatencyFigures | undefined {
  if (h.totalCount === 0) return undefined;
  return {
    count: h.totalCount, mean: ms(h.mean), p50: ms(h.getValueAtPercentile(50)), p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)), p999: ms(h.getValueAtPercentile(99.9)), max: ms(h.maxValue),
    curve: CURVE_PERCENTILES.map((p) => [p, ms(p === 100 ? h.maxValue : h.getValueAtPercentile(p))]),
  };
}

export function latencyFromEncoded(encoded: readonly string[]): LatencyFigures | undefined {
  return latencyFigures(mergeHistograms(encoded));
}

/** Adds `from`'s counts into `into`, key by key. */
export function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): Record<string, number> {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
}

/** 12,345 style, for tables. */
export function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}
