/**
 * Cyrillic and Greek letters that look like Latin ones, and the script decision that says, word by word,
 * which of the two a text means. `foldText` calls it after folding; the character table sends every text
 * holding such a letter there (`NEEDS_FOLD`).
 */
import { BOUNDARY, JOINER, isSymbol } from './unit-codes.js';

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
/** Accents, removed before a lookalike is looked up (`ё` is `е`, `ά` is `α`). */
const MARKS = /\p{M}/gu;
/** Per code unit of those ranges: 0 not yet known, -1 no lookalike, else (own index + 1) << 8 | Latin letter. */
const lookalikeCache = new Int32Array(0x10000);

function lookalike(unit: number): number {
  if (!LOOKALIKE_RANGES.some(([lo, hi]) => unit >= lo && unit <= hi)) return -1;
  let v = lookalikeCache[unit]!;
  if (v === 0) {
    const bare = String.fromCharCode(unit).normalize('NFKD').replace(MARKS, '');
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

/** True for a Latin letter as it stands in a text (ASCII, accented, fullwidth). */
function isLatinUnit(u: number): boolean {
  if (u < 0x80) return ((u | 0x20) >= 0x61 && (u | 0x20) <= 0x7a);
  return LATIN_LETTER.test(String.fromCharCode(u));
}
const LATIN_LETTER = /^\p{sc=Latn}$/u;

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
export function resolveLookalikes(src: string, table: Int32Array): string {
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
