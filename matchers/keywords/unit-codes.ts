/**
 * The codes the character table gives each UTF-16 code unit, and the normaliser acts on. Non-negative
 * codes are classes (or, in the base table, canonical characters); negative codes are kinds that need
 * a closer look.
 */

/**
 * A boundary: anything that is not part of a word. Class 0 in every table. Spaces are boundaries too;
 * the normaliser tells them apart by their character (`isSpace`) where they join single letters.
 */
export const BOUNDARY = 0;
/** In an index's table: a word character that no term uses. */
export const OTHER_WORD = 1;
/** A separator that disappears inside a word (`k.e.y`, `bad-word`) and is a boundary elsewhere. */
export const JOINER = -2;
/** A character to skip: combining marks, zero-width and other invisible characters, low surrogates. */
export const DROP = -3;
/** A character whose folding is longer than one unit (`ß`, `ﬁ`, `…`, astral letters): fold the text first. */
export const NEEDS_FOLD = -4;
/**
 * A capital `I`: in sans-serif fonts the usual stand-in for `l` (`heIIo`, `kiII`), and the pronoun and the
 * first letter of `It`, `In`, `If`. It reads as `1` (which a term matches where it has an i or an l) right
 * after a small letter, or after such an `I`, also across the gaps of a row of single letters (`k i I I`),
 * unless it ends a word of 2 letters (`hI`, `kI`); elsewhere, at the start of a word or in capitals (`I`,
 * `It`, `HI`, `II`, `KILL`), as `i`. See `capital-i.ts`.
 */
export const CAPITAL_I = -5;
/** True for a code that is a letter or digit wherever it stands. */
export const isLetterCode = (code: number): boolean => code > BOUNDARY || code === CAPITAL_I;
/** Symbols standing for letters (`!` for 1) are coded `SYMBOL_BASE - letter`. */
export const SYMBOL_BASE = -0x10000;
/**
 * Symbols that stand for letters at the end of a word too (`@` for a, `$` for s: `pand@`, `bo$$`) are coded
 * `END_SYMBOL_BASE - letter`, below every other symbol code (letters and classes are under 0x20000).
 */
export const END_SYMBOL_BASE = -0x40000000;

/** The code of a symbol that reads as `letter` when a letter follows it (or, `atEnd`, precedes it too). */
export const symbolCode = (letter: number, atEnd = false): number => (atEnd ? END_SYMBOL_BASE : SYMBOL_BASE) - letter;
/** The letter a symbol code stands for. */
export const symbolLetter = (code: number): number => (code <= END_SYMBOL_BASE ? END_SYMBOL_BASE : SYMBOL_BASE) - code;
export const isSymbol = (code: number): boolean => code <= SYMBOL_BASE;
/** True for a symbol that reads as a letter at the end of a word too. */
export const isEndSymbol = (code: number): boolean => code <= END_SYMBOL_BASE;

/**
 * Spaces that separate single letters (`k e y`): the ASCII space, the tab (`k\te\ty` is typed as often,
 * and pasted from cells), and those NFKD folds to a space.
 */
export function isSpace(unit: number): boolean {
  return unit === 0x20 || unit === 0x09 || unit === 0xa0 || unit === 0x3000 || (unit >= 0x2000 && unit <= 0x200a) || unit === 0x202f || unit === 0x205f;
}

/** Most spaces and separators in a gap between spaced single letters (`k . e . y`), characters to skip aside. */
export const MAX_GAP = 3;
/** Most characters to skip (marks, zero-width characters) in such a gap. */
export const MAX_GAP_DROPS = 8;
