/**
 * Compiles a list version's entries into a shared-memory index of the matcher for its kind.
 */
import { AppIndex, HashIndex, KeywordIndex, WebIndex } from '../matchers/index.js';
import type { ListKind, ListValue } from '../store/index.js';
import type { SharedIndex } from './worker-messages.js';

export function buildIndex(kind: ListKind, entries: Iterable<ListValue>): SharedIndex {
  if (kind === 'hashes') {
    const rows = function* () { for (const e of entries) yield { hashType: e.hashType ?? '', value: e.value } };
    return HashIndex.build(rows()).toShared();
  }
  const values: string[] = [];
  for (const e of entries) values.push(e.value);
  switch (kind) {
    case 'keywords': return KeywordIndex.build(values).toShared();
    case 'urls': return WebIndex.build(values).toShared();
    case 'apps': return AppIndex.build(values).toShared();
  }
}
