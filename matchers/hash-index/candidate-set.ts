/**
 * The positions already verified during one query. Multi-index hashing finds a listed hash once for every
 * slice and every query hash it is near, and each should be verified (and reported) once.
 *
 * An open-addressing set of small integers that grows with use, rather than a "seen" stamp per listed
 * hash: a query touches a few hundred positions, so the set stays in the L1 cache, and a thread's scratch
 * memory does not grow with the list (a stamp array would be 40 MB per thread at 10 million hashes).
 */
const INITIAL_BITS = 10;
/** A set grown past this by a degenerate query is dropped on `clear`, not zeroed for every later query. */
const KEEP_BITS = 16;
/** 2^32 / golden ratio: Fibonacci hashing, whose top bits spread consecutive positions. */
const FIBONACCI = 0x9e3779b1;

export class CandidateSet {
  /** Position + 1 per slot; 0 is empty. */
  private slots = new Int32Array(1 << INITIAL_BITS);
  private bits = INITIAL_BITS;
  private size = 0;

  /** Empties the set. */
  clear(): void {
    if (this.bits > KEEP_BITS) {
      this.bits = INITIAL_BITS;
      this.slots = new Int32Array(1 << INITIAL_BITS);
    } else if (this.size !== 0) {
      this.slots.fill(0);
    }
    this.size = 0;
  }

  /** Adds `position`; true if it was not there yet. */
  add(position: number): boolean {
    const key = position + 1;
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let s = Math.imul(key, FIBONACCI) >>> (32 - this.bits); ; s = (s + 1) & mask) {
      const held = slots[s]!;
      if (held === key) return false;
      if (held === 0) {
        slots[s] = key;
        if (++this.size * 2 > slots.length) this.grow();
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const mask = slots.length - 1;
    this.bits++;
    for (const key of old) {
      if (key === 0) continue;
      let s = Math.imul(key, FIBONACCI) >>> (32 - this.bits);
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = key;
    }
    this.slots = slots;
  }
}
