/**
 * The spellings of a term that the automaton matches: `1` is typed for both i and l, so a text's `1`
 * (and `!`, `|` inside a word) stays a character of its own, and each term is compiled once for every way
 * of writing its i and l as `1` (`hill`: hill, h1ll, hi1l, hil1, hi11, ...). The scanner then reads one
 * class per character as before, at no cost per byte; the automaton grows instead, and only for terms
 * with an i, l or 1. A `1` in a term stands for i and l too (`1337` matches `leet`).
 */

import { keepsRepeats } from './fold.js';

const I = 'i'.charCodeAt(0);
const L = 'l'.charCodeAt(0);
const ONE = '1'.charCodeAt(0);

/**
 * Spellings compiled per term at most: 2 ** 8, so that up to 8 of a term's i and l can each be written
 * as `1`; later ones match only as written (a `1` in a term counts as 2 of the 8, having 3 readings).
 */
const MAX_TERM_VARIANTS = 256;

function readings(c: number): readonly number[] {
  if (c === I) return [I, ONE];
  if (c === L) return [L, ONE];
  if (c === ONE) return [ONE, I, L];
  return [c];
}

/**
 * Every spelling of a term given as its collapsed codes and how many characters read as each (see
 * `normalizeTerm`), collapsed again and without duplicates; the term as written comes first. Repeats are
 * expanded before the substitutions and collapsed after them, so that `hi11` (read `hi1`) matches `hill`.
 */
export function termVariants(codes: readonly number[], runs: readonly number[]): number[][] {
  // Each character of the term, with its readings while the budget lasts.
  const chars: (readonly number[])[] = [];
  let count = 1;
  codes.forEach((c, k) => {
    for (let n = 0; n < Math.max(runs[k] ?? 1, 1); n++) {
      const options = readings(c);
      if (options.length > 1 && count * options.length <= MAX_TERM_VARIANTS) {
        chars.push(options);
        count *= options.length;
      } else {
        chars.push([c]);
      }
    }
  });
  if (count === 1) return [[...codes]];
  const seen = new Set<string>();
  const out: number[][] = [];
  const pick = new Int32Array(chars.length);
  for (let v = 0; v < count; v++) {
    // The v-th combination, in mixed radix; the first (all zeros) is the term as written.
    let x = v;
    for (let k = chars.length - 1; k >= 0; k--) {
      const n = chars[k]!.length;
      pick[k] = x % n;
      x = Math.floor(x / n);
    }
    const variant: number[] = [];
    for (let k = 0; k < chars.length; k++) {
      const c = chars[k]![pick[k]!]!;
      if (c !== variant[variant.length - 1] || keepsRepeats(c)) variant.push(c);
    }
    const key = variant.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(variant);
  }
  return out;
}
