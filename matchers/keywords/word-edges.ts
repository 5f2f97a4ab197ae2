/**
 * Where words begin and end, read from a character table's codes (`unit-codes.ts`): the small scans that the
 * normaliser, the scanner, the spaced rows and the capital I share.
 */
import { DROP, JOINER, NEEDS_FOLD, isLetterCode, isSymbol } from './unit-codes.js';

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
