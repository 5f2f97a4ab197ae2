/**
 * Compiles patterns (sequences of character classes, class 0 the boundary) into an Aho-Corasick
 * automaton with a full transition table, so that matching is one table read per unit and never walks
 * failure links.
 *
 * Layout, all Int32 in SharedArrayBuffers:
 *   - `transitions[s + c]` for a state `s` (stored pre-multiplied by the class count) and class `c` is
 *     the next state, pre-multiplied too, and bitwise-negated (`~next`) when the scan must look closer:
 *     the next state reports entries, or `c` is the boundary that ends a one-class word (there the scan
 *     checks for single letters separated by spaces, `k e y`). The scan loop tests the sign only;
 *   - `outputStart[id] .. outputStart[id + 1]` index the entries reported in state `id`
 *     (`id = s / classCount`), in `outputs`: the state's own patterns, then those of its suffixes (by pattern
 *     number; the index maps patterns to the terms they spell).
 * States are numbered breadth-first, so the root is 0 and shallow states come first; `depthStart` tells
 * where each depth begins. Every class has a state after the boundary (boundary, class), so that any
 * one-class word is seen as one.
 */
import { VigilError } from '../../core/errors.js';
import { BOUNDARY } from './unit-codes.js';

export interface Automaton {
  classCount: number;
  stateCount: number;
  transitions: Int32Array;
  outputStart: Int32Array;
  outputs: Int32Array;
  /** `depthStart[d]`: how many states have depth below `d` (the number of classes since the root). */
  depthStart: Int32Array;
}

/** The table is indexed with Int32 arithmetic and allocated whole: refuse lists that would not fit. */
export const MAX_TABLE_CELLS = 2 ** 28;

/** An Int32Array over a new SharedArrayBuffer (at least one element: empty buffers are awkward to post). */
export function sharedInt32Array(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(length, 1) * Int32Array.BYTES_PER_ELEMENT));
}

/**
 * Builds the automaton for `patterns` over classes `0 .. classCount - 1`; pattern `i` is reported as `i`.
 * Throws a `VigilError` (code `LIST_INVALID`) when the table would exceed `MAX_TABLE_CELLS`.
 */
export function compileAutomaton(patterns: readonly (readonly number[])[], classCount: number): Automaton {
  const k = classCount;
  let maxStates = 1 + 2 * k;
  for (const p of patterns) maxStates += p.length;
  if (maxStates * k > MAX_TABLE_CELLS) {
    throw new VigilError('LIST_INVALID',
      `keyword list too large: up to ${maxStates} states x ${k} character classes exceeds ${MAX_TABLE_CELLS} table cells`);
  }

  // The trie, in a scratch table: -1 means no edge yet.
  const go = new Int32Array(maxStates * k).fill(-1);
  const ownHead = new Int32Array(maxStates).fill(-1);
  const ownNext = new Int32Array(patterns.length).fill(-1);
  const label = new Int32Array(maxStates);
  const parent = new Int32Array(maxStates);
  let states = 1;
  const path = (p: readonly number[]): number => {
    let s = 0;
    for (const c of p) {
      const at = s * k + c;
      if (go[at] === -1) {
        label[states] = c;
        parent[states] = s;
        go[at] = states++;
      }
      s = go[at]!;
    }
    return s;
  };
  for (let c = 1; c < k; c++) path([BOUNDARY, c]);
  const ownTail = new Int32Array(maxStates).fill(-1);
  patterns.forEach((p, entry) => {
    const s = path(p);
    // Keep entries in input order within a state (duplicate terms): append at the tail.
    if (ownHead[s] === -1) ownHead[s] = entry;
    else ownNext[ownTail[s]!] = entry;
    ownTail[s] = entry;
  });

  // Breadth-first: failure links, completed transitions, and how many entries each state reports.
  const fail = new Int32Array(states);
  const order = new Int32Array(states);
  const count = new Int32Array(states);
  const depth = new Int32Array(states);
  let head = 0;
  let tail = 0;
  order[tail++] = 0;
  while (head < tail) {
    const u = order[head++]!;
    const f = fail[u]!;
    for (let e = ownHead[u]!; e !== -1; e = ownNext[e]!) count[u]!++;
    if (u !== 0) count[u]! += count[f]!;
    for (let c = 0; c < k; c++) {
      const at = u * k + c;
      const v = go[at]!;
      if (v === -1) {
        go[at] = u === 0 ? 0 : go[f * k + c]!;
      } else {
        fail[v] = u === 0 ? 0 : go[f * k + c]!;
        depth[v] = depth[u]! + 1;
        order[tail++] = v;
      }
    }
  }

  // Number the states breadth-first: the shallow states, where a scan spends nearly all its time, then
  // sit together at the start of the table and stay in cache.
  const rank = new Int32Array(states);
  for (let i = 0; i < states; i++) rank[order[i]!] = i;
  const outputStart = sharedInt32Array(states + 1);
  for (let i = 0; i < states; i++) outputStart[i + 1] = outputStart[i]! + count[order[i]!]!;
  const outputs = sharedInt32Array(outputStart[states]!);
  for (let i = 0; i < states; i++) {
    const u = order[i]!;
    let w = outputStart[i]!;
    for (let e = ownHead[u]!; e !== -1; e = ownNext[e]!) outputs[w++] = e;
    if (u === 0) continue;
    const f = rank[fail[u]!]!;
    for (let r = outputStart[f]!; r < outputStart[f + 1]!; r++) outputs[w++] = outputs[r]!;
  }

  // States are in order of depth: those of depth below d are the first depthStart[d].
  const deepest = depth[order[states - 1]!]!;
  const depthStart = sharedInt32Array(deepest + 2);
  for (let i = 0; i < states; i++) depthStart[depth[order[i]!]! + 1] = i + 1;

  const transitions = sharedInt32Array(states * k);
  for (let i = 0; i < states; i++) {
    const u = order[i]!;
    for (let c = 0; c < k; c++) {
      const v = go[u * k + c]!;
      const next = rank[v]! * k;
      // The boundary after a word of one class: `u` is (boundary, class) at the end of its path.
      const endsWord = c === BOUNDARY && u !== 0 && parent[u] !== 0 && label[u] !== BOUNDARY && label[parent[u]!] === BOUNDARY;
      transitions[i * k + c] = count[v]! > 0 || endsWord ? ~next : next;
    }
  }
  return { classCount: k, stateCount: states, transitions, outputStart, outputs, depthStart };
}
