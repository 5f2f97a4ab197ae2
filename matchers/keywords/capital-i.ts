/**
 * The reading of a capital `I`: in sans-serif fonts the usual stand-in for `l` (`heIIo`, `kiII`), and the
 * pronoun and the first letter of `It`, `In`, `If`. Where it stands for l it reads as `1`, which a term matches
 * where it has an i or an l (`term-variants.ts`), as it does for a `1` typed for either; elsewhere as `i`.
 * A lowercase `i` is always i.
 */
import {
  BOUNDARY, CAPITAL_I, DROP, JOINER, MAX_GAP, MAX_GAP_DROPS, NEEDS_FOLD, isEndSymbol, isLetterCode, isSpace, isSymbol,
} from './unit-codes.js';
import { inSpacedRow, type SpacedRowState } from './spaced-rows.js';
import { skipDropsBack, skipDropsForward } from './word-edges.js';

/** What a producer needs to read capital I's: the codes of its table, the last group's reading, and the last row. */
export interface CapitalIState extends SpacedRowState {
  /** The codes of `i` and of `1` in the table. */
  iCode: number;
  oneCode: number;
  /**
   * The capital I's from `iFrom` up to `iTo` (a group, see `capitalIReading`) read as `iRead`. Each group is
   * looked at once: looking again for each I of a run made `a` and 40,000 `I`s take 14 s to scan.
   */
  iFrom: number;
  iTo: number;
  iRead: number;
}

const SMALL_LETTER = /^\p{Ll}$/u;
/** Letters counted at most before the I's: a word of fewer than 3 is too short to read them as 1. */
const SHORT_WORD = 3;

/**
 * What the capital `I` at `i` reads as: `st.oneCode` (`1`, for i or l) right after a small letter, or after
 * capitals `I` that follow one (`heIIo`, `kiII`, `StudentInnen`), else `st.iCode`. So `I`, `It`, `In`, `HI`,
 * `II` and `KILL` read as i: reading a word-initial `I` as 1 would make `It` a spelling of `lit`. Nor as 1
 * where its run of `I`s ends a word of fewer than 3 letters and digits (`hI`, `kI`, typed for `hi`, `ki`,
 * would spell `hill`, `kill`); `kiI`, `kII`, `hIll` read as 1.
 *
 * A row of single letters parted by gaps that the main reading joins (`k i I I`, `k.i.I.I`, `h - e - I - I - o`,
 * `k.i I I`) is read as the word it spells: a lone `I` there reads as the I's of `kiII` do, by the letters
 * before it in the row. Only across a gap the main reading joins: separators between letters, and spaces only
 * in a row of spaced letters (`spaced-rows.ts`), so that an I never reads as a 1 standing alone in the main
 * reading (`k.i.I I` is `ki1 i`, `x.y. I I` is `xy i i`). Only lone letters on both sides of a gap: `Post-It`,
 * `and I`, `Part I` and `kiII I` read their `I` as i, as before, so that the alternative reading, where each
 * gap is a boundary, never gets a word like `1t` (a spelling of `lit`) out of them; it gets a lone `1` at most.
 *
 * The I's that share the letter before them and the end of their word, a group, read alike; `st` keeps the
 * last group's reading, so that a run of any length costs one look.
 */
export function capitalIReading(src: string, table: Int32Array, i: number, st: CapitalIState): number {
  if (i >= st.iFrom && i < st.iTo) return st.iRead;
  let from = runStart(src, table, i);
  let runEnd = runEndAt(src, table, i);
  // Back over lone I's parted by gaps, to the letter the row's I's follow (`q`), and the gap before them.
  let q = skipDropsBack(src, table, from - 1);
  let gap: Gap | undefined;
  while (lone(src, table, from, runEnd)) {
    const g = gapBefore(src, table, from, st);
    if (g === undefined || !g.joins || !isLetterCode(table[src.charCodeAt(g.at)]!)) break;
    if (table[src.charCodeAt(g.at)] !== CAPITAL_I) {
      if (startsWord(src, table, g.at)) {
        q = g.at;
        gap = g;
      }
      break;
    }
    const before = runStart(src, table, g.at);
    if (!lone(src, table, before, g.at + 1)) break;
    from = before;
    runEnd = g.at + 1;
    q = skipDropsBack(src, table, from - 1);
  }
  // On over lone I's parted by gaps, to the end of the row's I's.
  let lastStart = runStart(src, table, i);
  let to = runEndAt(src, table, i);
  while (lone(src, table, lastStart, to)) {
    const g = gapAfter(src, table, to, st);
    if (g === undefined || !g.joins || table[src.charCodeAt(g.at)] !== CAPITAL_I) break;
    const end = runEndAt(src, table, g.at);
    if (!lone(src, table, g.at, end)) break;
    lastStart = g.at;
    to = end;
  }
  st.iFrom = from;
  st.iTo = to;
  st.iRead = groupReading(src, table, q, gap, from, to, lone(src, table, lastStart, to), st) ? st.oneCode : st.iCode;
  return st.iRead;
}

/**
 * True when the group of I's `from .. to` reads as 1: it follows the small letter at `q`, right after it or
 * across `gap` in a row, and its word (its row, across the gaps the main reading joins) goes on after it or has
 * 3 letters.
 */
function groupReading(
  src: string, table: Int32Array, q: number, gap: Gap | undefined, from: number, to: number, lastLone: boolean, st: SpacedRowState,
): boolean {
  if (q < 0) return false;
  const u = src.charCodeAt(q);
  const small = u < 0x80 ? u >= 0x61 && u <= 0x7a : SMALL_LETTER.test(String.fromCharCode(u));
  if (!small) return false;
  // The word goes on after the I's: right after them, or, in a row, after a gap the main reading joins.
  const e = skipDropsForward(src, table, to);
  if (e < src.length && isWordCode(table[src.charCodeAt(e)]!)) return true;
  if (lastLone && gap !== undefined) {
    const g = gapAfter(src, table, to, st);
    if (g !== undefined && g.joins && isLetterCode(table[src.charCodeAt(g.at)]!) && endsWord(src, table, g.at)) return true;
  }
  // The I's end the word: count its letters, the I's included, back across the gaps of a row that the main
  // reading joins: in `i.e. I` it joins `i.e` but not `e. I`.
  let letters = 0;
  for (let k = from; k < to; k++) if (table[src.charCodeAt(k)] === CAPITAL_I) letters++;
  let inPiece = gap === undefined ? letters : 0;
  for (let k = q; k >= 0 && letters < SHORT_WORD;) {
    const code = table[src.charCodeAt(k)]!;
    if (isLetterCode(code)) {
      letters++;
      inPiece++;
      k--;
    } else if (code === DROP) {
      k--;
    } else {
      const g = inPiece === 1 && gap !== undefined ? gapBefore(src, table, k + 1, st) : undefined;
      if (g === undefined || !g.joins || !isLetterCode(table[src.charCodeAt(g.at)]!) || !startsWord(src, table, g.at)) break;
      inPiece = 0;
      k = g.at;
    }
  }
  return letters >= SHORT_WORD;
}

/** True for a letter, digit or character to fold, which always continues a word. */
const isWordCode = (code: number): boolean => isLetterCode(code) || code === NEEDS_FOLD;

/** The first capital I of the run of capital I's (characters to skip among them) that holds the one at `i`. */
function runStart(src: string, table: Int32Array, i: number): number {
  let a = i;
  while (a > 0 && isRunCode(table[src.charCodeAt(a - 1)]!)) a--;
  while (table[src.charCodeAt(a)] === DROP) a++;
  return a;
}

/** Just past the last capital I of the run that holds the one at `i`. */
function runEndAt(src: string, table: Int32Array, i: number): number {
  let b = i;
  while (b + 1 < src.length && isRunCode(table[src.charCodeAt(b + 1)]!)) b++;
  while (table[src.charCodeAt(b)] === DROP) b--;
  return b + 1;
}

const isRunCode = (code: number): boolean => code === CAPITAL_I || code === DROP;

/**
 * True when nothing of a word is right before the letter at `p` (characters to skip aside); a symbol is, as a
 * symbol before a letter reads as a letter (`@I` is `a1`).
 */
function startsWord(src: string, table: Int32Array, p: number): boolean {
  const k = skipDropsBack(src, table, p - 1);
  if (k < 0) return true;
  const code = table[src.charCodeAt(k)]!;
  return !isWordCode(code) && !isSymbol(code);
}

/**
 * True when nothing of a word is right after the letter at `p` (characters to skip aside): punctuation after it
 * (`k i I I!`) leaves it a word of its own, but not symbols that read as letters (before a letter, or `@`, `$`).
 */
function endsWord(src: string, table: Int32Array, p: number): boolean {
  let k = skipDropsForward(src, table, p + 1);
  if (k >= src.length) return true;
  const code = table[src.charCodeAt(k)]!;
  if (!isSymbol(code)) return !isWordCode(code);
  if (isEndSymbol(code)) return false;
  while (k < src.length && (isSymbol(table[src.charCodeAt(k)]!) || table[src.charCodeAt(k)] === DROP)) k++;
  return k >= src.length || !isWordCode(table[src.charCodeAt(k)]!);
}

/** True when the run `from .. to` is a lone capital I, a word of one letter. */
function lone(src: string, table: Int32Array, from: number, to: number): boolean {
  let count = 0;
  for (let k = from; k < to; k++) if (table[src.charCodeAt(k)] === CAPITAL_I) count++;
  return count === 1 && startsWord(src, table, from) && endsWord(src, table, to - 1);
}

/**
 * A gap between single letters that the main reading may join: separators alone, as `k.e.y` has, which it
 * joins, or with a space (`k e y`, `k. e. y`), which it joins in a row of spaced letters only (`joins`:
 * `inSpacedRow`). `at` is the letter's index on its far side.
 */
interface Gap { at: number; joins: boolean }

/** The gap that ends right before `p`, if there is one. */
function gapBefore(src: string, table: Int32Array, p: number, st: SpacedRowState): Gap | undefined {
  let k = p - 1;
  const counts = { spaces: 0, joiners: 0, drops: 0 };
  for (; k >= 0; k--) if (!countGap(src, table, k, counts)) break;
  if (k < 0 || !joinable(counts)) return undefined;
  return { at: k, joins: counts.spaces === 0 || inSpacedRow(src, table, k, st) };
}

/** The gap that begins at `p`, if there is one. */
function gapAfter(src: string, table: Int32Array, p: number, st: SpacedRowState): Gap | undefined {
  let k = p;
  const counts = { spaces: 0, joiners: 0, drops: 0 };
  for (; k < src.length; k++) if (!countGap(src, table, k, counts)) break;
  if (k >= src.length || !joinable(counts)) return undefined;
  return { at: k, joins: counts.spaces === 0 || inSpacedRow(src, table, skipDropsBack(src, table, p - 1), st) };
}

interface GapCounts { spaces: number; joiners: number; drops: number }

/** Counts the character at `k` into `counts` if it can be part of a gap; false when it cannot, or too many are. */
function countGap(src: string, table: Int32Array, k: number, counts: GapCounts): boolean {
  const u = src.charCodeAt(k);
  const code = table[u]!;
  if (code === DROP) return ++counts.drops <= MAX_GAP_DROPS;
  if (code === JOINER) counts.joiners++;
  else if (code === BOUNDARY && isSpace(u)) counts.spaces++;
  else return false;
  return counts.spaces + counts.joiners <= MAX_GAP;
}

/** A gap between single letters that the main reading joins: separators, one space, or spaces and separators. */
function joinable({ spaces, joiners, drops }: GapCounts): boolean {
  return spaces + joiners > 0 && spaces + joiners <= MAX_GAP && drops <= MAX_GAP_DROPS && (spaces <= 1 || joiners > 0);
}
