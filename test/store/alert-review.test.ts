import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { AlertStore, AuditLog, openDatabases, scrubDeleted, type Databases } from '../../store/index.js';
import { asAlertId, asDeviceId, asSubjectId, toCloudEvent, type Category, type NewAlert, type Severity } from '../../core/index.js';
import { tempDir } from '../helpers/vigil.js';
import { diskContains } from '../helpers/operators.js';

const who = { username: 'mgr', label: 'operator:mgr' };

async function fixture(t: Test): Promise<{ db: Databases; dir: string; alerts: AlertStore; audit: AuditLog }> {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const audit = new AuditLog(db);
  return { db, dir: tmp.dir, alerts: new AlertStore(db, audit), audit };
}

let n = 0;
const alert = (subject: string, over: Partial<NewAlert> = {}): NewAlert => {
  n++;
  return {
    id: asAlertId(`al-${n}`), category: 'keyboard', subjectId: asSubjectId(subject), deviceId: asDeviceId(`dev-${subject}`),
    eventSeq: n, eventAt: 1000 * n, raisedAt: 1000 * n, severity: 'medium', state: 'new',
    match: { kind: 'keyword', list: 'kw', version: 1, ref: 'k1', term: 'forbiddenword', excerpt: 'say the forbiddenword now' },
    ...over,
  };
};

t.test('review - transitions follow the workflow and each change is a notice on the feed and an audit entry', async (t) => {
  const { alerts, audit } = await fixture(t);
  const [a] = await alerts.commit([alert('S1')], []);
  t.match(await alerts.review(a!.id, 'dismissed', who, 'x'), { ok: false, code: 'CONFLICT' });
  t.match(await alerts.review(a!.id, 'confirmed', who, '  '), { ok: false, code: 'INVALID' });
  t.match(await alerts.review('al-nope', 'in_review', who, undefined), { ok: false, code: 'NOT_FOUND' });
  const r1 = await alerts.review(a!.id, 'in_review', who, undefined);
  const r2 = await alerts.review(a!.id, 'confirmed', who, 'Confirmed with the offender manager');
  t.ok(r1.ok && r2.ok);
  t.match(alerts.byId(a!.id), { state: 'confirmed', review: { from: 'in_review', to: 'confirmed', by: 'mgr' } });
  const feed = alerts.readAfter(0, 10);
  t.same(feed.map((e) => [e.seq, e.notice?.kind ?? 'alert']), [[1, 'alert'], [2, 'review'], [3, 'review']]);
  t.same(feed.map((e) => toCloudEvent(e).type), ['vigil.alert.keyboard', 'vigil.review.in_review', 'vigil.review.confirmed']);
  t.notOk(JSON.stringify(feed.slice(1)).includes('forbiddenword now'), 'notices carry no excerpt');
  t.same(audit.read(1).map((e) => e.action), ['review.change', 'review.change']);
  t.equal(alerts.lastSeq, 3);
});

t.test('review - listings filter by subject, category, severity, state, hold and time, and page with a cursor', async (t) => {
  const { alerts } = await fixture(t);
  const mix: [string, Category, Severity][] = [
    ['S1', 'keyboard', 'high'], ['S2', 'web', 'low'], ['S1', 'web', 'critical'], ['S3', 'keyboard', 'high'],
    ['S2', 'keyboard', 'high'], ['S1', 'keyboard', 'low'], ['S3', 'web', 'high'], ['S1', 'keyboard', 'high'],
  ];
  const stored = await alerts.commit(mix.map(([s, category, severity]) => alert(s, { category, severity })), []);
  await alerts.review(stored[0]!.id, 'in_review', who, undefined);
  await alerts.setHold(stored[2]!.id, true, who, 'hearing');
  const ids = (q: Parameters<AlertStore['list']>[0]) => alerts.list(q).alerts.map((a) => a.id);
  const seqOf = (i: number) => stored[i]!.id;
  t.same(ids({ subjects: ['S1'], limit: 10 }), [0, 2, 5, 7].map(seqOf));
  t.same(ids({ subjects: ['S1', 'S2'], category: 'keyboard', limit: 10 }), [0, 4, 5, 7].map(seqOf), 'merged across subjects in feed order');
  t.same(ids({ subjects: ['S1', 'S3'], severity: 'high', limit: 10 }), [0, 3, 6, 7].map(seqOf));
  t.same(ids({ subjects: ['S1'], state: 'in_review', limit: 10 }), [seqOf(0)]);
  t.same(ids({ subjects: ['S1'], held: true, limit: 10 }), [seqOf(2)]);
  t.same(ids({ subjects: ['S1', 'S2', 'S3'], from: stored[3]!.raisedAt, to: stored[5]!.raisedAt, limit: 10 }), [3, 4, 5].map(seqOf));
  t.same(ids({ subjects: [], limit: 10 }), [], 'an empty caseload sees nothing');
  t.same(ids({ subjects: ['S1', 'S2', 'S3'], newestFirst: true, limit: 3 }), [7, 6, 5].map(seqOf));
  const paged: string[] = [];
  let cursor = 0;
  for (;;) {
    const page = alerts.list({ subjects: ['S1', 'S2', 'S3'], limit: 3, cursor });
    paged.push(...page.alerts.map((a) => a.id));
    if (page.next === null) break;
    cursor = page.next;
  }
  t.same(paged, stored.map((a) => a.id), 'paging visits every alert once, in order');
  const notices = alerts.readAfter(0, 100).filter((e) => e.notice !== undefined).length;
  t.equal(notices, 1, 'listings never return notices');
});

t.test('review - the scrubber zeroes every leftover copy of a deleted secret and nothing else', async (t) => {
  const { db, dir } = await fixture(t);
  const secret = randomBytes(50_000);
  const keep = randomBytes(50_000);
  await db.root.transaction(() => {
    db.meta.put('a', { v: secret });
    db.meta.put('b', { v: keep });
  });
  await db.meta.put('a', { v: Buffer.alloc(secret.length) }); // an overwrite leaves the old pages behind (copy-on-write)
  await db.meta.remove('a');
  await db.root.flushed;
  t.ok(diskContains(dir, secret.subarray(30_000, 30_064)), 'before: the deleted bytes are still in data.mdb');
  const result = await scrubDeleted(db, [secret]);
  t.ok(result.copies >= 1 && result.bytes >= secret.length - 64, `scrubbed ${result.copies} copies, ${result.bytes} bytes`);
  for (const at of [0, 10_000, 25_000, 49_936]) t.notOk(diskContains(dir, secret.subarray(at, at + 64)), `no run at ${at}`);
  t.same((db.meta.get('b') as { v: Buffer }).v, keep, 'live records are untouched');
  t.equal(db.meta.get('a'), undefined);
});

t.test('commit - an alert id is stored once, within one commit, across commits in flight together and after they land', async (t) => {
  const { db, alerts } = await fixture(t);
  const a = alert('S1');
  const b = alert('S1');
  const sealed = { iv: randomBytes(12), tag: randomBytes(16), ciphertext: randomBytes(64), bytes: 64, format: 'png' };
  const ev = { id: 'ev-1', deviceId: asDeviceId('dev-S1'), eventSeq: a.eventSeq, sealed };
  // Neither commit has landed when the next starts: their reads cannot see each other's writes.
  const [first, second, third] = await Promise.all([
    alerts.commit([a, a, b], [], [ev, ev]),
    alerts.commit([b, a], [], [ev]),
    alerts.commit([a], []),
  ]);
  t.same(first!.map((x) => x.id), [a.id, b.id], 'a repeated id in one commit is stored once');
  t.same(second, [], 'ids still in flight in an earlier commit are not stored again');
  t.same(third, []);
  t.same(await alerts.commit([a, b], []), [], 'nor once they have landed');
  t.same(alerts.readAfter(0, 10).map((x) => [x.seq, x.id]), [[1, a.id], [2, b.id]]);
  t.same([...db.evidence.getKeys()], ['ev-1']);
  const c = alert('S2');
  t.same((await alerts.commit([c], [])).map((x) => [x.seq, x.id]), [[3, c.id]], 'feed sequence carries on without gaps');
});

t.test('commit - the journal entries named in a commit are removed with its alerts', async (t) => {
  const { db, alerts } = await fixture(t);
  await db.journal.put(1, new Uint8Array([0x90]));
  await db.journal.put(2, new Uint8Array([0x90]));
  const a = alert('S1');
  await alerts.commit([a], [1]);
  t.same([...db.journal.getKeys()], [2]);
  t.ok(alerts.byId(a.id));
});

t.test('commit - one that cannot be written rejects, writes nothing, and the store goes on storing', async (t) => {
  const { alerts } = await fixture(t);
  const good = alert('S1');
  // An id past LMDB's key size cannot be stored: the commit is refused before anything is written.
  await t.rejects(alerts.commit([good, alert('S1', { id: asAlertId('x'.repeat(4000)) })], []), /cannot be stored/);
  t.same(alerts.readAfter(0, 10), [], 'nothing of it stored');
  const next = alert('S2');
  const stored = await alerts.commit([good, next], []);
  t.same(stored.map((a) => [a.seq, a.id]), [[1, good.id], [2, next.id]], 'a later commit stores them, numbered on');
});

t.test('feed - the committed sequence never runs ahead of what a reader can see, nor goes back', async (t) => {
  const { alerts, db } = await fixture(t);
  await alerts.commit([alert('S1')], []);
  t.equal(alerts.committedSeq(), 1);
  const onTheWay = alerts.commit([alert('S1'), alert('S1')], []);
  t.equal(alerts.lastSeq, 3, 'sequences are handed out when the batch is made');
  t.equal(alerts.committedSeq(), 1, 'but not promised before they are committed');
  t.equal(alerts.readAfter(1, 10).length, 0);
  await onTheWay;
  t.equal(alerts.committedSeq(), 3);
  t.same(alerts.readAfter(1, 10).map((a) => a.seq), [2, 3]);
  const del = await alerts.deleteAlert(alerts.get(3)!.id, who, 'entered in error');
  t.ok(del.ok);
  t.equal(alerts.committedSeq(), 4, 'a deletion notice is the newest entry');
  await db.alerts.remove(4); // the newest entry gone without a notice after it, as retention may leave it
  t.equal(alerts.committedSeq(), 4, 'the committed sequence does not go back');
});
