/**
 * Rows of spaced single letters, which the main reading joins into one word (`k e y`, `k. e. y`, `k.i I I`).
 * The normaliser finds a row at its first gap (`spacedRunEnd`); a capital I asks whether a gap is in one
 * (`inSpacedRow`), so that it reads as the row's letter across a gap only where the row is read as one word
 * (`capital-i.ts`). Both judge a row from the text alone, the same way.
 *
 * A row is a chain of 3 or more pieces parted by gaps:
 *   - a piece is a single letter (`k`), or two single letters joined by separators alone (`k.i`, `I.I`), which a
 *     separator joins anyway: so `k.i I I` is a row, as `k i I I` and `k.i.I.I` are (`MAX_PIECE_LETTERS`);
 *   - a gap is one space or tab (`k e y`), or 2 to `MAX_GAP` spaces and separators with both among them
 *     (`k. e. y`, `k - e - y`). Two spaces or more alone part words of spaced letters (`k e y  w o r d`).
 * A piece of two letters stands in a row only between plain spaces: a separator and a space after letters
 * joined by separators is how an abbreviation ends (`i.e. I think`, `p.a. n. d. a`), and there the piece is a
 * word, after which a row may begin (`i.e. k e y`). A chain is judged whole, from its first piece: it is a
 * row, or none of it is (`p.m I think` is two pieces, `k.i.I I` a word and a letter).
 */
import { endsWordAt, skipDropsBack, skipDropsForward, skipJoiners, wordAhead } from './word-edges.js';
import { BOUNDARY, DROP, JOINER, MAX_GAP, MAX_GAP_DROPS, NEEDS_FOLD, isLetterCode, isSpace, isSymbol } from './unit-codes.js';

/** What a capital I's reading keeps of the last row it found, so that a row is walked once, not once per I. */
export interface SpacedRowState {
  /** The gaps after letters from `rowFrom` up to (not at) `rowTo`, the row's last piece, are in a row. */
  rowFrom: number;
  rowTo: number;
}

/**
 * The gap from `p` on, up to the first character that cannot be in one: that character's index, times 2, plus 1
 * when the gap is one space or tab alone; or -1 when the gap cannot part a row, or no letter follows it.
 */
function gapAfter(src: string, table: Int32Array, p: number): number {
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
  return gapAt(src, table, p, spaces, joiners);
}

/** The gap that ends before `q`, back to the first character that cannot be in one: as `gapAfter` packs it. */
function gapBefore(src: string, table: Int32Array, q: number): number {
  let spaces = 0;
  let joiners = 0;
  let drops = 0;
  let p = q - 1;
  for (; p >= 0; p--) {
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
  return p < 0 ? -1 : gapAt(src, table, p, spaces, joiners);
}

function gapAt(src: string, table: Int32Array, far: number, spaces: number, joiners: number): number {
  if (far >= src.length || !isLetterCode(table[src.charCodeAt(far)]!)) return -1;
  if (spaces !== 1 && (spaces === 0 || joiners === 0)) return -1;
  return far * 2 + (spaces === 1 && joiners === 0 ? 1 : 0);
}

/** True when a piece of several letters may stand beside this gap (`gapAfter`'s packing): none, or a plain space. */
const plainOrNone = (gap: number): boolean => gap < 0 || (gap & 1) === 1;

/**
 * The last letter of the piece whose first letter is at `q`, or -1 when `q` does not begin a piece: another
 * letter follows a letter in it, or a symbol that reads as one (`k@e`).
 */
function pieceEnd(src: string, table: Int32Array, q: number): number {
  for (;;) {
    const r = skipDropsForward(src, table, q + 1);
    if (r >= src.length) return q;
    const code = table[src.charCodeAt(r)]!;
    if (code === BOUNDARY) return q;
    if (isLetterCode(code) || code === NEEDS_FOLD) return -1;
    const p = code === JOINER ? skipJoiners(src, table, r) : r;
    if (code === JOINER && p < src.length && isLetterCode(table[src.charCodeAt(p)]!)) {
      q = p;
      continue;
    }
    return wordAhead(src, table, p) ? -1 : q;
  }
}

/**
 * The first letter of the piece whose last letter is at `q`, or -1 when `q` does not end a piece: a letter, or
 * a symbol (which reads as a letter before one), is right before a letter of it, or separators join it to a
 * symbol that ends a word as a letter (`x@.k`).
 */
function pieceStart(src: string, table: Int32Array, q: number): number {
  for (;;) {
    const k = skipDropsBack(src, table, q - 1);
    if (k < 0) return q;
    const code = table[src.charCodeAt(k)]!;
    if (code === BOUNDARY) return q;
    if (code !== JOINER) return -1;
    let j = k;
    while (j >= 0 && (table[src.charCodeAt(j)] === JOINER || table[src.charCodeAt(j)] === DROP)) j--;
    if (j < 0) return q;
    const before = table[src.charCodeAt(j)]!;
    if (isLetterCode(before)) {
      q = j;
      continue;
    }
    return before === NEEDS_FOLD || (isSymbol(before) && endsWordAt(src, table, j)) ? -1 : q;
  }
}

/**
 * Letters in a piece of several that may stand in a row: the bits an evader splits a short word into (`k.i I I`,
 * `p.a n.d a`). A longer one is a word typed with separators, which a row beside it would swallow: `k.e.y k e y`
 * and `b.a.d w o r d` are two words each, as they were (a row joins all it can, as `k e y k e y` is `keykey`).
 */
const MAX_PIECE_LETTERS = 2;

/**
 * True when the piece `first .. last` may stand in a row: one letter, or up to `MAX_PIECE_LETTERS` between
 * plain spaces or nothing.
 */
function member(src: string, table: Int32Array, first: number, last: number): boolean {
  if (first === last) return true;
  let letters = 0;
  for (let k = first; k <= last && letters <= MAX_PIECE_LETTERS; k++) if (isLetterCode(table[src.charCodeAt(k)]!)) letters++;
  return letters <= MAX_PIECE_LETTERS && plainOrNone(gapBefore(src, table, first)) && plainOrNone(gapAfter(src, table, last + 1));
}

/** The first letter of the piece that ends right before the gap that ends before `q`, if it may stand in a row; else -1. */
function memberBefore(src: string, table: Int32Array, q: number): number {
  const gap = gapBefore(src, table, q);
  if (gap < 0) return -1;
  const last = gap >> 1;
  const first = pieceStart(src, table, last);
  return first >= 0 && member(src, table, first, last) ? first : -1;
}

/**
 * The first letter of the last piece of the row that begins with the piece at `first` (which may stand in a
 * row), or -1 when fewer than 3 pieces follow each other from there.
 */
function rowEnd(src: string, table: Int32Array, first: number): number {
  let last = pieceEnd(src, table, first);
  if (last < 0) return -1;
  let pieces = 1;
  let lastFirst = first;
  for (;;) {
    const gap = gapAfter(src, table, last + 1);
    if (gap < 0) break;
    const next = gap >> 1;
    const nextLast = pieceEnd(src, table, next);
    if (nextLast < 0 || !member(src, table, next, nextLast)) break;
    pieces++;
    lastFirst = next;
    last = nextLast;
  }
  return pieces >= 3 ? lastFirst : -1;
}

/**
 * At a space or separator `i` right after a letter (characters to skip aside): if a row begins with the piece that
 * letter ends (`k.i I I`, not `k.i` at its `.`), the index
 * of the row's last piece (the gaps before it join); else -1. A piece that follows another in a chain begins no
 * row of its own: the chain is judged from its first piece (`p.a. n. d. a`: the row is `n. d. a`, as `p.a` may
 * not stand before a separator and a space).
 */
export function spacedRunEnd(src: string, table: Int32Array, i: number): number {
  const last = skipDropsBack(src, table, i - 1);
  if (last < 0 || !isLetterCode(table[src.charCodeAt(last)]!)) return -1;
  const first = pieceStart(src, table, last);
  if (first < 0 || pieceEnd(src, table, first) !== last || !member(src, table, first, last)) return -1;
  return memberBefore(src, table, first) >= 0 ? -1 : rowEnd(src, table, first);
}

/**
 * True when the gap right after the letter at `q` is in a row that the main reading joins. The row found is
 * kept in `st`: the I's of one row ask about its gaps in turn, and each would walk it again.
 */
export function inSpacedRow(src: string, table: Int32Array, q: number, st: SpacedRowState): boolean {
  if (q < 0 || !isLetterCode(table[src.charCodeAt(q)]!)) return false;
  if (q >= st.rowFrom && q < st.rowTo) return true;
  let first = pieceStart(src, table, q);
  if (first < 0 || pieceEnd(src, table, first) !== q || !member(src, table, first, q)) return false;
  for (let before = memberBefore(src, table, first); before >= 0; before = memberBefore(src, table, first)) first = before;
  const end = rowEnd(src, table, first);
  if (end < 0 || q >= end) return false;
  st.rowFrom = first;
  st.rowTo = end;
  return true;
}
