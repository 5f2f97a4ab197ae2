/**
 * Cyrillic and Greek letters that look like Latin ones, and the script decision that says, word by word,
 * which of the two a text means. `foldText` calls it after folding; the character table sends every text
 * holding such a letter there (`NEEDS_FOLD`).
 *
 * Three kinds of word (letters, digits and marks between spaces, punctuation, separators or symbols):
 *   - a word with a Latin letter reads its lookalikes as Latin (`Кettle`, `κεττlε`): mixing scripts in a word
 *     is evasion, as Unicode TR39's mixed-script detection has it;
 *   - a word every letter of which passes for a Latin letter in the case it is typed in (`кеу`, `РОРРУ`,
 *     `ΚΕΥ`: TR39's whole-script confusables) is read both ways, as Cyrillic or Greek and as Latin, unless
 *     a Cyrillic or Greek word that no Latin word could pass for stands next to it (`wholeScriptLatin`);
 *   - any other word stays in its own script (`вот`: a small `в` looks like a small capital B, not a `b`).
 * The measured price of the second kind (`bench/lookalike-words.ts`): a Russian or Greek word alone, or
 * among others of its kind only, that spells a Latin term fires it (`ВОТ ТОТ` fires `bot` and `tot`; small
 * `сор` fires `cop`, `как` a term `kak`): of 146,269 Russian dictionary words, 15 as listed spell an English
 * word this way, 74 in capitals; in running Russian text a neighbour such as `Нет` or `дом` keeps them Russian.
 */
import { BOUNDARY, JOINER, isSymbol } from './unit-codes.js';

/**
 * Cyrillic and Greek letters that look like Latin ones, keyed as written (capital or small, accents
 * removed), with the Latin letter they pass for inside a word that also has a Latin letter (`Кettle`,
 * `κεττlε`, `ΡΑΝDΑ`), and in a word wholly of `WHOLE_SCRIPT_LOOKALIKES`. A Cyrillic or Greek word also stays
 * in its own script, lower-cased, so that a Cyrillic or Greek term matches it in any case. A capital and its
 * small letter may pass for different Latin letters: `Ν` n but `ν` v, `Υ` y but `υ` u, `Н` h.
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
/** True for a code unit that may be a Cyrillic or Greek lookalike: in the Greek, Cyrillic or Greek Extended blocks. */
const inLookalikeRanges = (u: number): boolean => (u >= 0x370 && u <= 0x52f) || (u >= 0x1f00 && u <= 0x1fff);
/**
 * The lookalikes that pass for their Latin letter in a word with no Latin letter at all: those that Unicode's
 * confusables data (UTS #39) lists as that letter in the case they are typed in. Not the small letters that
 * look like small capitals (Cyrillic `в` ʙ, `м` ᴍ, `н` ʜ, `т` ᴛ; Greek `ε`, `κ`, `τ`, `χ`), which make `вот`,
 * `нет`, `тот`, `мама`, `του` read as the English-looking `bot`, `het`, `tot`, `mama`, `toy`, nor the capitals
 * it does not list (`Ԁ`, `Һ`, `Ԛ`). But for `к`: the usual stand-in for k in a Latin word spelt in Cyrillic
 * (`кеу`), at the cost of 4 more of 146,269 Russian dictionary words that fire an English word alone (15, not
 * 11: `сок` cook, `саке` cake; `bench/lookalike-words.ts`).
 */
const WHOLE_SCRIPT_LOOKALIKES: ReadonlySet<string> = new Set([
  ...'АВЕКМНОРСТХУІЈЅӀԜ', ...'аеорсухіјѕԁһԛԝӏк', ...'ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ', ...'αινορυ',
]);
/** Accents, removed before a lookalike is looked up (`ё` is `е`, `ά` is `α`). */
const MARKS = /\p{M}/gu;
/** Set in a lookalike's cache cell when it is one of `WHOLE_SCRIPT_LOOKALIKES`. */
const WHOLE_SCRIPT = 1 << 16;
/**
 * Per code unit of those ranges: 0 not yet known, -1 no lookalike, else WHOLE_SCRIPT (or not) | (own index + 1) << 8
 * | Latin letter.
 */
const lookalikeCache = new Int32Array(0x10000);

function lookalike(unit: number): number {
  if (!inLookalikeRanges(unit)) return -1;
  let v = lookalikeCache[unit]!;
  if (v === 0) {
    const bare = String.fromCharCode(unit).normalize('NFKD').replace(MARKS, '');
    const latin = LATIN_LOOKALIKES.get(bare);
    const own = OWN_LETTERS.indexOf(bare.toLowerCase());
    v = latin === undefined || own < 0 ? -1
      : (WHOLE_SCRIPT_LOOKALIKES.has(bare) ? WHOLE_SCRIPT : 0) | ((own + 1) << 8) | latin.charCodeAt(0);
    lookalikeCache[unit] = v;
  }
  return v;
}

/** True for a Cyrillic or Greek letter with a Latin lookalike, accents aside (`к`, `К`, `ё`, `ά`). */
export const isLookalike = (unit: number): boolean => lookalike(unit) > 0;
/** True for one of `WHOLE_SCRIPT_LOOKALIKES`, accents aside. */
const isWholeScriptLookalike = (unit: number): boolean => {
  const v = lookalike(unit);
  return v > 0 && (v & WHOLE_SCRIPT) !== 0;
};
/** The Latin letter (ASCII) a lookalike passes for inside a word with Latin letters (or one wholly in lookalikes). */
const latinReading = (unit: number): number => lookalike(unit) & 0xff;
/** The private use unit of a lookalike's own-script reading (see `OWN_LETTER_BASE`). */
const ownReading = (unit: number): number => OWN_LETTER_BASE + ((lookalike(unit) >> 8) & 0xff) - 1;

/** A word's kind for the script decision (`wordKind`). */
type WordKind = 'latin' | 'own' | 'whole' | 'other' | 'none';

const SCRIPT_KINDS: readonly WordKind[] = ['latin', 'own', 'other', 'none'];
/** Per code unit: 0 not yet known, else 1 + the index in `SCRIPT_KINDS` of what it makes a word (`scriptKind`). */
const scriptCache = new Uint8Array(0x10000);
const LATIN_LETTER = /^\p{sc=Latn}$/u;
const LETTER = /^\p{L}$/u;
const OWN_SCRIPT = /^[\p{sc=Cyrl}\p{sc=Grek}]$/u;

/**
 * What a unit that is no lookalike makes its word: Latin (ASCII, accented, fullwidth), Cyrillic or Greek,
 * another script, or nothing (a digit, a mark, a separator). Memoised per code unit.
 */
function scriptKind(u: number): WordKind {
  let v = scriptCache[u]!;
  if (v === 0) {
    const c = String.fromCharCode(u);
    const kind = LATIN_LETTER.test(c) ? 'latin' : !LETTER.test(c) ? 'none' : OWN_SCRIPT.test(c) ? 'own' : 'other';
    scriptCache[u] = v = SCRIPT_KINDS.indexOf(kind) + 1;
  }
  return SCRIPT_KINDS[v - 1]!;
}

/** True for a Latin letter as it stands in a text (ASCII, accented, fullwidth). */
function isLatinUnit(u: number): boolean {
  if (u < 0x80) return ((u | 0x20) >= 0x61 && (u | 0x20) <= 0x7a);
  return scriptKind(u) === 'latin';
}

/** The code units of `src`, to write replacements into one for one. */
function unitsOf(src: string): Uint16Array {
  const units = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) units[i] = src.charCodeAt(i);
  return units;
}

/** Units rendered per `String.fromCharCode` call, well under the engine's argument limit. */
const RENDER_CHUNK = 8192;

/**
 * The string of `units`. `apply` takes the typed array as it is (an array-like): spreading it went through its
 * iterator, 6 times slower, and made the script decision cost more than the scan of an English text with Russian in it.
 */
function textOf(units: Uint16Array): string {
  const parts: string[] = [];
  for (let i = 0; i < units.length; i += RENDER_CHUNK) {
    parts.push(String.fromCharCode.apply(null, units.subarray(i, i + RENDER_CHUNK) as unknown as number[]));
  }
  return parts.join('');
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
export function resolveLookalikes(src: string, table: Int32Array): string {
  let out: Uint16Array | undefined;
  for (let i = 0; i < src.length; i++) {
    if (!isLookalike(src.charCodeAt(i))) continue;
    let start = i;
    while (start > 0 && inWord(table[src.charCodeAt(start - 1)]!)) start--;
    let end = i + 1;
    while (end < src.length && inWord(table[src.charCodeAt(end)]!)) end++;
    let latin = false;
    for (let q = start; q < end && !latin; q++) latin = isLatinUnit(src.charCodeAt(q));
    out ??= unitsOf(src);
    for (let q = i; q < end; q++) {
      const u = src.charCodeAt(q);
      if (isLookalike(u)) out[q] = latin ? latinReading(u) : ownReading(u);
    }
    i = end - 1;
  }
  return out === undefined ? src : textOf(out);
}

/**
 * What the word `src[start .. end)` is for the script decision: `latin` with a Latin letter; `own` with a
 * Cyrillic or Greek letter that passes for no Latin letter in a word of its own script (`д`, `т`, `λ`);
 * `whole` when all its letters are `WHOLE_SCRIPT_LOOKALIKES`, digits aside; `other` with letters of another
 * script; `none` without letters (a number).
 */
function wordKind(src: string, start: number, end: number): WordKind {
  let whole = false;
  let own = false;
  let other = false;
  for (let q = start; q < end; q++) {
    const u = src.charCodeAt(q);
    if (isLookalike(u)) {
      if (isWholeScriptLookalike(u)) whole = true;
      else own = true;
      continue;
    }
    const kind = scriptKind(u);
    if (kind === 'latin') return 'latin';
    if (kind === 'own') own = true;
    else if (kind === 'other') other = true;
  }
  if (own) return 'own';
  if (other) return 'other';
  return whole ? 'whole' : 'none';
}

/**
 * `resolved` (`src` after `resolveLookalikes`, unit for unit) with the words wholly in lookalikes
 * (`wordKind` `whole`) read as Latin, or undefined when no word is read so. A run of such words, numbers
 * between them aside, is read so unless the nearest word with a letter before or after it is Cyrillic or
 * Greek of the `own` kind: Unicode's whole-script test judges a string alone, but in a text a word next
 * to `Нет`, `дом` or `του` is Russian or Greek (`Нет, ВОТ ТОТ!`), while one among Latin words, or alone,
 * is likely a Latin word spelt in lookalikes (`a red рорру field`, `кеу`).
 */
export function wholeScriptLatin(src: string, resolved: string, table: Int32Array): string | undefined {
  // Few words are read so: the text is built from slices of `resolved` and the runs read as Latin.
  const parts: string[] = [];
  let copied = 0;
  for (let i = 0; i < src.length; i++) {
    // Only words near a letter that may pass for Latin are looked at: most of a text is far from any.
    if (!isWholeScriptLookalike(src.charCodeAt(i))) continue;
    let from = wordStart(src, table, i);
    let to = wordEnd(src, table, i);
    if (wordKind(src, from, to) !== 'whole') {
      i = to - 1;
      continue;
    }
    // The run of such words (numbers among them aside), and the nearest other word on each side.
    let before: WordKind = 'none';
    for (let p = from; before === 'none';) {
      const end = previousWordEnd(src, table, p);
      if (end < 0) break;
      const start = wordStart(src, table, end - 1);
      const kind = wordKind(src, start, end);
      if (kind === 'whole') from = start;
      else if (kind !== 'none') before = kind;
      p = start;
    }
    let after: WordKind = 'none';
    for (let p = to; after === 'none';) {
      const start = nextWordStart(src, table, p);
      if (start < 0) break;
      const end = wordEnd(src, table, start);
      const kind = wordKind(src, start, end);
      if (kind === 'whole') to = end;
      else if (kind !== 'none') after = kind;
      p = end;
    }
    if (before !== 'own' && after !== 'own') {
      let run = '';
      for (let q = from; q < to; q++) {
        const u = src.charCodeAt(q);
        run += String.fromCharCode(isLookalike(u) ? latinReading(u) : resolved.charCodeAt(q));
      }
      parts.push(resolved.slice(copied, from), run);
      copied = to;
    }
    i = to - 1;
  }
  if (parts.length === 0) return undefined;
  parts.push(resolved.slice(copied));
  return parts.join('');
}

/** The first unit of the word (`inWord`) that holds the unit at `i`. */
function wordStart(src: string, table: Int32Array, i: number): number {
  while (i > 0 && inWord(table[src.charCodeAt(i - 1)]!)) i--;
  return i;
}

/** Just past the word that holds the unit at `i`. */
function wordEnd(src: string, table: Int32Array, i: number): number {
  let end = i + 1;
  while (end < src.length && inWord(table[src.charCodeAt(end)]!)) end++;
  return end;
}

/** Just past the last word that ends at or before `p`, or -1 when none does. */
function previousWordEnd(src: string, table: Int32Array, p: number): number {
  while (p > 0 && !inWord(table[src.charCodeAt(p - 1)]!)) p--;
  return p > 0 ? p : -1;
}

/** The first unit of the first word at or after `p`, or -1 when none follows. */
function nextWordStart(src: string, table: Int32Array, p: number): number {
  while (p < src.length && !inWord(table[src.charCodeAt(p)]!)) p++;
  return p < src.length ? p : -1;
}
