/**
 * Unicode folding: compatibility forms (NFKD, so fullwidth letters, ligatures and mathematical letters
 * read as plain ones), case, diacritics and a few homoglyphs, one code point at a time. Folding each BMP
 * code unit once builds the character table; a text itself is folded only where a character's folding
 * is longer than one unit (`ß`, `ﬁ`, `…`, astral letters), and each folded unit still knows where it
 * came from in the original text.
 */
import { BOUNDARY, DROP, JOINER, NEEDS_FOLD, isSymbol } from './unit-codes.js';

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

/**
 * Cyrillic and Greek letters that look like Latin ones, keyed as written (capital or small, accents
 * removed), with the Latin letter they pass for. They read as that letter only inside a word that also has
 * a Latin letter (`Кettle`, `κεττlε`, `ΡΑΝDΑ`), where mixing scripts is evasion (as Unicode TR39's
 * mixed-script detection has it); a word written wholly in Cyrillic or Greek stays in its own script,
 * lower-cased, so that Russian `вот`, `тот`, `как`, `нет` and Greek `του` never fire the Latin terms
 * `bot`, `tot`, `kak`, `het`, `toy`, and a Cyrillic or Greek term matches in any case. The price: a Latin
 * term spelt wholly in lookalikes (`КЕТТЕ` for `kette`) does not match, as it cannot be told from Cyrillic
 * text. A capital and its small letter may pass for different Latin letters: `Ν` n but `ν` v, `Υ` y but
 * `υ` u, `Н` h.
 */
const LATIN_LOOKALIKES: ReadonlyMap<string, string> = new Map(Object.entries({
  // Cyrillic capitals, then small letters (a small letter passes for its capital's likeness: в b, н h).
  'А': 'a', 'В': 'b', 'Е': 'e', 'К': 'k', 'М': 'm', 'Н': 'h', 'О': 'o', 'Р': 'p', 'С': 'c', 'Т': 't',
  'Х': 'x', 'У': 'y', 'І': 'i', 'Ј': 'j', 'Ѕ': 's', 'Ԁ': 'd', 'Һ': 'h', 'Ԛ': 'q', 'Ԝ': 'w', 'Ӏ': 'l',
  'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't',
  'х': 'x', 'у': 'y', 'і': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'һ': 'h', 'ԛ': 'q', 'ԝ': 'w', 'ӏ': 'l',
  // Greek capitals, then small letters.
  'Α': 'a', 'Β': 'b', 'Ε': 'e', 'Ζ': 'z', 'Η': 'h', 'Ι': 'i', 'Κ': 'k', 'Μ': 'm', 'Ν': 'n', 'Ο': 'o',
  'Ρ': 'p', 'Τ': 't', 'Υ': 'y', 'Χ': 'x',
  'α': 'a', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x',
}));

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
 * Cyrillic and Greek lookalikes in their own-script reading are written, in a folded text, as a private
 * use character `OWN_LETTER_BASE + k` (the k-th of `OWN_LETTERS`), which the character table reads as that
 * letter: the letter itself is kept for `NEEDS_FOLD`, so that the table sends every text holding one
 * through `foldText`. A text that itself holds these private use characters reads them as those letters.
 */
export const OWN_LETTER_BASE = 0xf700;
/** The own-script letters (small) that have Latin lookalikes, each once. */
export const OWN_LETTERS: readonly string[] = [...new Set(
  [...LATIN_LOOKALIKES.keys()].map((c) => c.toLowerCase()),
)].sort();
/** Code units that may be Cyrillic or Greek lookalikes: the Greek, Cyrillic and Greek Extended blocks. */
const LOOKALIKE_RANGES: readonly (readonly [number, number])[] = [[0x370, 0x52f], [0x1f00, 0x1fff]];
/** Per code unit of those ranges: 0 not yet known, -1 no lookalike, else (own index + 1) << 8 | Latin letter. */
const lookalikeCache = new Int32Array(0x10000);

function lookalike(unit: number): number {
  if (!LOOKALIKE_RANGES.some(([lo, hi]) => unit >= lo && unit <= hi)) return -1;
  let v = lookalikeCache[unit]!;
  if (v === 0) {
    const bare = String.fromCharCode(unit).normalize('NFKD').replace(MARK_OR_INVISIBLE, '');
    const latin = LATIN_LOOKALIKES.get(bare);
    const own = OWN_LETTERS.indexOf(bare.toLowerCase());
    v = latin === undefined || own < 0 ? -1 : ((own + 1) << 8) | latin.charCodeAt(0);
    lookalikeCache[unit] = v;
  }
  return v;
}

/** True for a Cyrillic or Greek letter with a Latin lookalike, accents aside (`к`, `К`, `ё`, `ά`). */
export const isLookalike = (unit: number): boolean => lookalike(unit) > 0;
/** The Latin letter (ASCII) a lookalike passes for inside a word with Latin letters. */
const latinReading = (unit: number): number => lookalike(unit) & 0xff;
/** The private use unit of a lookalike's own-script reading (see `OWN_LETTER_BASE`). */
const ownReading = (unit: number): number => OWN_LETTER_BASE + (lookalike(unit) >> 8) - 1;

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

/** True for a Latin letter as it stands in a text (ASCII, accented, fullwidth). */
function isLatinUnit(u: number): boolean {
  if (u < 0x80) return ((u | 0x20) >= 0x61 && (u | 0x20) <= 0x7a);
  return LATIN_LETTER.test(String.fromCharCode(u));
}
const LATIN_LETTER = /^\p{sc=Latn}$/u;

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
 * is longer than one unit, astral characters, and Cyrillic and Greek lookalikes, each of which becomes
 * either its Latin letter or its own-script letter as its word decides (`resolveLookalikes`). The table
 * reads all others as they are.
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
  folded.text = resolveLookalikes(resolveMarks(folded.text, table), table);
  return folded;
}

/**
 * True for a character that continues a word for the script decision: a letter or digit, a mark, one to
 * fold; not a boundary, a separator or a symbol (`@ $ ! |`). Symbols split words as the alternative reading
 * splits them: counted in, they made Russian `Нет!OK`, `вот|here` and `вот@mail.ru` mixed, and `нет` fired `het`.
 */
function inWord(code: number): boolean {
  return code !== BOUNDARY && code !== JOINER && !isSymbol(code);
}

/**
 * `src` with each Cyrillic or Greek lookalike replaced by its Latin letter where its word (letters,
 * digits and marks between spaces, punctuation, separators or symbols) has a Latin letter, else by its
 * own-script letter (`OWN_LETTER_BASE`). Only letters count: digits and symbols read as Latin letters
 * (`к3т`, `в@т`) but are typed in any script, so they do not make a word mixed; a word split by
 * separators or symbols is judged piece by piece (`К.e.t.t.l.e` and `К@ttle` are not caught), so that
 * hyphenated Russian compounds with a Latin part (`IT-отдел`, `Wi-Fi-роутер`) and Russian next to Latin
 * across a symbol (`Нет!OK`, `вот@mail.ru`, `Да|Yes`) do not read their Russian part as Latin.
 */
function resolveLookalikes(src: string, table: Int32Array): string {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < src.length; i++) {
    if (!isLookalike(src.charCodeAt(i))) continue;
    let start = i;
    while (start > 0 && inWord(table[src.charCodeAt(start - 1)]!)) start--;
    let end = i + 1;
    while (end < src.length && inWord(table[src.charCodeAt(end)]!)) end++;
    let latin = false;
    for (let q = start; q < end && !latin; q++) latin = isLatinUnit(src.charCodeAt(q));
    for (let q = i; q < end; q++) {
      const u = src.charCodeAt(q);
      if (!isLookalike(u)) continue;
      parts.push(src.slice(from, q), String.fromCharCode(latin ? latinReading(u) : ownReading(u)));
      from = q + 1;
    }
    i = end - 1;
  }
  if (parts.length === 0) return src;
  parts.push(src.slice(from));
  return parts.join('');
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
