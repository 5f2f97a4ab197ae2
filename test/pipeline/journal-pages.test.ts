import t from 'tap';
import pino from 'pino';
import { AlertStore, AuditLog, Journal, ListStore, openDatabases, type Databases, type DurablePage } from '../../store/index.js';
import { AlertBuilder, AlertFeed, ListWatcher, Pipeline, WorkerPool } from '../../pipeline/index.js';
import { Metrics, asDeviceId, asSubjectId, type JournaledEvent, type NewAlert, type StoredEvent } from '../../core/index.js';
import { tempDir } from '../helpers/vigil.js';

const text = (seq: number): StoredEvent => ({ type: 'text', seq, at: 1_763_800_000_000 + seq, app: 'a', text: `line ${seq}`, source: 'typed' });

/** A real alert store that remembers which journal pages each commit deleted. */
class RecordingStore extends AlertStore {
  readonly deleted: number[][] = [];
  override commit(alerts: readonly NewAlert[], processed: readonly number[], ...rest: Parameters<AlertStore['commit']> extends [unknown, unknown, ...infer R] ? R : never) {
    this.deleted.push([...processed]);
    return super.commit(alerts, processed, ...rest);
  }
}

interface Setup {
  db: Databases; alerts: RecordingStore; pipeline: Pipeline; journal: Journal; told: JournaledEvent[]; written: DurablePage[];
}

/**
 * A journal, a pipeline and a worker pool on `dir`; every durable event goes to the pipeline, unless `hold`: then
 * the pages written are only kept in `written`, for the test to submit.
 */
async function setup(t: { teardown(f: () => unknown): void }, dir: string, maxBatch: number, hold = false): Promise<Setup> {
  const db = openDatabases(dir);
  const lists = new ListStore(db);
  const alerts = new RecordingStore(db, new AuditLog(db));
  const pool = new WorkerPool(1);
  const log = pino({ level: 'silent' });
  const told: JournaledEvent[] = [];
  const written: DurablePage[] = [];
  let pipeline: Pipeline | undefined;
  const journal = new Journal(db, maxBatch, {
    durable(entries, pages) {
      told.push(...entries);
      written.push(...pages);
      if (!hold) pipeline?.submit(pages.map(({ key, value, size }) => ({ key, bytes: value, size, receivedAt: 0 })));
    },
    failed() {},
  });
  pipeline = new Pipeline({
    runner: pool, journal, watcher: new ListWatcher(lists, pool, dir, log), alerts, builder: new AlertBuilder(lists),
    feed: new AlertFeed(alerts), metrics: new Metrics(), log, batchSize: 8, maxInFlight: 2,
    subjectOf: () => asSubjectId('S-pages'), requestCapture: () => undefined,
  });
  t.teardown(() => pool.close());
  return { db, alerts, pipeline, journal, told, written };
}

t.test('journal pages - a group commit is one page, matched and deleted whole however small the batches', async (t) => {
  const tmp = tempDir();
  const { db, alerts, pipeline, journal, told } = await setup(t, tmp.dir, 1000);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  // Two turns: 150 events from three devices in the first, 45 in the second, so two pages of 150 and 45.
  let seq = 0;
  for (let i = 0; i < 50; i++) for (const d of ['dev-a', 'dev-b', 'dev-c']) journal.append({ deviceId: asDeviceId(d), event: text(++seq) });
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 15; i++) for (const d of ['dev-a', 'dev-b', 'dev-c']) journal.append({ deviceId: asDeviceId(d), event: text(++seq) });
  await journal.settle();
  const keys = [...new Set(told.map((e) => e.journalKey))];
  t.equal(keys.length, 2, 'two pages');
  t.same(keys.map((k) => told.filter((e) => e.journalKey === k).length), [150, 45], 'one per turn');
  await pipeline.drain();
  const deletions = alerts.deleted.flat();
  t.same(deletions.sort((a, b) => a - b), keys, 'each page deleted once');
  t.ok(alerts.deleted.every((d) => d.length > 0), 'every commit deleted a page: none stopped short of its page\'s end');
  t.equal(alerts.deleted.length, 2, `in ${alerts.deleted.length} commits, each page in one, though the batch size is 8`);
  t.equal(db.journal.getCount(), 0, 'the journal is empty');
  t.equal(journal.pendingCount(), 0);
  t.equal(journal.lastSeq(asDeviceId('dev-c')), 195, 'the durable seq per device outlives the page');
  t.same(['dev-a', 'dev-b', 'dev-c'].map((d) => db.deviceSeq.get(d)), [193, 194, 195], 'written when each device\'s newest page went');
});

t.test('journal pages - recovery submits each page left over whole, and deletes it once', async (t) => {
  const tmp = tempDir();
  {
    const db = openDatabases(tmp.dir);
    const journal = new Journal(db, 40, { durable() {}, failed() {} });
    for (let seq = 1; seq <= 100; seq++) journal.append({ deviceId: asDeviceId('dev-r'), event: text(seq) });
    await journal.settle();
    t.equal(db.journal.getCount(), 3, 'maxBatch 40: pages of 40, 40 and 20');
    await db.root.close();
  }
  const { db, alerts, pipeline, journal } = await setup(t, tmp.dir, 40);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  t.equal(journal.lastSeq(asDeviceId('dev-r')), 100, 'the durable seq is read back');
  t.equal(journal.pendingCount(), 100, 'the pending count is of events, not pages');
  t.equal(await pipeline.recover(journal, 10), 100, 'every event recovered');
  t.same(alerts.deleted.flat().sort((a, b) => a - b), [1, 2, 3], 'each page deleted once, although the high-water mark is 10');
  t.equal(db.journal.getCount(), 0);
});

t.test('journal pages - a page that cannot be read fails alone: the good pages of its batch are matched and deleted', async (t) => {
  const tmp = tempDir();
  const { db, alerts, pipeline, journal, written } = await setup(t, tmp.dir, 1000, true);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  for (let seq = 1; seq <= 3; seq++) journal.append({ deviceId: asDeviceId('dev-good'), event: text(seq) });
  await journal.settle();
  t.equal(written.length, 1, 'one good page of 3 events');
  const good = written[0]!;
  const bad = { key: good.key + 1000, bytes: Uint8Array.of(0xdd, 0, 0, 0, 3, 0xc1, 0xc1), size: 3, receivedAt: 0 };
  // Together they are 6 events, under the batch size of 8: they go to the worker as one batch, which fails.
  pipeline.submit([bad, { key: good.key, bytes: good.value, size: good.size, receivedAt: 0 }]);
  // Until the deletion is asked for and its LMDB batch has landed (the store records the call before it commits).
  const done = (): boolean => alerts.deleted.flat().includes(good.key) && db.journal.get(good.key) === undefined;
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(alerts.deleted.flat().includes(good.key), 'the good page was matched and deleted on its retry, alone');
  t.equal(db.journal.get(good.key), undefined, 'and is gone from the journal');
  await new Promise((r) => setTimeout(r, 1700)); // the bad page's last attempts
  t.notOk(alerts.deleted.flat().includes(bad.key), 'the bad page was never counted as matched');
  t.equal(pipeline.depth, 0, 'and was given up after its attempts, not retried for ever');
});
