import t from 'tap';
import { hasRules, WorkerPool } from '../../pipeline/index.js';
import { buildIndex } from '../../pipeline/index-builder.js';
import { encodeEntry, type ListEntry } from '../../store/index.js';
import { asDeviceId, type StoredEvent } from '../../core/index.js';
import type { IndexSnapshot, PageEntry } from '../../pipeline/worker-messages.js';
import { encodePage } from '../../store/journal-codec.js';

const at = 1_763_800_000_000;
const keywords: ListEntry[] = [{ value: 'placeholder term', label: 'high', ref: 'K-1' }];
const snapshot: IndexSnapshot = { id: 1, lists: [{ name: 'kw', kind: 'keywords', version: 1, index: buildIndex('keywords', keywords) }] };
const empty: IndexSnapshot = { id: 2, lists: [] };

/** Two pages of a dozen events each: ordinary ones, a tamper signal, an image with a hit, and two listed terms. */
function pages(): { bytes: Uint8Array[]; events: StoredEvent[] } {
  const events: StoredEvent[] = [];
  for (let seq = 1; seq <= 24; seq++) {
    const base = { seq, at: at + seq };
    if (seq === 5) events.push({ ...base, type: 'tamper', signal: 'uninstall_attempt' });
    else if (seq === 9) {
      events.push({ ...base, type: 'image', source: 'screenshot', hits: [{ list: 'h', version: 1, entry: 0, distance: 3, threshold: 31 }] });
    } else if (seq === 10) events.push({ ...base, type: 'image', source: 'camera', hits: [] });
    else if (seq === 14 || seq === 20) events.push({ ...base, type: 'text', app: 'a', text: `a PLACEHOLDER  t3rm ${seq}`, source: 'typed' });
    else if (seq % 3 === 0) events.push({ ...base, type: 'heartbeat', battery: 50 });
    else events.push({ ...base, type: 'text', app: 'a', text: `nothing to see ${seq}`, source: 'typed' });
  }
  const entries = events.map((e) => encodeEntry(asDeviceId(`dev-${e.seq % 2}`), e));
  return { bytes: [encodePage(entries.slice(0, 12)), encodePage(entries.slice(12))], events };
}

t.test('worker pages - a batch of journal pages is decoded and matched in the worker; only the events that make alerts come back', async (t) => {
  const pool = new WorkerPool(1);
  t.teardown(() => pool.close());
  const { bytes, events } = pages();
  const result = await pool.run({ type: 'pages', snapshot, pages: bytes });
  if (result.type !== 'pages') throw new Error(JSON.stringify(result));
  t.equal(result.events, 24, 'every event of both pages was read');
  t.same(result.hits.map((h) => [h.i, h.list, h.entry]), [[13, 'kw', 0], [19, 'kw', 0]], 'hits name their event by position in the batch');
  const back = result.entries.map((e: PageEntry) => [e.i, e.deviceId, e.event.seq, e.event.type]);
  t.same(back, [[4, 'dev-1', 5, 'tamper'], [8, 'dev-1', 9, 'image'], [13, 'dev-0', 14, 'text'], [19, 'dev-0', 20, 'text']],
    'back come the tamper signal (a rule looks at it), the image with a hit and the two hits\' events, in order, each once');
  t.same(result.entries.map((e) => e.event), [events[4], events[8], events[13], events[19]], 'as they were journaled');
  t.ok(result.entries.every((e) => hasRules(e.event) || e.event.type === 'image' || result.hits.some((h) => h.i === e.i)));

  const none = await pool.run({ type: 'pages', snapshot: empty, pages: bytes });
  if (none.type !== 'pages') throw new Error(JSON.stringify(none));
  t.same(none.hits, [], 'no lists, no hits');
  t.same(none.entries.map((e) => e.i), [4, 8], 'but the rule\'s and the image\'s events still come back');
});

t.test('worker pages - a page that is not one is an error result, not a crash', async (t) => {
  const pool = new WorkerPool(1);
  t.teardown(() => pool.close());
  const result = await pool.run({ type: 'pages', snapshot, pages: [Uint8Array.of(0xdd, 0, 0, 0, 2, 0xc1)] });
  t.equal(result.type, 'error');
  const after = await pool.run({ type: 'pages', snapshot, pages: pages().bytes });
  t.equal(after.type, 'pages', 'the pool still works');
});
