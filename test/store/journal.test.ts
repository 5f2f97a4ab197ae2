import t from 'tap';
import { AlertStore, AuditLog, Journal, openDatabases } from '../../store/index.js';
import { MAX_PAGE_BYTES } from '../../store/journal.js';
import { asDeviceId, type JournaledEvent, type DeviceEvent, type StoredEvent } from '../../core/index.js';
import { tempDir } from '../helpers/vigil.js';
import { Packr } from 'msgpackr';
import { decodeEntry, decodeRecord, entryFromFrame, entryPrefix } from '../../store/journal-codec.js';

const text = (seq: number): Exclude<DeviceEvent, { type: 'image' }> => ({ type: 'text', seq, at: 1_763_800_000_000 + seq, app: 'a', text: `line ${seq}`, source: 'typed' });
const quiet = { durable() {}, failed() {} };

/** The events the journal still holds, in the order they were appended, each with its page's key. */
function pendingEvents(journal: Journal): (JournaledEvent & { journalKey: number })[] {
  return [...journal.pendingPages()].flatMap((p) => decodeRecord(p.value).map((e) => ({ ...e, journalKey: p.key })));
}

t.test('journal - each group commit is one page, keyed in commit order, and keys go on growing after a reopen', async (t) => {
  const tmp = tempDir();
  let db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const durable: JournaledEvent[] = [];
  const journal = new Journal(db, 6, { durable(entries) { durable.push(...entries) }, failed() {} });
  const order: [string, number][] = [];
  for (let seq = 1; seq <= 5; seq++) {
    for (const d of ['dev-c', 'dev-a', 'dev-b']) {
      journal.append({ deviceId: asDeviceId(d), event: text(seq) });
      order.push([d, seq]);
    }
  }
  await journal.settle();
  t.equal(durable.length, 15, 'every entry is reported durable');
  t.same(durable.map((e) => e.journalKey), [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3], 'maxBatch 6: pages 1, 2 and 3, in append order');
  t.equal(db.journal.getCount(), 3, 'one record per page');
  t.equal(journal.pendingCount(), 15, 'the pending count is of entries');
  const pending = pendingEvents(journal);
  t.same(pending.map((e) => [e.deviceId, e.event.seq]), order, 'pending() gives the events back in append order, not by device');
  t.same(pending.map((e) => e.journalKey), durable.map((e) => e.journalKey), 'with the keys of the pages they were written in');
  t.same(pending[4]?.event, text(2), 'the event as appended');
  t.equal(journal.lastSeq(asDeviceId('dev-a')), 5, 'the highest durable seq per device is kept');

  // Matching removes pages by key; a reopened journal continues after the highest key left.
  const alerts = new AlertStore(db, new AuditLog(db));
  await alerts.commit([], [1, 2]);
  await db.root.close();
  db = openDatabases(tmp.dir);
  const again = new Journal(db, 100, quiet);
  t.same(pendingEvents(again).map((e) => [e.event.seq, e.journalKey]), [[5, 3], [5, 3], [5, 3]], 'only the unmatched page is left');
  t.equal(again.pendingCount(), 3);
  t.equal(again.lastSeq(asDeviceId('dev-a')), 5, 'the durable seq outlives the pages');
  const next: JournaledEvent = { deviceId: asDeviceId('dev-a'), event: text(6) };
  again.append(next);
  await again.settle();
  t.equal(next.journalKey, 4, 'the next page follows the highest one stored');
});

t.test('journal - a commit larger than a page holds is split over several pages, in order', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const third = Math.ceil(MAX_PAGE_BYTES / 3);
  const image = (seq: number): StoredEvent => ({
    type: 'image', seq, at: 1_763_800_000_000 + seq, source: 'screenshot', hits: [],
    evidence: { iv: new Uint8Array(12), tag: new Uint8Array(16), ciphertext: new Uint8Array(third).fill(seq), bytes: third, format: 'jpeg' },
  });
  const told: JournaledEvent[] = [];
  const journal = new Journal(db, 100, { durable(entries) { told.push(...entries) }, failed() {} });
  for (let seq = 1; seq <= 5; seq++) journal.append({ deviceId: asDeviceId('dev-big'), event: image(seq) });
  await journal.settle();
  t.same(told.map((e) => e.journalKey), [1, 1, 2, 2, 3], `two entries of ${third} bytes to a page of at most ${MAX_PAGE_BYTES}`);
  t.same(pendingEvents(journal).map((e) => [e.event.seq, e.journalKey]), [[1, 1], [2, 1], [3, 2], [4, 2], [5, 3]], 'read back in order');
  t.equal(journal.pendingCount(), 5);
});

t.test('journal - entries left in the legacy database, in either earlier form, are moved over on open, none lost', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  await db.root.transaction(() => {
    db.legacyJournal.put(7, ['dev-z', text(9)]); // keyed in append order, encoded by LMDB's general encoder
    for (const d of ['dev-b', 'dev-a']) for (let seq = 1; seq <= 2; seq++) db.legacyJournal.put([d, seq], text(seq));
  });
  const journal = new Journal(db, 100, quiet);
  const pending = pendingEvents(journal);
  t.same(pending.map((e) => [e.deviceId, e.event.seq, e.journalKey]),
    [['dev-z', 9, 7], ['dev-a', 1, 8], ['dev-a', 2, 9], ['dev-b', 1, 10], ['dev-b', 2, 11]],
    'old entries follow the new ones, each under a fresh integer key');
  t.same(pending[1]?.event, text(1), 'the event is unchanged');
  t.equal(db.journal.getCount(), 5, 'all five are in the journal');
  t.equal(db.legacyJournal.getCount(), 0, 'and none is left behind');
  const entry: JournaledEvent = { deviceId: asDeviceId('dev-a'), event: text(3) };
  journal.append(entry);
  await journal.settle();
  t.equal(entry.journalKey, 12, 'new appends come after the rewritten entries');
  t.equal(pendingEvents(new Journal(db, 100, quiet))[0]?.journalKey, 7, 'a second open finds nothing to rewrite');
});

t.test('journal - an event is stored as the device framed it only when the frame holds nothing else', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const device = new Packr({ useRecords: false });
  const dev = asDeviceId('dev-frames');
  const exact = text(1);
  const frame = device.pack(exact);
  const encoded = entryFromFrame(entryPrefix(dev), exact, frame);
  t.ok(encoded && Buffer.from(encoded).subarray(-frame.length).equals(frame), 'a frame of exactly the event\'s fields is the value, as sent');
  t.equal(entryFromFrame(entryPrefix(dev), text(2), device.pack({ ...text(2), note: 'a field this version does not know' })), undefined,
    'a frame with another field is not stored as sent');
  const dns: DeviceEvent = { type: 'dns', seq: 3, at: 1, domain: 'a.example' };
  t.equal(entryFromFrame(entryPrefix(dev), dns, device.pack([dns])), undefined, 'nor bytes that are not a map');
  const long = asDeviceId(`dev-${'x'.repeat(300)}`);
  t.same(decodeEntry(entryFromFrame(entryPrefix(long), exact, frame)!), { deviceId: long, event: exact }, 'a long device id round-trips');

  const journal = new Journal(db, 100, quiet);
  journal.append({ deviceId: dev, event: exact, encoded });
  journal.append({ deviceId: dev, event: text(2) }); // parsed from a frame with an unknown field: encoded by the journal
  await journal.settle();
  const pending = pendingEvents(journal);
  t.same(pending.map((e) => e.event), [text(1), text(2)], 'both read back as the events, the unknown field gone');
  t.notOk('note' in pending[1]!.event, 'nothing but the event is kept');
});

t.test('journal - commits made in one go are told as one batch, in append order, and each is timed', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const told: number[][] = [];
  const commits: [number, number][] = [];
  const journal = new Journal(db, 1, {
    durable(entries) { told.push(entries.map((e) => e.event.seq)) },
    failed() {},
    committed(seconds, entries) { commits.push([seconds, entries]) },
  });
  // maxBatch 1: each append is its own transaction; queued in one turn, LMDB commits them together.
  for (let seq = 1; seq <= 4; seq++) journal.append({ deviceId: asDeviceId('dev-together'), event: text(seq) });
  await journal.settle();
  t.same(told.flat(), [1, 2, 3, 4], 'every entry told once, in order');
  t.ok(told.length < 4, `told in ${told.length} call(s) for 4 transactions`);
  t.same(commits.map(([, n]) => n), [1, 1, 1, 1], 'each commit is timed, with its size');
  t.ok(commits.every(([s]) => s >= 0 && s < 10), 'in seconds');
});

t.test('journal - batches are told in the order they were flushed, however their promises settle', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const told: number[] = [];
  const keys: number[] = [];
  const journal = new Journal(db, 3, { durable(entries) { for (const e of entries) { told.push(e.event.seq); keys.push(e.journalKey!) } }, failed() {} });
  const alerts = new AlertStore(db, new AuditLog(db));
  // Turn after turn, flushes of different sizes interleaved with other writes, as under load.
  let seq = 0;
  for (let turn = 0; turn < 300; turn++) {
    for (let k = turn % 5; k >= 0; k--) journal.append({ deviceId: asDeviceId(`dev-${k}`), event: text(++seq) });
    if (turn % 7 === 0) void alerts.commit([], [...new Set(keys.slice(-4))]);
    await new Promise((r) => setImmediate(r));
  }
  await journal.settle();
  t.equal(told.length, seq, 'every entry told once');
  t.ok(told.every((s, i) => i === 0 || s > told[i - 1]!), 'in append order');
});

t.test('journal - a batch that cannot be written is told as failed in its turn, with nothing of it stored', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const told: string[] = [];
  const journal = new Journal(db, 2, {
    durable(entries) { for (const e of entries) told.push(`durable ${e.event.seq}`) },
    failed(entries, err) { for (const e of entries) told.push(`failed ${e.event.seq}: ${(err as Error).message.slice(0, 20)}`) },
  });
  const device = asDeviceId('dev-bad');
  journal.append({ deviceId: device, event: text(1) });
  journal.append({ deviceId: device, event: text(2) });
  // A value the encoder refuses (the parser never lets one through; this stands for any failure to write).
  journal.append({ deviceId: device, event: { ...text(3), text: 10n ** 30n } as unknown as StoredEvent });
  journal.append({ deviceId: device, event: text(4) });
  journal.append({ deviceId: device, event: text(5) });
  await journal.settle();
  t.same(told, ['durable 1', 'durable 2', 'failed 3: 10000000000000000000', 'failed 4: 10000000000000000000', 'durable 5']);
  t.same(pendingEvents(journal).map((e) => e.event.seq), [1, 2, 5], 'nothing of the failed batch stored');
});

t.test('journal - an image event, with its hits and sealed evidence, reads back as written after a reopen', async (t) => {
  const tmp = tempDir();
  let db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
  const image: StoredEvent = {
    type: 'image', seq: 4, at: 1_763_800_000_004, source: 'screenshot', captureId: 'cap-1',
    hits: [{ list: 'hashes-a', version: 3, entry: 17, distance: 12, threshold: 31, hashType: 'pdq' }],
    evidence: { iv: bytes(12, 1), tag: bytes(16, 2), ciphertext: bytes(300, 3), bytes: 1234, format: 'jpeg' },
  };
  const journal = new Journal(db, 100, quiet);
  journal.append({ deviceId: asDeviceId('dev-image'), event: image });
  await journal.settle();
  await db.root.close();
  db = openDatabases(tmp.dir);
  const [entry] = pendingEvents(new Journal(db, 100, quiet));
  const back = entry?.event;
  t.ok(back?.type === 'image', 'an image event');
  if (back?.type !== 'image' || !back.evidence || !image.evidence) return;
  const { evidence, ...rest } = back;
  const { evidence: sent, ...restSent } = image;
  t.same(rest, restSent, 'its fields and hits');
  for (const k of ['iv', 'tag', 'ciphertext'] as const) t.ok(Buffer.from(evidence[k]).equals(Buffer.from(sent[k])), `evidence ${k}`);
  t.same([evidence.bytes, evidence.format], [1234, 'jpeg']);
});

t.test('journal - a device\'s highest seq is read from its pages, and recorded only when its newest page goes', async (t) => {
  const tmp = tempDir();
  let db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const dev = asDeviceId('dev-seq');
  const other = asDeviceId('dev-other');
  let journal = new Journal(db, 3, quiet);
  for (let seq = 1; seq <= 6; seq++) journal.append({ deviceId: dev, event: text(seq) }); // pages 1 and 2
  journal.append({ deviceId: other, event: text(1) }); // page 3
  await journal.settle();
  t.equal(db.deviceSeq.get(dev), undefined, 'a commit writes no deviceSeq record');
  await db.root.close();
  db = openDatabases(tmp.dir);
  journal = new Journal(db, 3, quiet);
  t.same([journal.lastSeq(dev), journal.lastSeq(other)], [6, 1], 'after a reopen, read from the pages left');

  let alerts = new AlertStore(db, new AuditLog(db));
  const release = async (keys: number[]) => {
    await alerts.commit([], keys, [], journal.releasing(keys));
    journal.released(keys);
  };
  t.same([...journal.releasing([1])], [], 'an older page of a device with a newer one records nothing');
  await release([1]);
  t.equal(db.deviceSeq.get(dev), undefined);
  t.same([...journal.releasing([2, 3])], [[dev, 6], [other, 1]], 'each device\'s newest page records its highest seq');
  await release([2, 3]);
  t.same([db.deviceSeq.get(dev), db.deviceSeq.get(other)], [6, 1]);
  await db.root.close();
  db = openDatabases(tmp.dir);
  journal = new Journal(db, 3, quiet);
  t.equal(db.journal.getCount(), 0, 'no page left');
  t.same([journal.lastSeq(dev), journal.lastSeq(other)], [6, 1], 'and the seqs outlive them');
  alerts = new AlertStore(db, new AuditLog(db));

  // Deleted newest first: the older page finds the device's record already written.
  for (let seq = 7; seq <= 12; seq++) journal.append({ deviceId: dev, event: text(seq) });
  await journal.settle();
  const [older, newer] = [...new Set(pendingEvents(journal).map((e) => e.journalKey))];
  await release([newer!]);
  t.equal(db.deviceSeq.get(dev), 12, 'the newest page going first records the highest seq');
  t.same([...journal.releasing([older!])], [], 'and the older one then records nothing, so the record never goes back');
});

t.test('journal - a page that cannot be decoded is kept and listed, and does not stop the journal from opening', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  let badKey = 0;
  {
    const db = openDatabases(tmp.dir);
    const journal = new Journal(db, 100, quiet);
    for (let seq = 1; seq <= 5; seq++) journal.append({ deviceId: asDeviceId('dev-ok'), event: text(seq) });
    await journal.settle();
    const [goodKey] = [...db.journal.getKeys({})] as number[];
    badKey = goodKey! + 1;
    // A page whose header says 4 entries, then bytes that are no MessagePack at all.
    await db.journal.put(badKey, Uint8Array.of(0xdd, 0, 0, 0, 4, 0xc1, 0xc1, 0xc1));
    // And one cut short inside its header.
    await db.journal.put(badKey + 1, Uint8Array.of(0xdd, 0));
    await db.root.close();
  }
  const db = openDatabases(tmp.dir);
  t.teardown(() => db.root.close());
  const journal = new Journal(db, 100, quiet);
  t.same(journal.unreadable, [badKey, badKey + 1], 'both listed, in key order');
  t.equal(journal.lastSeq(asDeviceId('dev-ok')), 5, 'the readable page still gives its device\'s seq');
  t.equal(journal.pendingCount(), 5 + 4, 'the damaged pages count what their headers say, or nothing');
  t.same([...journal.pendingPages()].map((p) => [p.key, p.size]), [[badKey - 1, 5], [badKey, 4], [badKey + 1, 0]],
    'every page is handed to the pipeline, the damaged ones as they are');
  journal.append({ deviceId: asDeviceId('dev-ok'), event: text(6) });
  await journal.settle();
  t.equal(Math.max(...([...db.journal.getKeys({})] as number[])), badKey + 2, 'new pages go after them');
});
