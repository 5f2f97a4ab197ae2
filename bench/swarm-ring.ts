/**
 * The events one simulated device has sent and not yet had settled (acked or rejected), by seq: the
 * intended send time and a tag byte for each. A cumulative ack settles a range at once. It starts
 * small and doubles when a stalled server leaves more outstanding, so 20,000 devices cost little.
 */

/** Tag bits beside the event type index (0-15). */
export const TAG_MEASURED = 0x40;
export const TAG_REJECTED = 0x80;
export const TAG_TYPE_MASK = 0x0f;

const INITIAL_CAPACITY = 16;

export class OutstandingRing {
  #times = new Float64Array(INITIAL_CAPACITY);
  #tags = new Uint8Array(INITIAL_CAPACITY);
  #mask = INITIAL_CAPACITY - 1;
  /** Every seq <= low is settled. */
  #low: number;
  /** The highest seq pushed. */
  #high: number;

  constructor(lastSeq: number) {
    this.#low = lastSeq;
    this.#high = lastSeq;
  }

  /** The seq the next event must carry. */
  get nextSeq(): number { return this.#high + 1 }

  /** Records the next event; returns its seq. */
  push(time: number, tag: number): number {
    const seq = this.#high + 1;
    if (seq - this.#low > this.#mask) this.#grow();
    this.#times[seq & this.#mask] = time;
    this.#tags[seq & this.#mask] = tag;
    this.#high = seq;
    return seq;
  }

  /** The tag of an outstanding seq, or undefined when it is settled or was never sent. */
  tag(seq: number): number | undefined {
    return seq > this.#low && seq <= this.#high ? this.#tags[seq & this.#mask] : undefined;
  }

  markRejected(seq: number): void {
    if (seq > this.#low && seq <= this.#high) this.#tags[seq & this.#mask]! |= TAG_REJECTED;
  }

  /** Settles every seq up to `upTo`, calling `each` with its intended time and tag. */
  settle(upTo: number, each: (time: number, tag: number) => void): void {
    const end = Math.min(upTo, this.#high);
    for (let s = this.#low + 1; s <= end; s++) each(this.#times[s & this.#mask]!, this.#tags[s & this.#mask]!);
    if (end > this.#low) this.#low = end;
  }

  #grow(): void {
    const capacity = (this.#mask + 1) * 2;
    const times = new Float64Array(capacity);
    const tags = new Uint8Array(capacity);
    for (let s = this.#low + 1; s <= this.#high; s++) {
      times[s & (capacity - 1)] = this.#times[s & this.#mask]!;
      tags[s & (capacity - 1)] = this.#tags[s & this.#mask]!;
    }
    this.#times = times;
    this.#tags = tags;
    this.#mask = capacity - 1;
  }
}
