import t from 'tap';
import { AlertStore, AuditLog, Journal, openDatabases } from '../../store/index.js';
import { asDeviceId, type JournaledEvent, type StoredEvent } from '../../core/index.js';
import { tempDir } from '../helpers/vigil.js';

const text = (seq: number): StoredEvent => ({ type: 'text', seq, at: 1_763_800_000_000 + seq, app: 'a', text: `line ${seq}`, source: 'typed' });
const quiet = { durable() {}, failed() {} };

t.test('journal - entries are keyed in append order across devices, and keys go on growing after a reopen', async (t) => {
  const tmp = tempDir();
  let db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const durable: JournaledEvent[] = [];
  const journal = new Journal(db, 100, { durable(entries) { durable.push(...entries) }, failed() {} });
  const order: [string, number][] = [];
  for (let seq = 1; seq <= 5; seq++) {
    for (const d of ['dev-c', 'dev-a', 'dev-b']) {
      journal.append({ deviceId: asDeviceId(d), event: text(seq) });
      order.push([d, seq]);
    }
  }
  await journal.settle();
  t.equal(durable.length, 15, 'every entry is reported durable');
  t.same(durable.map((e) => e.journalKey), Array.from({ length: 15 }, (_, i) => i + 1), 'keys 1..15, in append order');
  const pending = [...journal.pending()];
  t.same(pending.map((e) => [e.deviceId, e.event.seq]), order, 'pending() gives the events back in append order, not by device');
  t.same(pending.map((e) => e.journalKey), durable.map((e) => e.journalKey), 'with the keys they were written under');
  t.same(pending[4]?.event, text(2), 'the event as appended');
  t.equal(journal.lastSeq(asDeviceId('dev-a')), 5, 'the highest durable seq per device is kept');

  // Matching removes entries by key; a reopened journal continues after the highest key left.
  const alerts = new AlertStore(db, new AuditLog(db));
  await alerts.commit([], pending.slice(0, 14).map((e) => e.journalKey));
  await db.root.close();
  db = openDatabases(tmp.dir);
  const again = new Journal(db, 100, quiet);
  t.same([...again.pending()].map((e) => e.journalKey), [15], 'only the unmatched entry is left');
  const next: JournaledEvent = { deviceId: asDeviceId('dev-a'), event: text(6) };
  again.append(next);
  await again.settle();
  t.equal(next.journalKey, 16, 'the next key follows the highest one stored');
});

t.test('journal - entries keyed the old way ([deviceId, seq] -> event) are rewritten on open, none lost', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  await db.root.transaction(() => {
    db.journal.put(7, ['dev-z', text(9)]); // an entry already in the new form
    for (const d of ['dev-b', 'dev-a']) for (let seq = 1; seq <= 2; seq++) db.journal.put([d, seq], text(seq));
  });
  const journal = new Journal(db, 100, quiet);
  const pending = [...journal.pending()];
  t.same(pending.map((e) => [e.deviceId, e.event.seq, e.journalKey]),
    [['dev-z', 9, 7], ['dev-a', 1, 8], ['dev-a', 2, 9], ['dev-b', 1, 10], ['dev-b', 2, 11]],
    'old entries follow the new ones, each under a fresh integer key');
  t.same(pending[1]?.event, text(1), 'the event is unchanged');
  t.equal(db.journal.getCount(), 5, 'the old keys are gone');
  const entry: JournaledEvent = { deviceId: asDeviceId('dev-a'), event: text(3) };
  journal.append(entry);
  await journal.settle();
  t.equal(entry.journalKey, 12, 'new appends come after the rewritten entries');
  t.equal(new Journal(db, 100, quiet).pending().next().value?.journalKey, 7, 'a second open finds nothing to rewrite');
});
