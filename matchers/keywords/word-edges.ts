/**
 * Where words begin and end, read from a character table's codes (`unit-codes.ts`): the small scans that the
 * normaliser, the scanner, the spaced rows and the capital I share.
 */
import { BOUNDARY, DROP, JOINER, NEEDS_FOLD, isEndSymbol, isLetterCode, isSymbol } from './unit-codes.js';

/** First index at or after `p` that is not a separator. */
export function skipJoiners(src: string, table: Int32Array, p: number): number {
  while (p < src.length) {
    const code = table[src.charCodeAt(p)]!;
    if (code !== JOINER && code !== DROP) break;
    p++;
  }
  return p;
}

/** First index at or after `p` that is not a symbol. */
export function skipSymbols(src: string, table: Int32Array, p: number): number {
  while (p < src.length && isSymbol(table[src.charCodeAt(p)]!)) p++;
  return p;
}

/**
 * In the symbol run `i .. p` that follows a word and no letter follows, where the symbols that read as
 * letters end (`i` when none do): the `@` and `$` it begins with (`pand@`, `bo$$`); the rest is
 * punctuation. `!` and `|` at the end of a word are always punctuation, however many: read as `1`,
 * `hi!!` (everyday chat) spelt `hill` and `Bi!!` `bill`; so `ki!!` does not spell `kill`. None do after a
 * word without a letter (`50$` read `sos`), nor a lone `$` after a currency prefix (`A$`, `US$`).
 */
export function endLettersEnd(src: string, table: Int32Array, i: number, p: number): number {
  if (!wordHasLetter(src, table, i)) return i;
  let q = i;
  while (q < p && isEndSymbol(table[src.charCodeAt(q)]!)) q++;
  if (q === i + 1 && src.charCodeAt(i) === 0x24 && CURRENCY_PREFIXES.has(capitalsBefore(src, table, i))) return i;
  return q;
}

/** Currency prefixes written before `$`, in capitals (`A$ 20`, `US$`, `NZ$`). */
const CURRENCY_PREFIXES = new Set(['A', 'AU', 'C', 'CA', 'HK', 'MX', 'NT', 'NZ', 'R', 'S', 'SG', 'US']);
const DIGIT = /^\p{N}$/u;

/** The word before `i` if it is ASCII capitals only and begins after a boundary (else empty). */
function capitalsBefore(src: string, table: Int32Array, i: number): string {
  let q = i;
  while (q > 0 && src.charCodeAt(q - 1) >= 0x41 && src.charCodeAt(q - 1) <= 0x5a) q--;
  if (q > 0 && table[src.charCodeAt(q - 1)] !== BOUNDARY) return '';
  return src.slice(q, i);
}

/** True when the word that ends before `i` has a letter (not only digits and symbols). */
function wordHasLetter(src: string, table: Int32Array, i: number): boolean {
  for (let q = i - 1; q >= 0; q--) {
    const code = table[src.charCodeAt(q)]!;
    if (code === BOUNDARY || code === JOINER) return false;
    const u = src.charCodeAt(q);
    if (isLetterCode(code) && !(u < 0x80 ? u >= 0x30 && u <= 0x39 : DIGIT.test(String.fromCharCode(u)))) return true;
  }
  return false;
}

/**
 * True when the symbol at `p` is a letter that ends a word (`pand@`, `bo$$`): in a run of symbols after a
 * letter or digit (characters to skip aside), with no letter after the run, within the part that
 * `endLettersEnd` reads as letters. Where no letter follows, that is the only way a symbol reads as a letter.
 */
export function endsWordAt(src: string, table: Int32Array, p: number): boolean {
  if (!isSymbol(table[src.charCodeAt(p)]!)) return false;
  let i = p;
  while (i > 0 && isSymbol(table[src.charCodeAt(i - 1)]!)) i--;
  let q = i - 1;
  while (q >= 0 && table[src.charCodeAt(q)] === DROP) q--;
  if (q < 0 || !isLetterCode(table[src.charCodeAt(q)]!)) return false;
  const end = skipSymbols(src, table, p);
  return !letterAt(src, table, end) && p < endLettersEnd(src, table, i, end);
}

/**
 * True when a letter or digit follows at `p`, possibly after symbols that then read as letters. A
 * character that needs folding counts as one: the reader that meets it later has the text folded first.
 */
export function wordAhead(src: string, table: Int32Array, p: number): boolean {
  for (; p < src.length; p++) {
    const code = table[src.charCodeAt(p)]!;
    if (isLetterCode(code) || code === NEEDS_FOLD) return true;
    if (!isSymbol(code) && code !== DROP) return false;
  }
  return false;
}

/** True when a letter or digit is at `p` (a symbol run that ends there then reads as letters). */
export function letterAt(src: string, table: Int32Array, p: number): boolean {
  if (p >= src.length) return false;
  const code = table[src.charCodeAt(p)]!;
  return isLetterCode(code) || code === NEEDS_FOLD;
}

/** Last index at or before `p` that is not a character to skip (-1 when none). */
export function skipDropsBack(src: string, table: Int32Array, p: number): number {
  while (p >= 0 && table[src.charCodeAt(p)] === DROP) p--;
  return p;
}

/** First index at or after `p` that is not a character to skip. */
export function skipDropsForward(src: string, table: Int32Array, p: number): number {
  while (p < src.length && table[src.charCodeAt(p)] === DROP) p++;
  return p;
}
