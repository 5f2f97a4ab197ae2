/**
 * What every matcher index returns for one query, in the shape of Meta's hasher-matcher-actioner:
 * the entry that matched (its position in the list the index was built from), how far the signal was
 * from it, and the threshold that was applied. Exact matchers report distance 0 and threshold 0.
 */
export interface IndexMatch {
  /** Position of the matched entry in the entry array the index was built from. */
  entry: number;
  distance: number;
  threshold: number;
}
