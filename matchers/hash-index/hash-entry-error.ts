import { VigilError } from '../../core/errors.js';

/**
 * A hash list entry the index cannot hold: an unknown hash type, or a value that is not the right number
 * of hex digits for its type. The list importer validates rows first and names the CSV line; this error is
 * what a caller that skipped that step gets, naming the entry's position (code `LIST_INVALID`).
 */
export class HashEntryError extends VigilError {
  /** Position of the bad entry in the entries the index was built from. */
  readonly index: number;
  readonly reason: string;
  constructor(index: number, reason: string) {
    super('LIST_INVALID', `entry ${index}: ${reason}`);
    this.name = 'HashEntryError';
    this.index = index;
    this.reason = reason;
  }
}
