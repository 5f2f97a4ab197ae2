/** Summaries of a benchmark's repeated measurements (nearest rank, no interpolation). */

/** Median, p10 and p90 of `xs`. */
export function summarise(xs: readonly number[]): { median: number; p10: number; p90: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.round(q * (sorted.length - 1))] ?? 0;
  return { median: at(0.5), p10: at(0.1), p90: at(0.9) };
}
