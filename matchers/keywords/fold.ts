/**
 * Unicode folding: compatibility forms (NFKD, so fullwidth letters, ligatures and mathematical letters
 * read as plain ones), case and diacritics, one code point at a time; Cyrillic and Greek lookalikes of Latin
 * letters, whose reading depends on their word, are `lookalikes.ts`'s. Folding each BMP code unit once
 * builds the character table; a text itself is folded only where a character's folding is longer than one
 * unit (`ß`, `ﬁ`, `…`, astral letters) or depends on its word, and each folded unit still knows where it
 * came from in the original text.
 */
import { isLookalike, resolveLookalikes, wholeScriptLatin } from './lookalikes.js';
import { BOUNDARY, DROP, NEEDS_FOLD } from './unit-codes.js';

/** Stands for every letter or digit outside the BMP that does not fold into it (they share one class). */
export const ASTRAL_LETTER = 0xe000;

/**
 * True for a canonical code (a letter, or a kept mark) whose repeats stay: those of the scripts written
 * without spaces (`UNSPACED`), and astral letters (which share one code). Collapsing `猫猫` to `猫` or `ここ`
 * to `こ` made terms in those scripts, which match inside other words, fire in `熊猫`. Elsewhere (Latin,
 * Greek, Cyrillic, Arabic, Hebrew, Armenian, Devanagari, Georgian, ...) words are whole and a repeated
 * letter is evasion noise (`مرحباااا`, `שלוםםם`): repeats collapse. An index numbers the classes of letters
 * whose repeats stay from its `plainFrom` up.
 */
export function keepsRepeats(code: number): boolean {
  if (code < 0xe00 || code > 0xffff) return false;
  let v = repeatsCache[code]!;
  if (v === 0) repeatsCache[code] = v = code === ASTRAL_LETTER || UNSPACED.test(String.fromCharCode(code)) ? 1 : 2;
  return v === 1;
}
/** Per code: 0 not yet known, 1 repeats stay, 2 they collapse. */
const repeatsCache = new Uint8Array(0x10000);

/** Format characters (zero-width space, soft hyphen, joiners) and variation selectors vanish. */
const INVISIBLE = /^\p{Default_Ignorable_Code_Point}$/u;
const MARK_OR_INVISIBLE = /[\p{M}\p{Default_Ignorable_Code_Point}]/gu;
/**
 * Scripts written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar). Their marks are
 * letters of their own where they sit on a letter of such a script (Thai vowels, the kana voicing marks):
 * dropping them made `ผี` read `ผ` and `ぶた` read `ふた`, and a term in such a script, which matches inside
 * other words, then fired in `ผมชอบกาแฟ` and `ふたりで`; and their repeated letters stay (`keepsRepeats`).
 * Script extensions, so that marks and letters shared by two of them count (`ー`, U+3099).
 */
export const UNSPACED = /^[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}]$/u;
/**
 * A mark vanishes unless it is a mark of those scripts (`isUnspacedMark`), and even such a mark vanishes where
 * it does not sit on a letter of those scripts (`resolveMarks`): a mark's own script says nothing of the
 * letter it is typed on, and a Thai or kana mark on a Latin letter (`bad\u0e31word`) is evasion noise like
 * an accent. Marks of other scripts (accents, the generic combining marks, Arabic and Hebrew points, Indic
 * vowel signs) always vanish, as they did before marks were kept at all.
 */
const MARK = /^\p{M}$/u;
/** By script, not script extensions: some generic combining marks (U+0303, U+0323) list Thai or Myanmar. */
const UNSPACED_SCRIPT = /^[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Thai}\p{sc=Lao}\p{sc=Khmer}\p{sc=Myanmar}]$/u;
/** Marks of those scripts, and the inherited ones of the CJK block (the kana voicing marks U+3099, U+309A). */
const isUnspacedMark = (c: string): boolean => MARK.test(c) && (UNSPACED_SCRIPT.test(c) || (c >= '\u3000' && UNSPACED.test(c)));
const dropped = (c: string): string => (INVISIBLE.test(c) || !isUnspacedMark(c) ? '' : c);
const ASTRAL = /[\u{10000}-\u{10ffff}]/gu;
const LETTER_OR_DIGIT = /^[\p{L}\p{M}\p{N}]$/u;

/** Latin letters that NFKD leaves whole, read as their plain forms; and final sigma, read as σ. */
const LETTERS: ReadonlyMap<number, string> = new Map(Object.entries({
  'ß': 'ss', 'æ': 'ae', 'œ': 'oe', 'ø': 'o', 'đ': 'd', 'ð': 'd', 'ł': 'l', 'ħ': 'h', 'ı': 'i', 'ŧ': 't', 'ς': 'σ',
}).map(([from, to]) => [from.codePointAt(0) ?? 0, to]));

/** Separators outside ASCII, folded to an ASCII one so that the character table need not know them. */
const UNICODE_JOINERS = '\u00b7\u2022\u2027\u2219\u2010\u2011\u2012\u2013\u2014\u2015\u2212';
/** What anything that is neither a letter nor a digit folds to (emoji, curly quotes, CJK punctuation). */
const OTHER_BOUNDARY = '\u0001';

const folded = new Map<number, string>();
/**
 * The spacing kana voicing marks `゛` and `゜`, read as the combining ones (U+3099, U+309A), as the
 * half-width `ﾞ` and `ﾟ` are by NFKD: NFKD makes them a space and the mark, which then sat on nothing,
 * so `ﾀ゛` read `ﾀ` and fired a term `タ`.
 */
const SPACING_KANA_MARKS: ReadonlyMap<number, string> = new Map([[0x309b, '\u3099'], [0x309c, '\u309a']]);

function plainLetter(ch: string): string {
  const c = LETTERS.get(ch.codePointAt(0) ?? 0) ?? ch;
  if (c.length > 1 || c.charCodeAt(0) < 0x80) return c;
  if (UNICODE_JOINERS.includes(c)) return '-';
  return LETTER_OR_DIGIT.test(c) ? c : OTHER_BOUNDARY;
}

/**
 * What one non-ASCII code point reads as: NFKD, lower case, NFKD again (lower-casing can produce
 * decomposable letters), invisible characters and marks dropped but those of scripts written without
 * spaces (`UNSPACED`: they stay, and `resolveMarks` decides by the letter they sit on), a few letters mapped, separators and other non-letters made ASCII. A Cyrillic or Greek
 * lookalike stays in its own script here: whether it reads as Latin depends on its word (`foldText`).
 * May be empty (a dropped mark) or longer than one unit (`ﬁ` gives `fi`, `ぶ` gives `ふ` and its mark).
 * Memoised per code point.
 */
export function foldCodePoint(cp: number): string {
  const hit = folded.get(cp);
  if (hit !== undefined) return hit;
  let out = (SPACING_KANA_MARKS.get(cp) ?? String.fromCodePoint(cp)).normalize('NFKD').toLowerCase().normalize('NFKD').replace(MARK_OR_INVISIBLE, dropped);
  out = out.replace(ASTRAL, (c) => (LETTER_OR_DIGIT.test(c) ? String.fromCharCode(ASTRAL_LETTER) : OTHER_BOUNDARY));
  out = Array.from(out, plainLetter).join('');
  folded.set(cp, out);
  return out;
}

/**
 * Marks of scripts written without spaces that sit on a letter of those scripts are written, in a folded
 * text, as a private use character `KEPT_MARK_BASE + k` (the k-th of `KEPT_MARKS`), which the character
 * table reads as that mark, a letter; the mark itself is `NEEDS_FOLD`, as whether it stays depends on the
 * letter before it (`resolveMarks`). A text that itself holds these private use characters reads them as marks.
 */
export const KEPT_MARK_BASE = 0xf780;
/** The marks of `UNSPACED` scripts (BMP), in code point order. */
export const KEPT_MARKS: readonly string[] = Array.from({ length: 0x10000 }, (_, u) => String.fromCharCode(u))
  .filter((c) => c.length === 1 && !(c >= '\ud800' && c <= '\udfff') && isUnspacedMark(c));
if (KEPT_MARK_BASE + KEPT_MARKS.length > 0xf900) throw new Error('fold: too many kept marks for their private use range');
const keptMarkIndex = new Map(KEPT_MARKS.map((c, k) => [c.charCodeAt(0), k]));
/** True for a mark of an `UNSPACED` script as typed (its reading depends on the letter before it). */
export const isUnspacedMarkUnit = (unit: number): boolean => keptMarkIndex.has(unit);
/** Stands, in a folded text, for a mark that sits on no letter of an unspaced script: read as dropped. */
const DROPPED_MARK = 0x200b;

/**
 * True for a mark that stays a letter of its own, as it stands in a folded text: a kept mark (`KEPT_MARK_BASE`).
 */
export function isKeptMark(unit: number): boolean {
  return unit >= KEPT_MARK_BASE && unit < KEPT_MARK_BASE + KEPT_MARKS.length;
}

/**
 * `src` with each mark of an unspaced script replaced, one unit for one: by its kept form
 * (`KEPT_MARK_BASE`) where it sits on a letter of an `UNSPACED` script, or on such a kept mark (`ที่`), the
 * characters the table drops aside; else, on a Latin, Greek, Cyrillic or other letter, or on nothing, by
 * a character the table drops (`bad\u0e31word` reads `badword`).
 */
function resolveMarks(src: string, table: Int32Array): string {
  let out: string[] | undefined;
  for (let i = 0; i < src.length; i++) {
    const k = keptMarkIndex.get(src.charCodeAt(i));
    if (k === undefined) continue;
    out ??= src.split('');
    let q = i - 1;
    while (q >= 0 && table[out[q]!.charCodeAt(0)] === DROP) q--;
    const base = q >= 0 ? out[q]!.charCodeAt(0) : -1;
    const keep = base >= 0 && (isKeptMark(base) || (table[base]! > BOUNDARY && UNSPACED.test(String.fromCharCode(base))));
    out[i] = String.fromCharCode(keep ? KEPT_MARK_BASE + k : DROPPED_MARK);
  }
  return out === undefined ? src : out.join('');
}

/**
 * A text after folding, and where its units came from. For each folded code point of the original,
 * in order: the units its folding occupies in `text` (`foldedAt` .. `foldedEnd`, possibly none) and the
 * units it occupied in the original (`originalAt` .. `originalEnd`). Between them, units map one to one.
 */
export interface FoldedText {
  text: string;
  /**
   * `text` with the words wholly in Cyrillic or Greek lookalikes that may be Latin read as Latin, unit for unit
   * (so the offsets hold for it too), where there are such words (`wholeScriptLatin`); `text` reads them in their
   * own script. A text is matched in both.
   */
  latinText?: string;
  foldedAt: number[];
  foldedEnd: number[];
  originalAt: number[];
  originalEnd: number[];
}

/**
 * Folds the characters of `text` that `table` (a character table) marks `NEEDS_FOLD`: those whose folding
 * is longer than one unit, astral characters, and Cyrillic and Greek lookalikes, each of which becomes
 * either its Latin letter or its own-script letter as its word decides (`resolveLookalikes`), and both in a
 * word wholly in lookalikes that may be Latin (`latinText`). The table reads all others as they are.
 */
export function foldText(text: string, table: Int32Array): FoldedText {
  const folded: FoldedText = { text, foldedAt: [], foldedEnd: [], originalAt: [], originalEnd: [] };
  const parts: string[] = [];
  let from = 0;
  let delta = 0;
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    if (table[u] !== NEEDS_FOLD || isLookalike(u)) continue;
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
  // One unit for one: the offsets recorded above still hold.
  const marked = resolveMarks(folded.text, table);
  folded.text = resolveLookalikes(marked, table);
  const latin = wholeScriptLatin(marked, folded.text, table);
  if (latin !== undefined) folded.latinText = latin;
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
