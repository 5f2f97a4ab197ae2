/**
 * Rows of spaced single letters (`k e y`, `k. e. y`), which the main reading joins into one word.
 */
import { skipJoiners, wordAhead } from './word-edges.js';
import { BOUNDARY, DROP, JOINER, MAX_GAP, MAX_GAP_DROPS, isLetterCode, isSpace } from './unit-codes.js';

/** True when the single letter before `r` ends there (nothing word-like continues it). */
function letterEndsAt(src: string, table: Int32Array, r: number): boolean {
  if (r >= src.length) return true;
  const code = table[src.charCodeAt(r)]!;
  if (code === BOUNDARY) return true;
  if (isLetterCode(code)) return false;
  return !wordAhead(src, table, skipJoiners(src, table, r));
}

/**
 * Where the gap that begins at `p` ends, if it can part spaced single letters: one space (`k e y`), or 2 to
 * `MAX_GAP` spaces and separators with both among them (`k. e. y`, `k - e - y`); else -1. Spaces alone,
 * two or more, part words of spaced letters (`k e y  w o r d`); separators alone are a joiner's (`k.e.y`),
 * which joins letters whatever their words' lengths.
 */
function spacedGapEnd(src: string, table: Int32Array, p: number): number {
  let spaces = 0;
  let joiners = 0;
  let drops = 0;
  for (; p < src.length; p++) {
    const u = src.charCodeAt(p);
    const code = table[u]!;
    if (code === DROP) {
      if (++drops > MAX_GAP_DROPS) return -1;
      continue;
    }
    if (code === BOUNDARY && isSpace(u)) spaces++;
    else if (code === JOINER) joiners++;
    else break;
    if (spaces + joiners > MAX_GAP) return -1;
  }
  return spaces === 1 || (spaces > 0 && joiners > 0) ? p : -1;
}

/**
 * At a space or separator `i` that follows a one-character word: if 3 or more one-character words follow
 * each other, parted by single spaces or by gaps of up to 3 spaces and separators (`k e y`, `k. e. y`,
 * `k - e - y`: `spacedGapEnd`), the index of the last one (the gaps before it join); else -1.
 */
export function spacedRunEnd(src: string, table: Int32Array, i: number): number {
  let words = 1;
  let lastWord = -1;
  let p = i;
  for (;;) {
    const q = spacedGapEnd(src, table, p);
    if (q < 0 || q >= src.length || !isLetterCode(table[src.charCodeAt(q)]!) || !letterEndsAt(src, table, q + 1)) break;
    words++;
    lastWord = q;
    p = q + 1;
  }
  return words >= 3 ? lastWord : -1;
}
