import { VigilError } from '../../core/errors.js';
import { compileAutomaton, sharedInt32Array } from './automaton.js';
import { LETTER_FOR, SYMBOL_FOR, fillClassTable } from './char-table.js';
import { BOUNDARY, OTHER_WORD } from './unit-codes.js';
import { OWN_LETTERS, OWN_LETTER_BASE } from './lookalikes.js';
import { UNSPACED, foldText, keepsRepeats, originalIndex } from './fold.js';
import { KeywordTermError } from './keyword-term-error.js';
import { BASE_I_CODES, normalizeTerm } from './normalize.js';
import { termVariants } from './term-variants.js';
import { mergeReadings, type KeywordMatch } from './keyword-match.js';
import { Scanner, type ScanTables } from './scanner.js';

/**
 * A `KeywordIndex` as worker threads receive it: shared memory and numbers only, structured-clonable,
 * so every thread reads one copy of the compiled automaton. All buffers hold Int32 values.
 */
export interface SharedKeywordIndex {
  kind: 'keywords';
  /** Layout of the buffers; a wrapper refuses a layout it does not know. */
  layout: number;
  /** Terms the index was built from. */
  size: number;
  /** Patterns compiled: each term's spellings (`term-variants.ts`). */
  patternCount: number;
  classCount: number;
  stateCount: number;
  startState: number;
  /** Character class of every UTF-16 code unit (65,536 cells). */
  charClasses: SharedArrayBuffer;
  transitions: SharedArrayBuffer;
  outputStart: SharedArrayBuffer;
  outputs: SharedArrayBuffer;
  /** Per pattern: the term it spells. */
  patternEntry: SharedArrayBuffer;
  patternLength: SharedArrayBuffer;
  /** Where each state depth begins (states are numbered breadth-first). */
  depthStart: SharedArrayBuffer;
  /**
   * Per entry: LETTER_FLAG where the term has a letter, so that a match needs one too (`LETTER`), and the letters a
   * short term doubles (`doubledLetterFlags`); 0 when neither.
   */
  needsLetter: SharedArrayBuffer;
  /** Classes from here up are letters whose repeats do not collapse (`keepsRepeats`). */
  plainFrom: number;
  /** The classes of `i` and `1`, which a capital `I` reads as. */
  iClass: number;
  oneClass: number;
}

const LAYOUT = 4;
/**
 * A letter. A match of a term that has one must have one too: digits read as letters (`5` s, `0` o) only in
 * words that have a letter (`b0$$`, `5ecret`), and a number (`5.05`, `room 505`, `Boeing 707`) is read as
 * a number, not as `sos` or `tot`. Judged on the whole match: a phrase with a letter in one word may still
 * read a number in another as letters, and a spelling wholly in digits (`70457` for `toast`) no longer
 * matches. A term without letters (`1337`) matches numbers as before.
 */
const LETTER = /\p{L}/u;
/**
 * True when `s` has a letter once compatibility forms are folded (`ⓑ` is b; the half-width voicing mark `ﾞ`,
 * a modifier letter, is the mark U+3099, no letter).
 */
const hasLetter = (s: string): boolean => /[a-zA-Z]/.test(s) || LETTER.test(s.normalize('NFKD'));

/**
 * Doubled letters. Repeats collapse in the text and in the term alike (`kiiill` reads `kil`), so a term that writes
 * a letter twice also matches the word that writes it once: `ass` fired on every `as`, `toll` on `tool` (hand-run
 * probe over 1.4 MB of English, eleventh session). For a short term (`DOUBLES_UP_TO` letters), whose single-letter
 * reading is likely another word, a match therefore needs, for each letter the term doubles, two of it in a row
 * in the matched text, counting a character that may stand for it (`$$`, `55` for ss; `1`, `!`, `|` or a capital
 * I for i or l). A longer term still matches with a doubled letter written once (`forbidenword`): that is an
 * evasion, and rarely a word. Judged only for terms of plain ASCII letters, on matches of plain ASCII: an accent, a
 * lookalike or a mark in the match may carry an evasion this does not read, and such a match is kept.
 */
const LETTER_FLAG = 1;
const DOUBLES_UP_TO = 4;
function doubledLetterFlags(term: string): number {
  const t = term.toLowerCase();
  if (!/^[a-z ]+$/.test(t) || t.replace(/ /g, '').length > DOUBLES_UP_TO) return 0;
  let flags = 0;
  for (let i = 1; i < t.length; i++) if (t[i] !== ' ' && t[i] === t[i - 1]) flags |= 2 << (t.charCodeAt(i) - 0x61);
  return flags;
}
/**
 * What a character of a plain ASCII match reads as: the digits and symbols the normaliser reads as letters, with
 * WILD (`1`, and a capital I, which may read as it) for i or l; other letters and digits as themselves.
 */
const WILD = '1';
const STANDS_FOR: Readonly<Record<string, string>> = { ...LETTER_FOR, ...SYMBOL_FOR, 1: WILD, I: WILD };
function keepsDoubles(span: string, flags: number): boolean {
  if (!/^[\x20-\x7e]*$/.test(span)) return true;
  const read: string[] = [];
  for (const ch of span) {
    const r = STANDS_FOR[ch] ?? (/[a-zA-Z0-9]/.test(ch) ? ch.toLowerCase() : undefined);
    if (r !== undefined) read.push(r);
  }
  for (let bit = 0; bit < 26; bit++) {
    if ((flags & (2 << bit)) === 0) continue;
    const letter = String.fromCharCode(0x61 + bit);
    const fits = (r: string | undefined): boolean => r === letter || (r === WILD && (letter === 'i' || letter === 'l'));
    let twice = false;
    for (let k = 1; k < read.length && !twice; k++) twice = fits(read[k]) && fits(read[k - 1]);
    if (!twice) return false;
  }
  return true;
}

/** Whether a match of an entry with these flags (its `needsLetter` cell) stands, given what it covers in `text`. */
export function matchKept(text: string, x: { start: number; end: number }, flags: number): boolean {
  if (flags === 0) return true;
  const span = text.slice(x.start, x.end);
  return ((flags & LETTER_FLAG) === 0 || hasLetter(span)) && (flags <= LETTER_FLAG || keepsDoubles(span, flags));
}
/**
 * A term's edge in a script written without spaces between words (`UNSPACED`) needs no word boundary on
 * that side, or `熊猫` would never match in `我喜欢熊猫`; elsewhere whole words stay the rule.
 */
const unspaced = (c: number | undefined): boolean => c !== undefined && c !== BOUNDARY && UNSPACED.test(String.fromCharCode(c));
const CODE_UNITS = 0x10000;
/** Classes 0 (boundary) and 1 (other word character) exist in every index; term characters follow. */
const FIRST_TERM_CLASS = OTHER_WORD + 1;

function int32s(buffer: SharedArrayBuffer, length: number, what: string): Int32Array {
  if (buffer.byteLength !== Math.max(length, 1) * Int32Array.BYTES_PER_ELEMENT) {
    throw new VigilError('LIST_INVALID', `shared keyword index: ${what} has ${buffer.byteLength} bytes, expected ${length} Int32 values`);
  }
  return new Int32Array(buffer);
}

function depthStarts(buffer: SharedArrayBuffer, stateCount: number): Int32Array {
  const a = new Int32Array(buffer);
  if (a.length < 2 || a[0] !== 0 || a[a.length - 1] !== stateCount) {
    throw new VigilError('LIST_INVALID', 'shared keyword index: depthStart does not match stateCount');
  }
  return a;
}

/**
 * The compiled `keywords` list: finds every term in a text, whole words only, after normalisation
 * against evasion (see `normalizeText`); a term's edge in a script written without spaces (Chinese,
 * Japanese, Thai, ...) needs no word boundary, so such a term matches inside a sentence. Exact matching, so every match has distance 0 and threshold 0.
 * Matches come ordered by end, then start, then entry; duplicate terms are each reported.
 */
export class KeywordIndex {
  readonly size: number;
  private tables: ScanTables | undefined;
  private scanner: Scanner | undefined;
  private readonly needsLetter: Int32Array;
  /** True when a term has a Cyrillic or Greek letter that passes for a Latin one (`OWN_LETTERS`). */
  private readonly ownScript: boolean;

  private constructor(size: number, tables: ScanTables, needsLetter: Int32Array) {
    this.size = size;
    this.tables = tables;
    this.scanner = new Scanner(tables);
    this.needsLetter = needsLetter;
    this.ownScript = OWN_LETTERS.some((_, k) => tables.charClasses[OWN_LETTER_BASE + k] !== OTHER_WORD);
  }

  /**
   * Builds an index in which entry `i` is `terms[i]`, a word or a phrase. Throws a `KeywordTermError`
   * (code `LIST_INVALID`) naming the position of the first term that normalises to nothing, and a
   * `VigilError` (`LIST_INVALID`) when the automaton would be too large. The first build (or
   * `normalizeText`) in a thread also builds the base character table, about a tenth of a second.
   */
  static build(terms: readonly string[]): KeywordIndex {
    const spellings: number[][] = [];
    const entries: number[] = [];
    const opens: boolean[] = [];
    const closes: boolean[] = [];
    terms.forEach((term, i) => {
      if (typeof term !== 'string') throw new KeywordTermError(i, 'is not a string');
      const { codes, runs } = normalizeTerm(term);
      if (codes.length === 0) throw new KeywordTermError(i, 'normalises to nothing: it has no letters or digits');
      const open = unspaced(codes[0]);
      const close = unspaced(codes[codes.length - 1]);
      for (const variant of termVariants(codes, runs)) {
        spellings.push(variant);
        entries.push(i);
        opens.push(open);
        closes.push(close);
      }
    });
    // Classes of letters whose repeats collapse first, so that the scanner tells the others by one compare.
    const used = [...new Set(spellings.flat())].filter((c) => c !== BOUNDARY);
    const ordered = [...used.filter((c) => !keepsRepeats(c)), ...used.filter(keepsRepeats)];
    const classOf = new Map(ordered.map((c, k) => [c, FIRST_TERM_CLASS + k]));
    const plainFrom = FIRST_TERM_CLASS + used.filter((c) => !keepsRepeats(c)).length;
    const lengths: number[] = [];
    const patterns = spellings.map((spelling, k) => {
      const p = spelling.map((c) => classOf.get(c) ?? BOUNDARY);
      if (!opens[k]) p.unshift(BOUNDARY);
      if (!closes[k]) p.push(BOUNDARY);
      // The scanner counts back from a match's end as if a boundary began every pattern.
      lengths.push(p.length + (opens[k] ? 1 : 0));
      return p;
    });
    const automaton = compileAutomaton(patterns, FIRST_TERM_CLASS + classOf.size);
    const charClasses = sharedInt32Array(CODE_UNITS);
    fillClassTable(classOf, charClasses);
    const patternEntry = sharedInt32Array(patterns.length);
    patternEntry.set(entries);
    const patternLength = sharedInt32Array(patterns.length);
    patternLength.set(lengths);
    // Reading the virtual boundary before a text never completes a pattern, so this cell is not negated.
    const startState = automaton.transitions[BOUNDARY]!;
    const [iClass, oneClass] = BASE_I_CODES.map((c) => classOf.get(c) ?? OTHER_WORD) as [number, number];
    // Per entry: LETTER_FLAG if the term has a letter, and the letters it doubles (`doubledLetterFlags`).
    const needsLetter = sharedInt32Array(terms.length);
    needsLetter.set(terms.map((term) => (LETTER.test(term) ? LETTER_FLAG : 0) | doubledLetterFlags(term)));
    return new KeywordIndex(terms.length, {
      ...automaton, startState, charClasses, patternEntry, patternLength, plainFrom, iClass, oneClass,
    }, needsLetter);
  }

  /** Wraps an index built in another thread: the same memory, no copy and no rebuild. */
  static fromShared(shared: SharedKeywordIndex): KeywordIndex {
    if (shared.kind !== 'keywords' || shared.layout !== LAYOUT) {
      throw new VigilError('LIST_INVALID', `shared keyword index: unknown kind or layout ${String(shared.kind)}/${shared.layout}`);
    }
    const { size, patternCount, classCount, stateCount, startState, plainFrom, iClass, oneClass } = shared;
    const outputStart = int32s(shared.outputStart, stateCount + 1, 'outputStart');
    return new KeywordIndex(size, {
      classCount,
      startState,
      charClasses: int32s(shared.charClasses, CODE_UNITS, 'charClasses'),
      transitions: int32s(shared.transitions, stateCount * classCount, 'transitions'),
      outputStart,
      outputs: int32s(shared.outputs, outputStart[stateCount]!, 'outputs'),
      patternEntry: int32s(shared.patternEntry, patternCount, 'patternEntry'),
      patternLength: int32s(shared.patternLength, patternCount, 'patternLength'),
      depthStart: depthStarts(shared.depthStart, stateCount),
      plainFrom,
      iClass,
      oneClass,
    }, int32s(shared.needsLetter, size, 'needsLetter'));
  }

  /** The compiled index as shared memory, to post to worker threads. */
  toShared(): SharedKeywordIndex {
    const t = this.live();
    const sab = (a: Int32Array): SharedArrayBuffer => a.buffer as SharedArrayBuffer;
    return {
      kind: 'keywords',
      layout: LAYOUT,
      size: this.size,
      patternCount: t.patternLength.length,
      classCount: t.classCount,
      stateCount: t.outputStart.length - 1,
      startState: t.startState,
      charClasses: sab(t.charClasses),
      transitions: sab(t.transitions),
      outputStart: sab(t.outputStart),
      outputs: sab(t.outputs),
      patternEntry: sab(t.patternEntry),
      patternLength: sab(t.patternLength),
      depthStart: sab(t.depthStart),
      needsLetter: sab(this.needsLetter),
      plainFrom: t.plainFrom,
      iClass: t.iClass,
      oneClass: t.oneClass,
    };
  }

  /**
   * Every occurrence of every term in `text`, as whole words (but for edges in unspaced scripts); `start`
   * and `end` are offsets into `text` itself, so `text.slice(start, end)` is what was matched. An empty
   * array when nothing matches.
   */
  match(text: string): KeywordMatch[] {
    const scanner = this.scanner;
    if (scanner === undefined || this.tables === undefined) throw new Error('KeywordIndex used after dispose()');
    const found = scanner.scan(text);
    if (found !== undefined) return this.withLetters(text, found);
    // Rare: a character whose folding is longer than one unit (`ß`, `ﬁ`, an astral letter) or depends on its word
    // (a Cyrillic or Greek lookalike). A word wholly in lookalikes may be read two ways: an index with a term in
    // those letters scans both readings; one without scans the Latin one alone, as the other has nothing to find
    // in such a word (its letters are in no term), and scanning the text twice halved the speed of Russian text.
    const folded = foldText(text, this.tables.charClasses);
    const latin = folded.latinText;
    let inFolded = scanner.scan(latin !== undefined && !this.ownScript ? latin : folded.text) ?? [];
    if (latin !== undefined && this.ownScript) inFolded = mergeReadings(inFolded, scanner.scan(latin) ?? []);
    for (const x of inFolded) {
      x.start = originalIndex(folded, x.start);
      x.end = originalIndex(folded, x.end);
    }
    return this.withLetters(text, inFolded);
  }

  /**
   * `found` without the matches of terms with a letter that have none in `text` (`LETTER`), and of terms with a
   * doubled letter that the match has once (`doubledLetterFlags`).
   */
  private withLetters(text: string, found: KeywordMatch[]): KeywordMatch[] {
    const needs = this.needsLetter;
    const ok = (x: KeywordMatch): boolean => matchKept(text, x, needs[x.entry]!);
    // In place, one pass: `found` is the scan's own new array.
    let kept = 0;
    for (const x of found) if (ok(x)) found[kept++] = x;
    found.length = kept;
    return found;
  }

  /** Lets go of the tables (the shared memory stays for other wrappers) and of the scratch space. */
  dispose(): void {
    this.tables = undefined;
    this.scanner = undefined;
  }

  private live(): ScanTables {
    if (this.tables === undefined) throw new Error('KeywordIndex used after dispose()');
    return this.tables;
  }
}
