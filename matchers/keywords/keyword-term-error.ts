import { VigilError } from '../../core/errors.js';

/**
 * A keyword list entry that the index cannot hold: it normalises to nothing (`"!!!"`, `"  "`), so it
 * could never match. Names the entry's position; the list importer checks rows first with
 * `normalizeText(term) === ''` so it can name the CSV line instead. The term itself is left out of the
 * message on purpose: keyword lists are sensitive and messages end up in logs.
 */
export class KeywordTermError extends VigilError {
  /** Position of the bad term in the array the index was built from. */
  readonly index: number;
  constructor(index: number, reason: string) {
    super('LIST_INVALID', `term ${index}: ${reason}`);
    this.name = 'KeywordTermError';
    this.index = index;
  }
}
