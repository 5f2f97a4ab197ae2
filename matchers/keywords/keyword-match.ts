import type { IndexMatch } from '../index-match.js';

/** A keyword hit. `start` and `end` are UTF-16 offsets into the original text (`end` exclusive). */
export interface KeywordMatch extends IndexMatch {
  /** Index in the original text of the first character of the match. */
  start: number;
  /** Index in the original text just past the match. */
  end: number;
}

function overlaps(a: KeywordMatch, b: KeywordMatch): boolean {
  return (a.start < b.end && b.start < a.end) || (a.start === b.start && a.end === b.end);
}

/** Match order: by end, then start, then entry. */
function before(a: KeywordMatch, b: KeywordMatch): boolean {
  return (a.end - b.end || a.start - b.start || a.entry - b.entry) < 0;
}

/** True when `x` overlaps a match in `list` (one entry's matches, in match order). */
function overlapsAny(list: readonly KeywordMatch[], x: KeywordMatch): boolean {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.end <= x.start) lo = mid + 1;
    else hi = mid;
  }
  for (let k = lo; k < list.length && list[k]!.start <= x.end; k++) if (overlaps(list[k]!, x)) return true;
  return false;
}

/**
 * Adds to the main reading's matches those of the alternative reading that it does not already have: an
 * alternative match is dropped when it overlaps a main match, or an earlier alternative one, of the same
 * entry (`@badword` is `badword` once, not twice). Both lists and the result are in match order.
 */
export function mergeReadings(main: KeywordMatch[], alt: KeywordMatch[]): KeywordMatch[] {
  if (alt.length === 0) return main;
  const byEntry = new Map<number, KeywordMatch[]>();
  for (const x of main) {
    const list = byEntry.get(x.entry);
    if (list === undefined) byEntry.set(x.entry, [x]);
    else list.push(x);
  }
  const lastExtra = new Map<number, KeywordMatch>();
  const extra: KeywordMatch[] = [];
  for (const x of alt) {
    const list = byEntry.get(x.entry);
    if (list !== undefined && overlapsAny(list, x)) continue;
    const previous = lastExtra.get(x.entry);
    if (previous !== undefined && overlaps(previous, x)) continue;
    lastExtra.set(x.entry, x);
    extra.push(x);
  }
  if (extra.length === 0) return main;
  const out: KeywordMatch[] = [];
  let i = 0;
  let j = 0;
  while (i < main.length && j < extra.length) out.push(before(extra[j]!, main[i]!) ? extra[j++]! : main[i++]!);
  while (i < main.length) out.push(main[i++]!);
  while (j < extra.length) out.push(extra[j++]!);
  return out;
}
