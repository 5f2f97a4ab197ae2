/**
 * Unicode folding: compatibility forms (NFKD, so fullwidth letters, ligatures and mathematical letters
 * read as plain ones), case, diacritics and a few homoglyphs, one code point at a time. Folding each BMP
 * code unit once builds the character table; a text itself is folded only where a character's folding
 * is longer than one unit (`ß`, `ﬁ`, `…`, astral letters), and each folded unit still knows where it
 * came from in the original text.
 */
import { NEEDS_FOLD } from './unit-codes.js';

/** Stands for every letter or digit outside the BMP that does not fold into it (they share one class). */
export const ASTRAL_LETTER = 0xe000;

/** Marks, format characters (zero-width space, soft hyphen, joiners) and variation selectors vanish. */
const IGNORED = /[\p{M}\p{Default_Ignorable_Code_Point}]/gu;
const ASTRAL = /[\u{10000}-\u{10ffff}]/gu;
const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;

/**
 * Cyrillic and Greek letters that look like Latin ones, read as those; and final sigma, which lower-casing
 * a capital never gives. Keyed by small letters only: a character is lower-cased first, so that a capital
 * and its small letter always read alike (`КОТ`, `Кот` and `кот`; `ΚΑΛΗΜΕΡΑ` and `καλημερα`). The
 * capital's lookalike wins: where only the capital looks Latin (`К`, `М`, `Н`, `Т`, `В`, `Η`, `Μ`), the
 * small letter reads as that Latin letter too; where the two look like different ones, the capital is
 * the exact likeness (`Ν` N, `Υ` Y) and the small letter only a near one (`ν` v, `υ` u), so `ν` reads n
 * and `υ` y, and `ν` no longer passes for v nor `υ` for u.
 */
const HOMOGLYPHS: ReadonlyMap<number, string> = new Map(Object.entries({
  // Cyrillic.
  'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't',
  'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'һ': 'h', 'ԛ': 'q', 'ԝ': 'w', 'ӏ': 'l',
  // Greek.
  'α': 'a', 'β': 'b', 'ε': 'e', 'ζ': 'z', 'η': 'h', 'ι': 'i', 'κ': 'k', 'μ': 'm', 'ν': 'n', 'ο': 'o',
  'ρ': 'p', 'τ': 't', 'υ': 'y', 'χ': 'x', 'ς': 'σ',
  // Latin letters that NFKD leaves whole.
  'ß': 'ss', 'æ': 'ae', 'œ': 'oe', 'ø': 'o', 'đ': 'd', 'ð': 'd', 'ł': 'l', 'ħ': 'h', 'ı': 'i', 'ŧ': 't',
}).map(([from, to]) => [from.codePointAt(0) ?? 0, to]));

/** Separators outside ASCII, folded to an ASCII one so that the character table need not know them. */
const UNICODE_JOINERS = '\u00b7\u2022\u2027\u2219\u2010\u2011\u2012\u2013\u2014\u2015\u2212';
/** What anything that is neither a letter nor a digit folds to (emoji, curly quotes, CJK punctuation). */
const OTHER_BOUNDARY = '\u0001';

const folded = new Map<number, string>();

function lookalike(ch: string): string {
  const c = HOMOGLYPHS.get(ch.codePointAt(0) ?? 0) ?? ch;
  if (c.length > 1 || c.charCodeAt(0) < 0x80) return c;
  if (UNICODE_JOINERS.includes(c)) return '-';
  return LETTER_OR_DIGIT.test(c) ? c : OTHER_BOUNDARY;
}

/**
 * What one non-ASCII code point reads as: NFKD, lower case, NFKD again (lower-casing can produce
 * decomposable letters), marks and invisible characters dropped, homoglyphs mapped (after lower-casing),
 * separators and other non-letters made ASCII. May be empty (a combining mark) or longer than one unit (`ﬁ` gives `fi`).
 * Memoised per code point.
 */
export function foldCodePoint(cp: number): string {
  const hit = folded.get(cp);
  if (hit !== undefined) return hit;
  // Lower case before lookalikes, never after: see HOMOGLYPHS.
  let out = String.fromCodePoint(cp).normalize('NFKD').toLowerCase().normalize('NFKD').replace(IGNORED, '');
  out = out.replace(ASTRAL, (c) => (LETTER_OR_DIGIT.test(c) ? String.fromCharCode(ASTRAL_LETTER) : OTHER_BOUNDARY));
  out = Array.from(out, lookalike).join('');
  folded.set(cp, out);
  return out;
}

/**
 * A text after folding, and where its units came from. For each folded code point of the original,
 * in order: the units its folding occupies in `text` (`foldedAt` .. `foldedEnd`, possibly none) and the
 * units it occupied in the original (`originalAt` .. `originalEnd`). Between them, units map one to one.
 */
export interface FoldedText {
  text: string;
  foldedAt: number[];
  foldedEnd: number[];
  originalAt: number[];
  originalEnd: number[];
}

/**
 * Folds the characters of `text` that `table` (a character table) marks `NEEDS_FOLD`: those whose folding
 * is longer than one unit, and astral characters. The table reads all others as they are.
 */
export function foldText(text: string, table: Int32Array): FoldedText {
  const folded: FoldedText = { text, foldedAt: [], foldedEnd: [], originalAt: [], originalEnd: [] };
  const parts: string[] = [];
  let from = 0;
  let delta = 0;
  for (let i = 0; i < text.length; i++) {
    if (table[text.charCodeAt(i)] !== NEEDS_FOLD) continue;
    const cp = text.codePointAt(i) ?? 0;
    const width = cp > 0xffff ? 2 : 1;
    const f = foldCodePoint(cp);
    parts.push(text.slice(from, i), f);
    folded.foldedAt.push(i + delta);
    folded.foldedEnd.push(i + delta + f.length);
    folded.originalAt.push(i);
    folded.originalEnd.push(i + width);
    delta += f.length - width;
    i += width - 1;
    from = i + 1;
  }
  if (parts.length > 0) {
    parts.push(text.slice(from));
    folded.text = parts.join('');
  }
  return folded;
}

/** Index in the original text of the character that produced unit `i` of the folded text (or its length). */
export function originalIndex(folded: FoldedText, i: number): number {
  const at = folded.foldedAt;
  // The last folded character whose folding begins at or before i.
  let lo = 0;
  let hi = at.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at[mid]! <= i) lo = mid + 1;
    else hi = mid;
  }
  const k = lo - 1;
  if (k < 0) return i;
  if (i < folded.foldedEnd[k]!) return folded.originalAt[k]!;
  return folded.originalEnd[k]! + (i - folded.foldedEnd[k]!);
}
