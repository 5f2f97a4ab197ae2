/**
 * Line charts as plain SVG text (axes, grid, ticks, lines, legend, dashed budget lines), so that
 * the report needs no browser and no charting dependency. `lineChart` draws one chart into a box;
 * `svgDocument` wraps one or more of them into a file.
 */

export interface Series { name: string; points: readonly (readonly [number, number])[]; dashed?: boolean }

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  xScale?: 'linear' | 'log';
  yScale?: 'linear' | 'log';
  /** Fixed x ticks (value, label); by default ticks are chosen from the data. */
  xTicks?: readonly { value: number; label: string }[];
  series: readonly Series[];
  /** Horizontal reference lines, e.g. budgets; `series` names the series whose colour they take. */
  hLines?: readonly { y: number; label: string; series?: string }[];
}

export interface Box { x: number; y: number; width: number; height: number }

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const MARGIN = { left: 70, right: 20, top: 34, bottom: 48 };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A short label: 0.5, 12, 1.5k, 20k, 1.2M. */
export function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

function linearTicks(min: number, max: number, count = 5): number[] {
  if (max <= min) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) { const v = m * 10 ** e; if (v >= min * 0.999 && v <= max * 1.001) out.push(Number(v.toPrecision(6))) }
  }
  return out.length > 12 ? out.filter((v) => Math.log10(v) % 1 === 0) : out;
}

interface Axis { scale: (v: number) => number; ticks: { value: number; label: string }[] }

function axis(kind: 'linear' | 'log', values: number[], from: number, to: number, fixed?: ChartOptions['xTicks']): Axis {
  const positive = values.filter((v) => v > 0);
  let min = kind === 'log' ? Math.min(...positive) : Math.min(0, ...values);
  let max = Math.max(...values);
  if (fixed && fixed.length > 0) { min = Math.min(min, ...fixed.map((t) => t.value)); max = Math.max(max, ...fixed.map((t) => t.value)) }
  if (!Number.isFinite(min) || !Number.isFinite(max)) { min = kind === 'log' ? 1 : 0; max = 1 }
  if (kind === 'log') {
    // Bounds on the 1-2-5 steps just outside the data.
    const steps = (e: number): number[] => [1, 2, 5].map((m) => m * 10 ** e);
    const e0 = Math.floor(Math.log10(min));
    min = [...steps(e0 - 1), ...steps(e0)].filter((v) => v <= min * 1.0001).pop() ?? 10 ** e0;
    const e1 = Math.floor(Math.log10(max));
    max = [...steps(e1), ...steps(e1 + 1)].find((v) => v >= max * 0.9999) ?? 10 ** (e1 + 1);
    if (max <= min) max = min * 10;
  } else {
    if (!fixed) max += (max - min) * 0.06;
    const ticks = linearTicks(min, max === min ? min + 1 : max);
    max = Math.max(max, ticks[ticks.length - 1] ?? max);
    if (max === min) max = min + 1;
  }
  const f = kind === 'log' ? Math.log10 : (v: number) => v;
  const [a, b] = [f(min), f(max)];
  const scale = (v: number): number => from + ((f(kind === 'log' ? Math.max(v, min) : v) - a) / (b - a)) * (to - from);
  const ticks = fixed ? [...fixed] : (kind === 'log' ? logTicks(min, max) : linearTicks(min, max)).map((value) => ({ value, label: tickLabel(value) }));
  return { scale, ticks };
}

const n = (v: number): string => v.toFixed(1);

/** One chart drawn into `box`, as an SVG group. */
export function lineChart(o: ChartOptions, box: Box): string {
  // The legend sits right of the plot, where it can never hide a line.
  const legendWidth = Math.max(170, Math.max(...o.series.map((s) => s.name.length), 4) * 6.2 + 34);
  const left = box.x + MARGIN.left;
  const right = box.x + box.width - MARGIN.right - legendWidth - 10;
  const top = box.y + MARGIN.top;
  const bottom = box.y + box.height - MARGIN.bottom;
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [...o.series.flatMap((s) => s.points.map((p) => p[1])), ...(o.hLines ?? []).map((h) => h.y)];
  const x = axis(o.xScale ?? 'linear', xs, left, right, o.xTicks);
  const y = axis(o.yScale ?? 'linear', ys, bottom, top);
  const colour = (name: string | undefined): string => PALETTE[Math.max(0, o.series.findIndex((s) => s.name === name)) % PALETTE.length]!;
  const parts: string[] = [`<g>`,
    `<text x="${n(box.x + box.width / 2)}" y="${n(box.y + 20)}" text-anchor="middle" font-size="15" font-weight="bold" ${FONT}>${escapeXml(o.title)}</text>`,
    `<rect x="${n(left)}" y="${n(top)}" width="${n(right - left)}" height="${n(bottom - top)}" fill="none" stroke="#444"/>`];
  for (const t of y.ticks) {
    const py = y.scale(t.value);
    parts.push(`<line x1="${n(left)}" y1="${n(py)}" x2="${n(right)}" y2="${n(py)}" stroke="#ddd"/>`,
      `<text x="${n(left - 6)}" y="${n(py + 4)}" text-anchor="end" font-size="11" ${FONT}>${escapeXml(t.label)}</text>`);
  }
  for (const t of x.ticks) {
    const px = x.scale(t.value);
    parts.push(`<line x1="${n(px)}" y1="${n(top)}" x2="${n(px)}" y2="${n(bottom)}" stroke="#eee"/>`,
      `<text x="${n(px)}" y="${n(bottom + 16)}" text-anchor="middle" font-size="11" ${FONT}>${escapeXml(t.label)}</text>`);
  }
  parts.push(`<text x="${n((left + right) / 2)}" y="${n(bottom + 38)}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(o.xLabel)}</text>`,
    `<text transform="translate(${n(box.x + 16)} ${n((top + bottom) / 2)}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(o.yLabel)}</text>`);
  for (const h of o.hLines ?? []) {
    const py = y.scale(h.y);
    parts.push(`<line x1="${n(left)}" y1="${n(py)}" x2="${n(right)}" y2="${n(py)}" stroke="${colour(h.series)}" stroke-dasharray="6 4" stroke-width="1.2"/>`,
      `<text x="${n(right - 4)}" y="${n(py - 4)}" text-anchor="end" font-size="10" fill="${colour(h.series)}" ${FONT}>${escapeXml(h.label)}</text>`);
  }
  o.series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const c = PALETTE[i % PALETTE.length]!;
    const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${n(x.scale(p[0]))} ${n(y.scale(p[1]))}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="3 3"' : ''}/>`);
    for (const p of s.points) parts.push(`<circle cx="${n(x.scale(p[0]))}" cy="${n(y.scale(p[1]))}" r="2.5" fill="${c}"/>`);
  });
  const lx = right + 10;
  parts.push(`<rect x="${n(lx)}" y="${n(top)}" width="${n(legendWidth)}" height="${o.series.length * 16 + 8}" fill="#fff" stroke="#ccc"/>`);
  o.series.forEach((s, i) => {
    const c = PALETTE[i % PALETTE.length]!;
    const ly = top + 12 + i * 16;
    parts.push(`<line x1="${n(lx + 6)}" y1="${n(ly - 4)}" x2="${n(lx + 26)}" y2="${n(ly - 4)}" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="3 3"' : ''}/>`,
      `<text x="${n(lx + 32)}" y="${n(ly)}" font-size="11" ${FONT}>${escapeXml(s.name)}</text>`);
  });
  parts.push('</g>');
  return parts.join('\n');
}

/** A standalone SVG file of the given size holding the groups. */
export function svgDocument(width: number, height: number, title: string, groups: readonly string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n`
    + `<title>${escapeXml(title)}</title>\n<rect width="100%" height="100%" fill="#fff"/>\n${groups.join('\n')}\n</svg>\n`;
}

/** The percentile axis of HdrHistogram plots: evenly spaced nines. */
export const PERCENTILE_TICKS = [
  { value: 0, label: '0%' }, { value: 1, label: '90%' }, { value: 2, label: '99%' },
  { value: 3, label: '99.9%' }, { value: 4, label: '99.99%' }, { value: 5, label: 'max' },
];

/** x position of a percentile on that axis: log10(1 / (1 - p)), with 100 at the "max" tick. */
export function percentileX(p: number): number {
  return p >= 100 ? 5 : Math.min(5, Math.log10(1 / (1 - p / 100)));
}
