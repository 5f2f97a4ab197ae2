/**
 * The normaliser: reads a text through a character table (`char-table.ts`) into a stream of units, one
 * per run of a character class, each with the index of the character that began it. Terms and texts go
 * through the same code. The scanner's fast loop applies the same rules inline where they are simple.
 *
 * The rules, and what they cost:
 *   - case, compatibility forms (NFKC-like: fullwidth, ligatures, mathematical letters) and diacritics
 *     fold away (`fold.ts`); Cyrillic and Greek lookalikes read as Latin letters in a word that also has a
 *     Latin letter (`Кettle`); a word every letter of which passes for a Latin one in the case typed
 *     (`кеу`, `РОРРУ`: UTS #39's whole-script confusables) is read both as Latin and in its own script,
 *     unless its neighbour is a Cyrillic or Greek word that no Latin word could pass for (`Нет, ВОТ`); any
 *     other word stays in its script (`вот`, `нет`: a small в, н, т looks like a small capital, not b, h,
 *     t), so that a Cyrillic or Greek term matches in any case. The price, measured by
 *     `bench/lookalike-words.ts`: a Russian or Greek word with no such neighbour that spells an English
 *     word fires that word's term (`ВОТ ТОТ` alone fires `bot` and `tot`). This form shows the own-script
 *     reading (`lookalikes.ts`);
 *   - `0` reads o, `3` e, `4` a, `5` s, `7` t, but a match of a term with a letter must have a letter
 *     (`KeywordIndex`): `b0$$` and `5ecret` match, the numbers `5.05`, `room 505`, `707` do not; `1` (and `|`, `!` inside a word) is typed for both i and l,
 *     so it stays `1`, and each term also matches with any of its i and l written as `1` (up to 8 of them,
 *     `term-variants.ts`); `i` and `l` themselves stay apart, so `lit` does not fire on `it`; a capital
 *     `I` right after a small letter (or after such an `I`) reads as `1` too (`heIIo`, `kiII`), and so does
 *     a lone `I` in a row of spaced or separated single letters after a small one (`k i I I`, `k.i.I.I`,
 *     `k.i I I`), but only across gaps the main reading joins (`k.i.I I` is `ki1 i`), and not where it ends a
 *     word of 2 letters (`hI`, `kI`, `h.I`); elsewhere as `i` (`I`, `It`, `HI`, `II`, `KILL`, `Post-It`,
 *     `and I`, `i.e. I`: see `capital-i.ts`);
 *   - repeated letters collapse (`kiiill` is `kil`), so `good` reads as `god` (a match of a short term that doubles
 *     a letter then needs it doubled: `KeywordIndex`'s `matchKept`), and repeated boundaries too
 *     (after a term's 1-spellings are made: `hi11` reads `hi1`, a spelling of `hill`); but not in the
 *     scripts written without spaces (`keepsRepeats`): `猫猫` and `ここ` stay two letters, while Arabic,
 *     Hebrew, Devanagari and other spaced scripts collapse as Latin does (`مرحباااا` is `مرحبا`);
 *   - marks are dropped, but a mark of a script written without spaces (Thai, kana, ...) that sits on a
 *     letter of such a script is a letter of its own (`ผี`, `ぶ`, read as `ふ` and its mark whether typed
 *     composed, decomposed or half-width); the letter it sits on decides, not the mark's own script, so a
 *     Thai or kana mark on a Latin letter (`bad\u0e31word`) is dropped like an accent;
 *     a term that ends in a script written without spaces does not match where a mark follows its last
 *     letter, as the mark belongs to that letter;
 *   - whole words: a term matches only between boundaries (start or end of text, spaces, punctuation),
 *     so `ass` does not fire in `classic`; a plural or a suffix (`badwords`) is another word;
 *   - a phrase matches across any run of spaces and punctuation between its words.
 * Some characters read two ways, and the unit stream keeps both readings:
 *   - a separator (`. - _ * ~ + / \`, and Unicode dashes and dots) between letters joins them in the main
 *     reading (`k.e.y` is `key`) and is a boundary in the other (`badword.example` still has `badword`);
 *   - a single space or tab inside a row of 3 or more single letters likewise (`k e y`; `a b` stays two
 *     words), and so do gaps of up to 3 spaces and separators there (`k. e. y`, `k - e - y`); two spaces
 *     or more part words of spaced letters (`k e y  w o r d`). Two single letters joined by separators count
 *     as one piece of a row where single spaces part them from the rest (`k.i I I`, `p.a n.d a`), but not
 *     before a separator and a space, which ends an abbreviation (`i.e. I think`); more are a word that a row
 *     does not swallow (`k.e.y k e y` is `key key`): see `spaced-rows.ts`;
 *   - a symbol (`@` a, `$` s, `!` and `|` 1) followed by a letter is that letter in the main reading
 *     (`b@d`, `$ample`) and a boundary in the other (`@badword`, `name@badword`); so are `@` and `$`
 *     right after a letter at the end of a word (`pand@`, `bo$$`, `PAND@!`; `badword$` matches badword
 *     too); `!` and `|` at the end of a word, however many, and symbols apart from any word (`5 $`), are
 *     punctuation (`hi!!` is not `hill`, and so `ki!!` is not `kill`);
 *     not after a word of digits (`50$` is not `sos`) nor a lone `$` after a currency prefix (`A$`, `US$`).
 * Terms are read in the main reading only (`bad-word` is the term `badword`); texts in both.
 */
import { baseCharTable } from './char-table.js';
import { foldText, keepsRepeats } from './fold.js';
import { capitalIReading, type CapitalIState } from './capital-i.js';
import { spacedRunEnd } from './spaced-rows.js';
import { BOUNDARY, CAPITAL_I, DROP, JOINER, NEEDS_FOLD, isSpace, symbolLetter } from './unit-codes.js';
import { endLettersEnd, letterAt, skipDropsBack, skipJoiners, skipSymbols, wordAhead } from './word-edges.js';

/** Unit: a separator or space that joins letters in the main reading and is a boundary in the other. */
export const AMB_JOIN = -1;
// A unit at or below SYMBOL_BASE is a symbol before a letter: that letter in the main reading, else a boundary.

/** Class of a unit in the main reading, or -1 when that reading skips it. */
export function mainClass(unit: number): number {
  if (unit >= 0) return unit;
  return unit === AMB_JOIN ? -1 : symbolLetter(unit);
}

/** Class of a unit in the alternative reading. */
export function altClass(unit: number): number {
  return unit >= 0 ? unit : BOUNDARY;
}

/** Growable scratch space for a unit stream: `cls[j]` is the unit, `pos[j]` where it began. */
export class UnitBuffer {
  cls = new Int32Array(0);
  pos = new Int32Array(0);

  /** Makes room for `n` units, keeping those already written. */
  reserve(n: number): void {
    if (this.cls.length >= n) return;
    const size = Math.max(n, this.cls.length * 2, 64);
    const cls = new Int32Array(size);
    const pos = new Int32Array(size);
    cls.set(this.cls);
    pos.set(this.pos);
    this.cls = cls;
    this.pos = pos;
  }
}

/** Where a producer stopped, so that it can go on from there. */
export interface ProducerState extends CapitalIState {
  /** Next index of the source to read. */
  at: number;
  /** Last unit written (`BOUNDARY` before the first: a text reads as if a boundary preceded it). */
  last: number;
  /** Where the current word began, if it began right after a boundary (else anything else). */
  wordBegin: number;
  /** Spaces before this index join single letters. */
  spacedUntil: number;
  /** Set when a character that needs folding was met: the text must be folded and read again. */
  unfolded: boolean;
  /**
   * Codes from here up are letters whose repeats do not collapse (an index's `plainFrom`, `keepsRepeats`); 1 for
   * the base table, whose canonical codes are not ordered so: then no letter collapses here, and `mainReading`
   * collapses by `keepsRepeats`.
   */
  plainFrom: number;
}

/** The base table's codes for `i` and `1`. */
export const BASE_I_CODES: readonly [number, number] = [0x69, 0x31];

/** A producer's state before a text, with the codes its table gives (the base table's by default). */
export const initialState = (plainFrom = 1, [iCode, oneCode] = BASE_I_CODES): ProducerState => ({
  at: 0, last: BOUNDARY, wordBegin: -2, spacedUntil: -1, unfolded: false, plainFrom, iCode, oneCode, iFrom: 0, iTo: 0, iRead: iCode,
  rowFrom: 0, rowTo: 0,
});

/**
 * Appends to `buf`, from unit `m` on, the units of `src` from `st.at` until at least `to` (a run of
 * separators or symbols is read whole), updates `st` and returns the new unit count. `table` is the
 * base table or an index's class table: the decisions depend only on the kinds of codes, so both give
 * the same stream up to the class numbers. The caller adds the final boundary at `src.length`.
 */
export function produceUnits(src: string, table: Int32Array, buf: UnitBuffer, m: number, to: number, st: ProducerState): number {
  buf.reserve(m + Math.max(to - st.at, 0) + 1);
  let { cls, pos } = buf;
  let { last, wordBegin, spacedUntil } = st;
  const { plainFrom } = st;
  let i = st.at;
  for (; i < to; i++) {
    let code = table[src.charCodeAt(i)]!;
    if (code === CAPITAL_I) code = capitalIReading(src, table, i, st);
    if (code >= BOUNDARY) {
      // A space after a letter may begin a row of spaced letters (`spacedRunEnd` tells), or be in one.
      if (code === BOUNDARY && isSpace(src.charCodeAt(i)) && (i < spacedUntil || last > BOUNDARY)) {
        if (i >= spacedUntil) spacedUntil = spacedRunEnd(src, table, i);
        if (i < spacedUntil) {
          cls[m] = AMB_JOIN;
          pos[m++] = i;
          last = AMB_JOIN;
          continue;
        }
      }
      if (code !== last || code >= plainFrom) {
        if (last === BOUNDARY) wordBegin = i;
        cls[m] = code;
        pos[m++] = i;
        last = code;
      }
    } else if (code === JOINER && (i < spacedUntil
      || (last > BOUNDARY && wordBegin === skipDropsBack(src, table, i - 1) && (spacedUntil = spacedRunEnd(src, table, i)) > i))) {
      // A separator in a gap between spaced single letters (`k. e. y`): it joins, as the spaces there do.
      if (last !== AMB_JOIN) {
        cls[m] = AMB_JOIN;
        pos[m++] = i;
        last = AMB_JOIN;
      }
    } else if (code === JOINER) {
      const p = skipJoiners(src, table, i + 1);
      const unit = last > BOUNDARY && wordAhead(src, table, p) ? AMB_JOIN : BOUNDARY;
      if (unit !== last) {
        cls[m] = unit;
        pos[m++] = i;
        last = unit;
      }
      i = p - 1;
    } else if (code === NEEDS_FOLD) {
      st.unfolded = true;
    } else if (code !== DROP) {
      // A run of symbols: letters (in the main reading) if a letter follows, else punctuation.
      const p = skipSymbols(src, table, i + 1);
      if (letterAt(src, table, p)) {
        buf.reserve(m + (p - i) + Math.max(to - p, 0) + 1);
        ({ cls, pos } = buf);
        if (last === BOUNDARY) wordBegin = i;
        for (let q = i; q < p; q++) {
          const unit = table[src.charCodeAt(q)]!;
          if (unit !== last) {
            cls[m] = unit;
            pos[m++] = q;
            last = unit;
          }
        }
      } else {
        // At the end of a word, `@` and `$` are letters too (`pand@`, `bo$$`), then the rest punctuation.
        const q = last > BOUNDARY ? endLettersEnd(src, table, i, p) : i;
        buf.reserve(m + (q - i) + Math.max(to - q, 0) + 2);
        ({ cls, pos } = buf);
        for (let k = i; k < q; k++) {
          const unit = table[src.charCodeAt(k)]!;
          if (unit !== last) {
            cls[m] = unit;
            pos[m++] = k;
            last = unit;
          }
        }
        if (q < p && last !== BOUNDARY) {
          cls[m] = BOUNDARY;
          pos[m++] = q;
          last = BOUNDARY;
        }
      }
      i = p - 1;
    }
  }
  st.at = i;
  st.last = last;
  st.wordBegin = wordBegin;
  st.spacedUntil = spacedUntil;
  return m;
}

/**
 * The main reading of `text` as canonical character codes, collapsed, with single boundaries (0) between
 * words; `runs[k]` is how many characters of `text` read as `codes[k]` (`hill` gives i once and l twice).
 */
function mainReading(text: string): { codes: number[]; runs: number[] } {
  const table = baseCharTable();
  const src = foldText(text, table).text;
  const buf = new UnitBuffer();
  const m = produceUnits(src, table, buf, 0, src.length, initialState());
  const codes: number[] = [];
  const runs: number[] = [];
  let prev = BOUNDARY;
  for (let j = 0; j < m; j++) {
    const unit = buf.cls[j]!;
    const c = mainClass(unit);
    if (c < 0) continue;
    // A unit stands for the characters with its code up to the next unit (those in between are dropped).
    let run = 0;
    const end = j + 1 < m ? buf.pos[j + 1]! : src.length;
    for (let q = buf.pos[j]!; q < end; q++) if (table[src.charCodeAt(q)] === unit) run++;
    if (c === prev && !keepsRepeats(c)) {
      if (c !== BOUNDARY) runs[runs.length - 1]! += run;
      continue;
    }
    codes.push(c);
    runs.push(run);
    prev = c;
  }
  if (codes[codes.length - 1] === BOUNDARY) {
    codes.pop();
    runs.pop();
  }
  return { codes, runs };
}

/** Characters rendered per `String.fromCharCode` call, well under the engine's argument limit. */
const RENDER_CHUNK = 8192;

/**
 * The normalised form of `text` in the main reading, as an operator would read it: lower case, folded,
 * substitutions applied (`1` stands for 1, ! and |), repeats collapsed, words separated by one
 * space. Empty when the text has nothing to match. A term normalises to what `KeywordIndex` matches, and
 * also matches that form with any of its i and l (up to 8 of them) written as `1`.
 */
export function normalizeText(text: string): string {
  const { codes } = mainReading(text);
  const parts: string[] = [];
  for (let i = 0; i < codes.length; i += RENDER_CHUNK) {
    const chunk = codes.slice(i, i + RENDER_CHUNK).map((c) => (c === BOUNDARY ? 0x20 : c));
    parts.push(String.fromCharCode(...chunk));
  }
  return parts.join('');
}

/**
 * The canonical codes of a term (words separated by 0) and how many characters of the term read as each,
 * or empty arrays when nothing is left.
 */
export function normalizeTerm(term: string): { codes: number[]; runs: number[] } {
  return mainReading(term);
}
