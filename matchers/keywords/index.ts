/**
 * Keyword and phrase matching for `text` events (typed or on-screen text).
 *
 * Data flow: `KeywordIndex.build(terms)` normalises each term and compiles all of them into one
 * Aho-Corasick DFA whose tables (character classes, transitions, outputs) live in SharedArrayBuffers;
 * `toShared()` posts them to worker threads, where `fromShared()` wraps the same memory. Per text,
 * `match()` reads each UTF-16 code unit through the character-class table, which already holds the
 * evasion rules for every character whose folding is one character (`char-table.ts`, `normalize.ts`),
 * and runs the DFA over the classes (`scanner.ts`); a text with a character whose folding is longer
 * (`ß`, `ﬁ`, `ぶ`, astral letters) or a Cyrillic or Greek lookalike, whose reading depends on its word, is
 * folded first (`fold.ts`, `lookalikes.ts`); where a word wholly in lookalikes may be Latin (`кеу`) or Cyrillic
 * or Greek, the folded text is scanned in both readings (in the Latin one alone when no term has such letters).
 * Each hit is mapped back to offsets in the original text, so that an operator sees the excerpt as typed.
 */
export { KeywordIndex, type SharedKeywordIndex } from './keyword-index.js';
export type { KeywordMatch } from './keyword-match.js';
export { KeywordTermError } from './keyword-term-error.js';
export { normalizeText } from './normalize.js';
