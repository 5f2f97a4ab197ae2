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
/** Code units that may be Cyrillic or Greek lookalikes: the Greek, Cyrillic and Greek Extended blocks. */
const LOOKALIKE_RANGES: readonly (readonly [number, number])[] = [[0x370, 0x52f], [0x1f00, 0x1fff]];
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
  if (!LOOKALIKE_RANGES.some(([lo, hi]) => unit >= lo && unit <= hi)) return -1;
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
/** The Latin letter (ASCII) a lookalike passes for inside a word with Latin letters (or one wholly in lookalikes). */
const latinReading = (unit: number): number => lookalike(unit) & 0xff;
/** The private use unit of a lookalike's own-script reading (see `OWN_LETTER_BASE`). */
const ownReading = (unit: number): number => OWN_LETTER_BASE + ((lookalike(unit) >> 8) & 0xff) - 1;

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

/** A word's kind for the script decision (`wordKind`). */
type WordKind = 'latin' | 'own' | 'whole' | 'other' | 'none';

const SCRIPT_KINDS: readonly WordKind[] = ['latin', 'own', 'other', 'none'];
/** Per code unit: 0 not yet known, else 1 + the index in `SCRIPT_KINDS` of what it makes a word (`scriptKind`). */
const scriptCache = new Uint8Array(0x10000);

/** What a unit that is no lookalike makes its word: Latin, Cyrillic or Greek, another script, or nothing (a digit, a mark). */
function scriptKind(u: number): WordKind {
  let v = scriptCache[u]!;
  if (v === 0) {
    const c = String.fromCharCode(u);
    const kind = isLatinUnit(u) ? 'latin' : !/^\p{L}$/u.test(c) ? 'none' : /^[\p{sc=Cyrl}\p{sc=Grek}]$/u.test(c) ? 'own' : 'other';
    scriptCache[u] = v = SCRIPT_KINDS.indexOf(kind) + 1;
  }
  return SCRIPT_KINDS[v - 1]!;
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
    const v = lookalike(u);
    if (v > 0) {
      if ((v & WHOLE_SCRIPT) !== 0) whole = true;
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
  let any = false;
  for (let i = 0; i < src.length && !any; i++) any = (lookalike(src.charCodeAt(i)) & WHOLE_SCRIPT) !== 0;
  if (!any) return undefined;
  const parts: string[] = [];
  let from = 0;
  let before: WordKind = 'none';
  // The run of whole words since the last word of another kind, as [start, end) pairs.
  const run: number[] = [];
  const settle = (after: WordKind): void => {
    if (before !== 'own' && after !== 'own') {
      for (let k = 0; k < run.length; k += 2) {
        for (let q = run[k]!; q < run[k + 1]!; q++) {
          const u = src.charCodeAt(q);
          if (!isLookalike(u)) continue;
          parts.push(resolved.slice(from, q), String.fromCharCode(latinReading(u)));
          from = q + 1;
        }
      }
    }
    run.length = 0;
  };
  for (let i = 0; i < src.length;) {
    if (!inWord(table[src.charCodeAt(i)]!)) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < src.length && inWord(table[src.charCodeAt(end)]!)) end++;
    const kind = wordKind(src, i, end);
    if (kind === 'whole') {
      run.push(i, end);
    } else if (kind !== 'none') {
      settle(kind);
      before = kind;
    }
    i = end;
  }
  settle('none');
  if (parts.length === 0) return undefined;
  parts.push(resolved.slice(from));
  return parts.join('');
}
