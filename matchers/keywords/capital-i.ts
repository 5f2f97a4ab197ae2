/**
 * The reading of a capital `I`: in sans-serif fonts the usual stand-in for `l` (`heIIo`, `kiII`), and the
 * pronoun and the first letter of `It`, `In`, `If`. Where it stands for l it reads as `1`, which a term matches
 * where it has an i or an l (`term-variants.ts`), as it does for a `1` typed for either; elsewhere as `i`.
 * A lowercase `i` is always i.
 */
import { CAPITAL_I, DROP, NEEDS_FOLD, isLetterCode } from './unit-codes.js';

/** What a producer needs to read capital I's: the codes of its table, and the last run's reading. */
export interface CapitalIState {
  /** The codes of `i` and of `1` in the table. */
  iCode: number;
  oneCode: number;
  /**
   * The capital I's from `iFrom` up to `iTo` (a run, see `capitalIReading`) read as `iRead`. Each group is
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
 * The I's of a run share the letter before them and the end of their word, and so read alike; `st` keeps the
 * last run's reading, so that a run of any length costs one look.
 */
export function capitalIReading(src: string, table: Int32Array, i: number, st: CapitalIState): number {
  if (i >= st.iFrom && i < st.iTo) return st.iRead;
  st.iFrom = runStart(src, table, i);
  st.iTo = runEndAt(src, table, i);
  st.iRead = runReading(src, table, st.iFrom, st.iTo) ? st.oneCode : st.iCode;
  return st.iRead;
}

/** True when the run of I's `from .. to` reads as 1: after a small letter, in a word that goes on or has 3 letters. */
function runReading(src: string, table: Int32Array, from: number, to: number): boolean {
  const q = skipDropsBack(src, table, from - 1);
  if (q < 0) return false;
  const u = src.charCodeAt(q);
  const small = u < 0x80 ? u >= 0x61 && u <= 0x7a : SMALL_LETTER.test(String.fromCharCode(u));
  if (!small) return false;
  const e = skipDropsForward(src, table, to);
  if (e < src.length && isWordCode(table[src.charCodeAt(e)]!)) return true;
  // The run ends the word: count its letters, the run included.
  let letters = 0;
  for (let k = from; k < to; k++) if (table[src.charCodeAt(k)] === CAPITAL_I) letters++;
  for (let k = q; k >= 0 && letters < SHORT_WORD; k--) {
    const code = table[src.charCodeAt(k)]!;
    if (isLetterCode(code)) letters++;
    else if (code !== DROP) break;
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

function skipDropsBack(src: string, table: Int32Array, p: number): number {
  while (p >= 0 && table[src.charCodeAt(p)] === DROP) p--;
  return p;
}

function skipDropsForward(src: string, table: Int32Array, p: number): number {
  while (p < src.length && table[src.charCodeAt(p)] === DROP) p++;
  return p;
}
