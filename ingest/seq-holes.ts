/**
 * Which of a device's seqs at or below its highest accepted seq were never accepted: the gaps between
 * consecutive accepted seqs (seqs refused, or never sent), and images refused after they were accepted.
 *
 * A frame whose seq is at or below the highest accepted one is either a resend of an event already stored (acked
 * again, never processed twice: PROTOCOL.md §3) or a seq going backwards. Only this record tells them apart: acking
 * a seq that was never stored would tell the device that an event it has not delivered is safe, and it would drop
 * it. Devices send their seqs in order, so the record is usually empty or a range or two.
 *
 * It is kept while the server runs, for seqs from `floor` on (the seqs a restart finds stored are below it), and at
 * most `MAX_RANGES` ranges: the oldest go first, and the floor rises past them. Below the floor a resend is taken
 * for what it says it is.
 */
export const MAX_RANGES = 256;

export class SeqHoles {
  /** Inclusive ranges [lo, hi], sorted, disjoint, as pairs: lo0, hi0, lo1, hi1, ... */
  #ranges: number[] = [];
  #floor: number;

  /** `knownFrom`: the lowest seq whose fate this record will know. */
  constructor(knownFrom: number) {
    this.#floor = knownFrom;
  }

  /** `seq` was accepted, and `previous` was the highest accepted before it: the seqs between were not. */
  accepted(previous: number, seq: number): void {
    if (seq > previous + 1) this.#add(Math.max(previous + 1, this.#floor), seq - 1);
  }

  /** `seq`, accepted earlier, was refused after all (an image that could not be decoded, say). */
  refused(seq: number): void {
    this.#add(seq, seq);
  }

  /** Whether `seq` is known never to have been accepted. */
  has(seq: number): boolean {
    if (seq < this.#floor) return false;
    const r = this.#ranges;
    let lo = 0;
    let hi = r.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (seq < r[2 * mid]!) hi = mid - 1;
      else if (seq > r[2 * mid + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** Forgets what is known above `seq` (a failed commit took the device's accepted seq back to it). */
  truncateAbove(seq: number): void {
    const r = this.#ranges;
    while (r.length > 0 && r[r.length - 2]! > seq) r.length -= 2;
    if (r.length > 0 && r[r.length - 1]! > seq) r[r.length - 1] = seq;
  }

  get ranges(): number { return this.#ranges.length / 2 }

  #add(lo: number, hi: number): void {
    if (hi < lo || hi < this.#floor) return;
    const r = this.#ranges;
    // Usually appended at the end; an image refused late may land before later gaps.
    let i = r.length;
    while (i > 0 && r[i - 2]! > lo) i -= 2;
    r.splice(i, 0, lo, hi);
    // Merge with neighbours that touch or overlap.
    let j = Math.max(0, i - 2);
    while (j + 2 < r.length) {
      if (r[j + 2]! <= r[j + 1]! + 1) {
        r[j + 1] = Math.max(r[j + 1]!, r[j + 3]!);
        r.splice(j + 2, 2);
      } else if (j >= i) break;
      else j += 2;
    }
    while (r.length > 2 * MAX_RANGES) {
      this.#floor = r[1]! + 1;
      r.splice(0, 2);
    }
  }
}
