/**
 * Runs the automaton over a text (folded first only where `match` finds it must be). Two paths:
 *   - the fast loop reads a code unit, looks up its class, skips it if it repeats the last class, else
 *     takes one transition and tests one sign. It keeps where the last classes began (`ClassRing`),
 *     which is all a match needs to find its start. A negative transition means a match, or the end of
 *     a one-class word, where it checks for spaced single letters (`k e y`, `k. e. y`). Separators and
 *     symbols that turn out to be plain boundaries (`word, next`, `end.`) are settled next to it;
 *   - an episode takes over where a character reads two ways (see `normalize.ts`): it produces units
 *     a few characters at a time and runs a second automaton state in the alternative reading beside
 *     the main one, until both agree again; then the fast loop resumes.
 * Matches come back in the order found, by end; `mergeReadings` then adds those only the alternative
 * reading found.
 */
import { BOUNDARY, CAPITAL_I, DROP, JOINER, NEEDS_FOLD, isSpace, isSymbol } from './unit-codes.js';
import { isKeptMark } from './fold.js';
import { ClassRing } from './class-ring.js';
import { capitalIReading } from './capital-i.js';
import { mergeReadings, type KeywordMatch } from './keyword-match.js';
import { UnitBuffer, altClass, initialState, mainClass, produceUnits, type ProducerState } from './normalize.js';
import { spacedRunEnd } from './spaced-rows.js';
import { endLettersEnd, endsWordAt, letterAt, skipDropsBack, skipJoiners, skipSymbols, wordAhead } from './word-edges.js';

/** The automaton as the scanner needs it (see `automaton.ts` for the layout). */
export interface ScanTables {
  classCount: number;
  /** Pre-multiplied state after reading the virtual boundary that begins every text. */
  startState: number;
  charClasses: Int32Array;
  transitions: Int32Array;
  outputStart: Int32Array;
  /** Patterns reported in each state (`automaton.ts`). */
  outputs: Int32Array;
  /** The entry (term) each pattern spells. */
  patternEntry: Int32Array;
  /**
   * Classes in each pattern, boundaries included, and counting one at the start where the pattern has
   * none (it begins in a script written without spaces): a match began this many classes less one
   * before the class that completes it.
   */
  patternLength: Int32Array;
  /** `depthStart[d]`: how many states have depth below `d`; states are numbered by depth. */
  depthStart: Int32Array;
  /** Classes from here up are letters whose repeats do not collapse (`keepsRepeats`). */
  plainFrom: number;
  /** The classes of `i` and `1`, which a capital `I` reads as (`capitalIReading`). */
  iClass: number;
  oneClass: number;
}

/** Characters an episode produces at a time before it checks whether the readings agree again. */
const EPISODE_CHUNK = 16;
/** `plain` before the readings first differ: any depth will do. */
const NOT_DIVERGED = 1 << 30;
/** Units kept between calls (8 bytes each); a longer episode gets a buffer of its own. */
const RETAINED_UNITS = 1 << 16;

/** Scans texts with one index's tables. Holds scratch space, so one per thread (not re-entrant). */
export class Scanner {
  private readonly t: ScanTables;
  private readonly ring: ClassRing;
  private units = new UnitBuffer();
  private readonly producer: ProducerState;
  // The fast loop's state, handed to and back from an episode.
  private s = 0;
  private last = BOUNDARY;
  private r = 0;
  private main: KeywordMatch[] = [];
  private alt: KeywordMatch[] = [];

  constructor(t: ScanTables) {
    this.t = t;
    this.producer = initialState(t.plainFrom, [t.iClass, t.oneClass]);
    let longest = 0;
    for (const l of t.patternLength) longest = Math.max(longest, l);
    this.ring = new ClassRing(longest);
  }

  /**
   * Every match in `src`, ordered by end, then start, then entry, with offsets into `src`; or undefined
   * when `src` has a character that needs folding (`NEEDS_FOLD`): fold it and scan that instead.
   */
  scan(src: string): KeywordMatch[] | undefined {
    const T = this.t.transitions;
    const table = this.t.charClasses;
    const ring = this.ring.starts;
    const mask = this.ring.mask;
    const plainFrom = this.t.plainFrom;
    const n = src.length;
    this.main = [];
    this.alt = [];
    // The capital I's and rows read in the last text say nothing of this one.
    this.producer.iFrom = this.producer.iTo = 0;
    this.producer.rowFrom = this.producer.rowTo = 0;
    let s = this.t.startState;
    let last = BOUNDARY;
    let r = 0;
    let i = 0;
    while (i < n) {
      // The fast loop: no calls and nothing rare in it, so that the engine keeps it to a few instructions
      // per character with everything in registers.
      for (; i < n; i++) {
        const code = table[src.charCodeAt(i)]!;
        if (code === last && code < plainFrom) continue;
        if (code < 0) break;
        const next = T[s + code]!;
        if (next < 0) break;
        last = code;
        ring[r & mask] = i;
        r++;
        s = next;
      }
      if (i >= n) break;
      let code = table[src.charCodeAt(i)]!;
      if (code === CAPITAL_I) {
        // A letter whose class depends on the one before: then as the fast loop would take it.
        code = capitalIReading(src, table, i, this.producer);
        if (code === last && code < plainFrom) {
          i++;
          continue;
        }
        const next = T[s + code]!;
        if (next >= 0) {
          last = code;
          ring[r & mask] = i;
          r++;
          s = next;
          i++;
          continue;
        }
      }
      if (code >= 0) {
        // A flagged transition: a match ends here, or a one-class word does (maybe `k e y`).
        if (code !== BOUNDARY || !isSpace(src.charCodeAt(i)) || !this.spacedLetters(src, i, r)) {
          last = code;
          ring[r & mask] = i;
          r++;
          s = ~T[s + code]!;
          this.reportMain(s, r, code === BOUNDARY ? i : this.after(src, i));
          i++;
          continue;
        }
      } else if (code === NEEDS_FOLD) {
        return undefined;
      } else if (code === DROP) {
        i++;
        continue;
      } else {
        // A separator or symbol: a plain boundary unless it joins, begins or ends a word.
        const p = code === JOINER ? skipJoiners(src, table, i + 1) : skipSymbols(src, table, i + 1);
        const twoWays = code === JOINER
          ? last > BOUNDARY && (wordAhead(src, table, p) || this.spacedLetters(src, i, r))
          : letterAt(src, table, p) || (last > BOUNDARY && endLettersEnd(src, table, i, p) > i);
        if (!twoWays) {
          if (last !== BOUNDARY) {
            last = BOUNDARY;
            ring[r & mask] = i;
            r++;
            s = T[s + BOUNDARY]!;
            if (s < 0) {
              s = ~s;
              this.reportMain(s, r, i);
            }
          }
          i = p;
          continue;
        }
      }
      this.s = s;
      this.last = last;
      this.r = r;
      i = this.episode(src, i);
      if (i < 0) return undefined;
      s = this.s;
      last = this.last;
      r = this.r;
    }
    if (last !== BOUNDARY) {
      ring[r & mask] = n;
      r++;
      s = T[s + BOUNDARY]!;
      if (s < 0) this.reportMain(~s, r, n);
    }
    if (this.units.cls.length > RETAINED_UNITS) this.units = new UnitBuffer();
    return mergeReadings(this.main, this.alt);
  }

  /**
   * At a space or separator `i` after the main reading's `r`-th class: true when that class is a
   * one-character word and `i` begins the first gap of a run of 3 or more single letters (`k e y`,
   * `k. e. y`: `spacedRunEnd`), which an episode reads.
   */
  private spacedLetters(src: string, i: number, r: number): boolean {
    const table = this.t.charClasses;
    return this.ring.at(r - 1) === skipDropsBack(src, table, i - 1) && this.boundaryBefore(src, r) && spacedRunEnd(src, table, i) > i;
  }

  /** Matches ending with the main reading's `r`-th class, a boundary at `end`. */
  private reportMain(state: number, r: number, end: number): void {
    const { outputStart, outputs, patternEntry, patternLength, classCount } = this.t;
    const id = state / classCount;
    if (end < 0) return;
    for (let o = outputStart[id]!; o < outputStart[id + 1]!; o++) {
      const pattern = outputs[o]!;
      const start = this.ring.at(r - patternLength[pattern]! + 1);
      this.main.push({ entry: patternEntry[pattern]!, distance: 0, threshold: 0, start, end });
    }
  }

  /**
   * Just past the letter at `i` and any dropped marks after it: where a match ends that ends with a letter
   * rather than a boundary (a term that ends in a script written without spaces, see `keyword-index.ts`);
   * or -1, no match, where a mark that is a letter of its own follows (the `ี` of `ผี` after a term `ผ`).
   */
  private after(src: string, i: number): number {
    const table = this.t.charClasses;
    let end = i + 1;
    while (end < src.length && table[src.charCodeAt(end)] === DROP) end++;
    return end < src.length && isKeptMark(src.charCodeAt(end)) ? -1 : end;
  }

  /**
   * Matches of the alternative reading ending at unit `j` of the episode that began with the ring at `r0`,
   * and at `end` in the text.
   */
  private reportAlt(state: number, j: number, r0: number, prev0: number, end: number): void {
    const { outputStart, outputs, patternEntry, patternLength, classCount } = this.t;
    const id = state / classCount;
    if (end < 0) return;
    for (let o = outputStart[id]!; o < outputStart[id + 1]!; o++) {
      const pattern = outputs[o]!;
      const start = this.altStart(j, patternLength[pattern]! - 2, r0, prev0);
      this.alt.push({ entry: patternEntry[pattern]!, distance: 0, threshold: 0, start, end });
    }
  }

  /**
   * Start of the `classes` classes before unit `j` in the alternative reading: back through the
   * episode's units, then through the ring, where both readings still agreed (its last class `prev0`).
   */
  private altStart(j: number, classes: number, r0: number, prev0: number): number {
    const { cls, pos } = this.units;
    const plainFrom = this.t.plainFrom;
    if (classes === 0) return pos[j]!; // a one-letter pattern with no boundary after it
    let runs = 0;
    let current = -2;
    let first = -1;
    for (let u = j - 1; u >= 0; u--) {
      const c = altClass(cls[u]!);
      if (c !== current || c >= plainFrom) {
        if (++runs > classes) return first;
        current = c;
      }
      first = pos[u]!;
    }
    let k = r0 - 1;
    if (current === prev0 && current < plainFrom) first = this.ring.before(k--, r0);
    for (; ++runs <= classes; k--) first = this.ring.before(k, r0);
    return first;
  }

  /**
   * Whether the main reading's class before its `r`-th was a boundary (or there was none), judged from
   * the character that began it: the fast loop does not keep the class itself.
   */
  private boundaryBefore(src: string, r: number): boolean {
    if (r < 2) return true;
    const table = this.t.charClasses;
    const at = this.ring.at(r - 2);
    const code = table[src.charCodeAt(at)]!;
    if (code === BOUNDARY || code === JOINER) return true;
    if (!isSymbol(code)) return false;
    // A symbol began a letter if a letter follows its run or it ends a word (`pand@`), else a boundary.
    return !letterAt(src, table, skipSymbols(src, table, at)) && !endsWordAt(src, table, at);
  }

  /**
   * Reads both ways from index `from` until the readings agree again; returns where to go on, or -1 when
   * a character that needs folding came up.
   */
  private episode(src: string, from: number): number {
    const T = this.t.transitions;
    const table = this.t.charClasses;
    const ring = this.ring.starts;
    const mask = this.ring.mask;
    const n = src.length;
    const st = this.producer;
    let s = this.s;
    let prev = this.last;
    let r = this.r;
    let a = s;
    let aPrev = prev;
    const r0 = r;
    const prev0 = prev;
    this.ring.beginEpisode();
    st.at = from;
    st.last = prev;
    st.wordBegin = prev > BOUNDARY && this.boundaryBefore(src, r) ? ring[(r - 1) & mask]! : -2;
    st.spacedUntil = -1;
    st.unfolded = false;
    const { depthStart, classCount, plainFrom } = this.t;
    // Classes the main reading took since the last two-way unit, not counting the first unit after it
    // (the readings may collapse that one differently). While the main state is no deeper than this,
    // both readings also agree on where its classes began, which later alternative matches rely on.
    let plain = NOT_DIVERGED;
    let m = 0;
    let j = 0;
    let resume = -1;
    for (;;) {
      m = produceUnits(src, table, this.units, m, Math.min(n, st.at + EPISODE_CHUNK), st);
      if (st.unfolded) return -1;
      if (st.at >= n && st.last !== BOUNDARY) {
        this.units.cls[m] = BOUNDARY;
        this.units.pos[m++] = n;
        st.last = BOUNDARY;
      }
      const { cls, pos } = this.units;
      for (; j < m; j++) {
        const unit = cls[j]!;
        let counts = unit >= 0;
        if (!counts) plain = -1;
        else if (plain < 0) {
          plain = 0;
          counts = false;
        }
        const mc = mainClass(unit);
        if (mc >= 0 && (mc !== prev || mc >= plainFrom)) {
          if (counts) plain++;
          prev = mc;
          if (r - r0 === this.ring.spill) this.ring.saveBefore(r0);
          ring[r & mask] = pos[j]!;
          r++;
          s = T[s + mc]!;
          if (s < 0) {
            s = ~s;
            this.reportMain(s, r, mc === BOUNDARY ? pos[j]! : this.after(src, pos[j]!));
          }
        }
        const ac = altClass(unit);
        if (ac !== aPrev || ac >= plainFrom) {
          aPrev = ac;
          a = T[a + ac]!;
          if (a < 0) {
            a = ~a;
            this.reportAlt(a, j, r0, prev0, ac === BOUNDARY ? pos[j]! : this.after(src, pos[j]!));
          }
        }
        // Agreed again (same state, same last class, and the state's classes began at the same places):
        // the fast loop can take over at the next unit. The units of this chunk after it are dropped and
        // read again there; it reads them the same way, as nothing before differs.
        if (a === s && aPrev === prev && s / classCount < depthStart[Math.min(plain + 1, depthStart.length - 1)]!
          && j + 1 < m && pos[j + 1]! >= st.spacedUntil) {
          resume = pos[j + 1]!;
          break;
        }
      }
      if (resume >= 0 || st.at >= n) break;
    }
    this.s = s;
    this.last = prev;
    this.r = r;
    return resume >= 0 ? resume : st.at;
  }
}
