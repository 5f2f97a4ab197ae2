/**
 * The character table: for each UTF-16 code unit, the code the normaliser acts on (see `unit-codes.ts`).
 * Codes are plain Int32 so one table type serves both users:
 *   - the base table gives each word character its canonical character code (`normalizeText`, terms);
 *   - an index's table gives the automaton's character class instead (0 boundary, 1 any other word
 *     character, 2.. the characters its terms use), and is what the index keeps in shared memory.
 * The normalisation rules are decided here, once per code unit, instead of per character scanned:
 * every code unit whose folding is a single character (accents, case, fullwidth forms,
 * curly quotes, dashes, most emoji) is read through the table without folding the text at all.
 */
import { ASTRAL_LETTER, KEPT_MARKS, KEPT_MARK_BASE, foldCodePoint, isUnspacedMarkUnit } from './fold.js';
import { OWN_LETTERS, OWN_LETTER_BASE, isLookalike } from './lookalikes.js';
import {
  BOUNDARY, CAPITAL_I, DROP, JOINER, NEEDS_FOLD, OTHER_WORD, isEndSymbol, isSymbol, symbolCode, symbolLetter,
} from './unit-codes.js';

const ch = (s: string): number => s.charCodeAt(0);

/**
 * Digits read as letters. Not `1`: it is typed for both i and l, which are different letters (reading
 * `l` as `i` made `lit` fire on "is it on?"), so `1` stays a character of its own and a term matches it
 * where it has an i or an l (`term-variants.ts`).
 */
export const LETTER_FOR: Readonly<Record<string, string>> = {
  0: 'o', 3: 'e', 4: 'a', 5: 's', 7: 't',
};
/** Symbols read as letters inside words. `!` and `|` are typed for i and l alike, so they read as `1`. */
export const SYMBOL_FOR: Readonly<Record<string, string>> = { '@': 'a', $: 's', '!': '1', '|': '1' };
/**
 * Those that are letters at the end of a word too (`pand@`, `bo$$`). Not `!` nor `|`: after a word they
 * are nearly always punctuation, one or many, and as `1` they made `hi!` and `hi!!` spellings of `hill`.
 */
const END_SYMBOLS = '@$';
/**
 * Separators that join the letters around them, typed inside words to split a term (`k.e.y`, `k_e_y`).
 * Not the comma, colon, semicolon or apostrophe: common between words in ordinary text, rare as evasion,
 * and each one that joins costs a second reading. Unicode dashes and dots fold to `-`.
 */
const JOINERS = '.-_*~+/\\';
/** High surrogates to check for holding only symbols and emoji, so that those need no folding. */
const SYMBOL_PLANES = [0xd83c, 0xd83d, 0xd83e];

let base: Int32Array | undefined;

function asciiCode(c: string): number {
  if (JOINERS.includes(c)) return JOINER;
  if (c === 'I') return CAPITAL_I;
  const sym = SYMBOL_FOR[c];
  if (sym !== undefined) return symbolCode(ch(sym), END_SYMBOLS.includes(c));
  const lower = c.toLowerCase();
  if (!/^[a-z0-9]$/.test(lower)) return BOUNDARY;
  return ch(LETTER_FOR[lower] ?? lower);
}

/** True when every code point behind high surrogate `hi` folds to a boundary (emoji, pictographs). */
function symbolsOnly(hi: number): boolean {
  for (let lo = 0xdc00; lo <= 0xdfff; lo++) {
    const f = foldCodePoint((hi - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000);
    if (f.length !== 1 || asciiCode(f) !== BOUNDARY) return false;
  }
  return true;
}

function baseCode(u: number): number {
  if (u < 0x80) return asciiCode(String.fromCharCode(u));
  if (u >= 0xdc00 && u <= 0xdfff) return DROP; // read with the high surrogate before it
  if (u >= 0xd800 && u <= 0xdbff) return SYMBOL_PLANES.includes(u) && symbolsOnly(u) ? BOUNDARY : NEEDS_FOLD;
  if (u === ASTRAL_LETTER) return u;
  // A lookalike's reading depends on its word, which `foldText` looks at; it writes the own-script reading
  // as a private use character, read here as that letter.
  if (isLookalike(u)) return NEEDS_FOLD;
  const own = OWN_LETTERS[u - OWN_LETTER_BASE];
  if (own !== undefined) return own.charCodeAt(0);
  // A mark of a script written without spaces stays or vanishes by the letter before it, which `foldText`
  // looks at; it writes a mark that stays as a private use character, read here as that mark.
  const mark = KEPT_MARKS[u - KEPT_MARK_BASE];
  if (mark !== undefined) return mark.charCodeAt(0);
  const f = foldCodePoint(u);
  if (f.length === 0) return DROP;
  if (f.length > 1 || isUnspacedMarkUnit(f.charCodeAt(0))) return NEEDS_FOLD;
  const c = f.charCodeAt(0);
  // A folding outside ASCII is a letter or digit: foldCodePoint makes everything else ASCII.
  return c < 0x80 ? asciiCode(f) : c;
}

/**
 * The base table: word characters coded as their canonical character. Built once per thread that builds
 * indexes or calls `normalizeText` (a fraction of a second: it folds every code unit); a worker that
 * wraps a shared index never needs it.
 */
export function baseCharTable(): Int32Array {
  if (base === undefined) {
    base = new Int32Array(0x10000);
    for (let u = 0; u < 0x10000; u++) base[u] = baseCode(u);
  }
  return base;
}

/**
 * Writes into `into` an index's table: the base table with each canonical character replaced by its
 * class in `classOf`, or `OTHER_WORD` when no term uses it. Only the classes change, never the kinds
 * (boundary, word, joiner, symbol, drop, needs folding), so the normaliser decides alike with either.
 */
export function fillClassTable(classOf: ReadonlyMap<number, number>, into: Int32Array): void {
  const table = baseCharTable();
  for (let u = 0; u < 0x10000; u++) {
    const code = table[u] ?? BOUNDARY;
    if (code > BOUNDARY) into[u] = classOf.get(code) ?? OTHER_WORD;
    else if (isSymbol(code)) into[u] = symbolCode(classOf.get(symbolLetter(code)) ?? OTHER_WORD, isEndSymbol(code));
    else into[u] = code;
  }
}
