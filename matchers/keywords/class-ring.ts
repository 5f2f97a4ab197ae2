/**
 * Where the main reading's recent classes began: entry `r & mask` of `starts` holds the start of its
 * r-th class. A match of n classes ending with the r-th began at the (r - n + 1)-th, so this is all the
 * scan keeps to report where a match began. Sized so that no pattern reaches past what it holds.
 */
export class ClassRing {
  /** Written directly by the scan's fast loop. */
  readonly starts: Int32Array;
  readonly mask: number;
  /**
   * An episode that runs long writes over the entries from before it, which its alternative reading may
   * still need: the last ones are copied here first, for the episode that began at count `savedFor`.
   */
  private readonly saved: Int32Array;
  /** Classes into an episode after which it copies (well before it could overwrite one it needs). */
  readonly spill: number;
  private savedFor = -1;

  /** For patterns of at most `longest` classes. */
  constructor(longest: number) {
    let size = 64;
    while (size < 4 * longest + 8) size *= 2;
    this.starts = new Int32Array(size);
    this.mask = size - 1;
    this.saved = new Int32Array(longest + 2);
    this.spill = size - longest - 2;
  }

  /** Start of the r-th class. */
  at(r: number): number {
    return this.starts[r & this.mask]!;
  }

  /** An episode begins: nothing is saved for it yet. */
  beginEpisode(): void {
    this.savedFor = -1;
  }

  /** Copies the entries before the `r0`-th, as many as a pattern can reach back. */
  saveBefore(r0: number): void {
    for (let k = 0; k < this.saved.length && r0 - 1 - k >= 0; k++) this.saved[k] = this.at(r0 - 1 - k);
    this.savedFor = r0;
  }

  /** Start of the k-th class, for a k before the episode that began at count `r0`. */
  before(k: number, r0: number): number {
    return this.savedFor === r0 ? this.saved[r0 - 1 - k]! : this.at(k);
  }
}
