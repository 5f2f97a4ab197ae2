import { VigilError } from '../../core/errors.js';

/**
 * An index was built from an entry it cannot hold (an unparsable URL pattern, an empty package id).
 * The list importer validates rows first with `parseUrlPattern` / `parseAppPackage` so it can name the
 * CSV line; this error is what a caller that skipped that step gets, naming the entry's position.
 */
export class ListEntryError extends VigilError {
  /** Position of the bad entry in the array the index was built from. */
  readonly index: number;
  readonly reason: string;
  constructor(index: number, reason: string) {
    super('LIST_INVALID', `entry ${index}: ${reason}`);
    this.name = 'ListEntryError';
    this.index = index;
    this.reason = reason;
  }
}
