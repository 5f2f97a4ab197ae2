import t, { type Test } from 'tap';
import { asDeviceId } from '../../core/index.js';
import { HeartbeatMonitor } from '../../pipeline/index.js';
import { ENROLMENT_SCAN_SLICE, SAVE_CHUNK } from '../../pipeline/heartbeat-monitor.js';
import { RegistryStore, openDatabases } from '../../store/index.js';
import {
  DAY, TestDevice, consumerToken, enrolDevice, heartbeat, monitorParts, readAlerts, startTestServer, tempDir, waitForAlerts,
} from '../helpers/vigil.js';


/** A monitor's parts on real LMDB in a temporary folder (60 s heartbeats, no grace). */
function heartbeats(t: Test) {
  const { dir, parts } = monitorParts(t);
  const { db, registry, alerts } = parts;
  const options = { ...parts, heartbeatSeconds: 60, graceSeconds: 0 };
  /** Enrols subject-`name` under ORDER-`name`, heartbeats only, in force from a day before `now` to a day after. */
  const enrolWatched = async (name: string, now: number, enrolledAt = now) => asDeviceId((await registry.enrol(
    { subjectId: `subject-${name}`, orderRef: `ORDER-${name}`, categories: ['heartbeat'], from: now - DAY, until: now + DAY }, enrolledAt)).deviceId);
  return { db, dir, registry, alerts, options, enrolWatched };
}

t.test('heartbeat - a silent device gets one heartbeat-missed alert after its deadline, and another only after it is heard again', async (t) => {
  const tmp = tempDir();
  const srv = await startTestServer(tmp.dir, { policy: { heartbeatSeconds: 1, heartbeatGraceSeconds: 0 } });
  t.teardown(async () => { await srv.stop(); tmp.remove() });
  const consumer = await consumerToken(tmp.dir);
  const watched = await enrolDevice(tmp.dir, ['heartbeat']);
  const unwatched = await enrolDevice(tmp.dir, ['keyboard']);
  const a = await TestDevice.connect(srv.port, watched.token);
  const b = await TestDevice.connect(srv.port, unwatched.token);
  a.send(heartbeat(1));
  b.send({ type: 'text', seq: 1, at: Date.now(), app: 'x', text: 'hello', source: 'typed' });
  await a.waitForAck(1);
  await b.waitForAck(1);
  const lastHeard = Date.now();
  const [first] = await waitForAlerts(srv.base, consumer, 1, 0, 5000);
  t.match(first, { type: 'vigil.alert.heartbeat', data: { deviceId: watched.deviceId, eventSeq: 1, match: { kind: 'rule', rule: 'heartbeat-missed' } } });
  const lateBy = Date.parse(first!.time) - (lastHeard + 1000);
  t.ok(lateBy < 1500, `raised ${lateBy} ms after the deadline`);
  await new Promise((r) => setTimeout(r, 1500));
  let all = (await readAlerts(srv.base, consumer)).alerts;
  t.equal(all.length, 1, 'one alert per silence, and none for a device whose order has no heartbeat category');
  a.send(heartbeat(2));
  await a.waitForAck(2);
  all = await waitForAlerts(srv.base, consumer, 2, 0, 5000);
  t.equal(all.length, 2, 'heard again, then silent again: a second alert');
  t.equal(all[1]!.data.eventSeq, 2);
  await a.close();
  await b.close();
});

t.test('heartbeat - last-seen times are saved in chunks and survive a restart: a device silent across it is still alerted', async (t) => {
  const { db, alerts, options, enrolWatched } = heartbeats(t);
  const now = Date.now();
  const watched = await enrolWatched('hb', now);
  const first = new HeartbeatMonitor(options);
  const many = SAVE_CHUNK * 2 + 7; // more than two transactions' worth
  for (let i = 0; i < many; i++) first.seen(asDeviceId(`dev-chunk-${i}`), i + 1, now - 1000);
  first.seen(asDeviceId(watched), 41, now - 2000);
  first.seen(asDeviceId(watched), 42, now - 1000); // moved on in place
  await first.save();
  t.equal(db.deviceSeen.getCount(), many + 1, 'every device saved, across the chunks');
  t.same(db.deviceSeen.get(`dev-chunk-${many - 1}`), { at: now - 1000, seq: many, alerted: false }, 'the last chunk\'s last device too');
  t.same(db.deviceSeen.get(watched), { at: now - 1000, seq: 42, alerted: false }, 'the newest time and seq');
  await first.save();
  t.equal(db.deviceSeen.getCount(), many + 1, 'nothing changed: nothing more written');

  // A restart: the new monitor knows when the device was last heard, and raises the alert once its deadline passes.
  const second = new HeartbeatMonitor(options);
  t.equal(await second.check(now + 30_000), 0, 'before the deadline: nothing');
  t.equal(await second.check(now + 60_000), 1, 'after it: the device silent across the restart is alerted');
  const [alert] = alerts.readAfter(0, 10);
  t.match(alert, { deviceId: watched, eventSeq: 42, category: 'heartbeat', match: { rule: 'heartbeat-missed' } });
});

t.test('heartbeat - a revoked device owes no heartbeat: silent past its deadline, it raises no alert', async (t) => {
  const { dir, registry, alerts, options } = heartbeats(t);
  const monitor = new HeartbeatMonitor(options);
  const now = Date.now();
  const order = { categories: ['heartbeat' as const], from: now - DAY, until: now + DAY };
  const revoked = await registry.enrol({ subjectId: 'subject-gone', orderRef: 'ORDER-gone', ...order });
  const kept = await registry.enrol({ subjectId: 'subject-kept', orderRef: 'ORDER-kept', ...order });
  monitor.seen(asDeviceId(revoked.deviceId), 1, now);
  monitor.seen(asDeviceId(kept.deviceId), 1, now);
  // Revoked by another process (vigil devices revoke, or simulate winding up), after it was last heard.
  const other = openDatabases(dir);
  try { await new RegistryStore(other).revokeDevice(revoked.deviceId) } finally { await other.root.close() }
  await new Promise((r) => setTimeout(r, 10));
  t.equal(await monitor.check(now + 61_000), 1, 'one alert, past the deadline');
  t.same(alerts.readAfter(0, 10).map((a) => a.deviceId), [kept.deviceId], 'for the device still enrolled only');
  t.equal(await monitor.check(now + 200_000), 0, 'and none later for the revoked one');
});

t.test('heartbeat - an alert whose commit fails (a full disk, say) is raised at the next check, not lost', async (t) => {
  const { alerts, options, enrolWatched } = heartbeats(t);
  const now = Date.now();
  const deviceId = await enrolWatched('full', now);
  const monitor = new HeartbeatMonitor(options);
  monitor.seen(asDeviceId(deviceId), 7, now - 1000);
  const commit = alerts.commit.bind(alerts);
  alerts.commit = async () => { throw new Error('MDB_MAP_FULL: Environment mapsize limit reached') };
  await t.rejects(monitor.check(now + 60_000), /MDB_MAP_FULL/);
  alerts.commit = commit;
  t.equal(await monitor.check(now + 61_000), 1, 'raised at the next check');
  t.match(alerts.readAfter(0, 10), [{ deviceId, eventSeq: 7, match: { rule: 'heartbeat-missed' } }]);
});

/** Steps the wall clock (Date.now) by `ms` for the rest of the test; the monotonic clock runs on untouched. */
function stepWallClock(t: Test, ms: number): void {
  const real = Date.now;
  const stepped = (): number => real() + ms;
  Date.now = stepped;
  t.teardown(() => { Date.now = real });
}

t.test('heartbeat - a wall clock stepped forward makes no device overdue: silence is measured on the monotonic clock', async (t) => {
  const { alerts, options, enrolWatched } = heartbeats(t);
  const now = Date.now();
  const deviceId = await enrolWatched('fwd', now);
  const monitor = new HeartbeatMonitor(options);
  monitor.seen(asDeviceId(deviceId), 1, Date.now());
  stepWallClock(t, 3600_000); // NTP sets the clock an hour on, a second after the device was heard
  t.equal(await monitor.check(Date.now()), 0, 'heard a moment ago: not overdue');
  t.same(alerts.readAfter(0, 10), []);
});

t.test('heartbeat - a wall clock set back does not put deadlines off: a device heard after the step, then silent, is alerted on time', async (t) => {
  const { registry, alerts, options } = heartbeats(t);
  const now = Date.now();
  const order = { categories: ['heartbeat' as const], from: now - DAY, until: now + DAY };
  const heardAgain = await registry.enrol({ subjectId: 'subject-back', orderRef: 'ORDER-back', ...order });
  const silent = await registry.enrol({ subjectId: 'subject-back2', orderRef: 'ORDER-back2', ...order });
  const monitor = new HeartbeatMonitor(options);
  monitor.seen(asDeviceId(heardAgain.deviceId), 1, Date.now());
  monitor.seen(asDeviceId(silent.deviceId), 1, Date.now());
  stepWallClock(t, -3600_000); // the clock was an hour fast, and is set right
  monitor.seen(asDeviceId(heardAgain.deviceId), 2, Date.now());
  t.equal(await monitor.check(Date.now() + 30_000), 0, 'within the 60 s deadline: nothing');
  t.equal(await monitor.check(Date.now() + 61_000), 2, 'past it: both alerted, not an hour late');
  t.same(alerts.readAfter(0, 10).map((a) => [a.deviceId, a.eventSeq]).sort(),
    [[heardAgain.deviceId, 2], [silent.deviceId, 1]].sort());
});

t.test('heartbeat - a device whose order was varied to start later owes no heartbeat before the new start, and is alerted once it starts', async (t) => {
  const { registry, alerts, options } = heartbeats(t);
  const now = Date.now();
  const { deviceId } = await registry.enrol({ subjectId: 'subject-later', orderRef: 'ORDER-later', categories: ['heartbeat'], from: now - DAY, until: now + 2 * DAY });
  const monitor = new HeartbeatMonitor(options);
  monitor.seen(asDeviceId(deviceId), 3, now);
  await registry.varyOrder('ORDER-later', { from: now + DAY }); // the court moved the start a day on
  t.equal(await monitor.check(now + 61_000), 0, 'silent past its deadline, but before its order starts: no alert');
  t.same(alerts.readAfter(0, 10), []);
  t.equal(await monitor.check(now + DAY + 1000), 1, 'still silent once the order has started: alerted');
  t.match(alerts.readAfter(0, 10), [{ deviceId, eventSeq: 3, match: { rule: 'heartbeat-missed' } }]);
});

t.test('heartbeat - time no server watched does not count: a deadline that fell while the server was down is put off by the outage, not alerted at start-up', async (t) => {
  const { db, alerts, options, enrolWatched } = heartbeats(t);
  const now = Date.now();
  const enrol = (n: number) => enrolWatched(`out-${n}`, now);
  const [during, before] = [await enrol(1), await enrol(2)];
  // The server before was last known alive 90 s ago. `during` was heard 100 s ago: its deadline (60 s) fell 40 s ago,
  // in the outage. `before` was heard 200 s ago: overdue 140 s ago, while the server still watched.
  await db.meta.put('heartbeatSavedAt', now - 90_000);
  await db.deviceSeen.put(during, { at: now - 100_000, seq: 7, alerted: false });
  await db.deviceSeen.put(before, { at: now - 200_000, seq: 3, alerted: false });

  const monitor = new HeartbeatMonitor(options, now);
  t.equal(await monitor.check(now), 1, 'at start-up, only the device overdue before the outage is alerted (it used to be both)');
  t.match(alerts.readAfter(0, 10), [{ deviceId: before, eventSeq: 3 }]);
  t.equal(await monitor.check(now + 49_000), 0, 'the device whose deadline fell in the outage has the rest of its period back');
  t.equal(await monitor.check(now + 51_000), 1, 'and is alerted once that has passed');
  const put = alerts.readAfter(0, 10).find((a) => a.deviceId === during)!;
  t.match((put.match as { detail?: string }).detail, new RegExp(`no event for 1\\d\\d s; deadline ${new Date(now + 50_000).toISOString()}$`), 'stating the deadline it was given, and the whole silence');
});

t.test('heartbeat - a deadline put off past an outage holds across another restart, and an alert raised just before a crash is not raised again', async (t) => {
  const { db, alerts, options, enrolWatched } = heartbeats(t);
  const now = Date.now();
  const deviceId = await enrolWatched('out-9', now);
  const id = asDeviceId(deviceId);
  await db.meta.put('heartbeatSavedAt', now - 90_000);
  await db.deviceSeen.put(id, { at: now - 100_000, seq: 7, alerted: false });
  const first = new HeartbeatMonitor(options, now);
  await first.save();
  t.match(db.deviceSeen.get(id), { at: now - 100_000, seq: 7, alerted: false, putOff: now + 50_000 }, 'the deadline put off is saved');
  await db.meta.put('heartbeatSavedAt', now + 1_000); // stopped a second after, restarted at once
  const second = new HeartbeatMonitor(options, now + 1_000);
  t.equal(await second.check(now + 49_000), 0, 'the put-off deadline still holds');
  t.equal(await second.check(now + 50_500), 1, 'and is alerted after it');

  // The same device alerted by a server that crashed before saving it: the next server raises nothing more.
  await db.deviceSeen.put(id, { at: now - 100_000, seq: 7, alerted: false, putOff: now + 50_000 });
  await db.meta.put('heartbeatSavedAt', now + 40_000);
  const third = new HeartbeatMonitor(options, now + 120_000);
  t.equal(await third.check(now + 120_000), 0, 'its alert exists: not put off, and not raised twice');
  t.equal(alerts.readAfter(0, 10).length, 1);
});

t.test('heartbeat - a device never heard from whose order started late gets the outage allowance too: a first event due in the outage is put off, not alerted at start-up', async (t) => {
  const { db, registry, alerts, options } = heartbeats(t);
  const now = Date.now();
  // Watched since 200 s ago, never heard from; the server before was last known alive 90 s ago (60 s periods).
  const enrolStarting = async (name: string, from: number) => {
    const id = asDeviceId((await registry.enrol({ subjectId: `subject-${name}`, orderRef: `ORDER-${name}`, categories: ['heartbeat'], from, until: now + DAY }, now - DAY)).deviceId);
    await db.deviceSeen.put(id, { at: now - 200_000, seq: 0, alerted: false, never: true });
    return id;
  };
  const startedBefore = await enrolStarting('late-before', now - 120_000); // first event due 60 s ago, 30 s into the outage
  const startedDuring = await enrolStarting('late-during', now - 80_000); // its order started in the outage
  const overdue = await enrolStarting('late-overdue', now - 170_000); // due 110 s ago, while the server still watched
  const startsLater = await enrolStarting('late-after', now + 40_000); // its order starts after this start: nothing to give back
  await db.meta.put('heartbeatSavedAt', now - 90_000);

  const monitor = new HeartbeatMonitor(options, now);
  t.equal(await monitor.check(now), 1, 'at start-up only the device overdue before the outage is alerted (it used to be all three)');
  t.match(alerts.readAfter(0, 10), [{ deviceId: overdue, eventSeq: 0 }]);
  t.equal(await monitor.check(now + 29_000), 0, 'an order started before the outage: the rest of the first period is given back');
  t.equal(await monitor.check(now + 30_500), 1);
  t.equal(await monitor.check(now + 59_000), 0, 'an order started during the outage: a whole period from this start, as for a device enrolled then');
  t.equal(await monitor.check(now + 60_500), 1);
  t.equal(await monitor.check(now + 99_000), 0, 'an order starting after this start: a period after its start, as before');
  t.equal(await monitor.check(now + 100_500), 1);
  const detail = (id: string) => (alerts.readAfter(0, 10).find((a) => a.deviceId === id)!.match as { detail?: string }).detail;
  t.match(detail(startedBefore), new RegExp(`^no event ever received .*; deadline ${new Date(now + 30_000).toISOString()}$`));
  t.match(detail(startedDuring), new RegExp(`^no event ever received .*; deadline ${new Date(now + 60_000).toISOString()}$`));
  await monitor.save();
  t.match(db.deviceSeen.get(startedDuring), { never: true, putOff: now + 60_000 }, 'the deadline put off is saved, to hold across another restart');
  t.notOk((db.deviceSeen.get(startsLater) as { putOff?: number }).putOff, 'none is saved for the order starting after this start');
});

t.test('heartbeat - across a real stop and start, a device never heard from whose order started while the server was down is not alerted at start-up', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  const config = { policy: { heartbeatSeconds: 1, heartbeatGraceSeconds: 0 } };
  const periodMs = 1000;
  let srv = await startTestServer(tmp.dir, config);
  const port = srv.port;
  const consumer = await consumerToken(tmp.dir);
  // Enrolled while the first server runs, under an order that starts later: watched from its enrolment.
  const from = Date.now() + 3000;
  const { deviceId } = await enrolDevice(tmp.dir, ['heartbeat'], { from, until: from + DAY });
  // The first server watches it a whole period (no event owed yet: the order has not started), then stops.
  await new Promise((r) => setTimeout(r, periodMs + 300));
  await srv.stop();
  const db = openDatabases(tmp.dir);
  const seen = db.deviceSeen.get(deviceId) as { at: number; never?: boolean } | undefined;
  const savedAt = db.meta.get('heartbeatSavedAt') as number;
  await db.root.close();
  t.ok(seen?.never, 'saved as watched and never heard from');
  t.ok(seen!.at + periodMs <= savedAt && savedAt < from, `as set up: stopped a period after watching began, before the order started (${JSON.stringify({ ...seen, savedAt, from })})`);
  // Down until the first event would have been due (the order's start plus a period), and a little more.
  await new Promise((r) => setTimeout(r, Math.max(0, from + periodMs + 300 - Date.now())));
  const restarted = Date.now();
  srv = await startTestServer(tmp.dir, config, port);
  t.teardown(() => srv.stop());
  const [alert] = await waitForAlerts(srv.base, consumer, 1, 0, 10_000);
  t.match(alert, { type: 'vigil.alert.heartbeat', data: { deviceId, eventSeq: 0, match: { rule: 'heartbeat-missed' } } });
  const deadline = Date.parse(/deadline (\S+)$/.exec(alert!.data.match.detail as string)![1]!);
  t.ok(deadline >= restarted + periodMs, `its first event was due a period after the restart (${new Date(deadline).toISOString()}), not in the outage`);
  t.ok(Date.parse(alert!.time) >= deadline, 'and it was alerted after that');
});

t.test('heartbeat - a device heard again after its alert is saved at once, not at the next save (a crash between brought it back as alerted, never to be alerted again)', async (t) => {
  const { db, options, enrolWatched } = heartbeats(t);
  const now = Date.now();
  const id = await enrolWatched('again', now);
  const monitor = new HeartbeatMonitor(options); // not started: no save timer
  monitor.seen(id, 1, now - 61_000);
  t.equal(await monitor.check(now), 1, 'silent past its deadline: alerted');
  await monitor.save();
  t.match(db.deviceSeen.get(id), { alerted: true });
  monitor.seen(id, 2, Date.now());
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 50)); // the save's transaction commits
  t.match(db.deviceSeen.get(id), { seq: 2, alerted: false }, 'saved without waiting for the timer');
  await monitor.stop();
});

t.test('heartbeat - a device whose events are refused is heard: refused events keep it from a heartbeat-missed alert', async (t) => {
  const tmp = tempDir();
  const srv = await startTestServer(tmp.dir, { policy: { heartbeatSeconds: 1, heartbeatGraceSeconds: 0 } });
  t.teardown(async () => { await srv.stop(); tmp.remove() });
  const consumer = await consumerToken(tmp.dir);
  const { token } = await enrolDevice(tmp.dir, ['heartbeat']);
  const dev = await TestDevice.connect(srv.port, token);
  dev.send(heartbeat(1));
  await dev.waitForAck(1);
  // For 2.5 s, an event every 200 ms that its order refuses (as a busy server refuses events RATE_LIMITED): none is
  // stored, but the device is plainly not silent.
  for (let seq = 2; seq <= 13; seq++) {
    dev.send({ type: 'text', seq, at: Date.now(), app: 'x', text: 'hello', source: 'typed' });
    t.match(await dev.waitFor((m) => m.type === 'reject' && m.seq === seq, 2000), { code: 'OUT_OF_SCOPE' });
    await new Promise((res) => setTimeout(res, 200));
  }
  t.same((await readAlerts(srv.base, consumer)).alerts.filter((a) => a.data.match?.rule === 'heartbeat-missed'), [], 'no heartbeat-missed alert was raised');
  await dev.close();
});

t.test('heartbeat - saves do not overlap: the time of a save is written only after every device changed before it', async (t) => {
  const { db, options } = heartbeats(t);
  const now = Date.now();
  const monitor = new HeartbeatMonitor(options);
  const many = SAVE_CHUNK * 4;
  for (let i = 0; i < many; i++) monitor.seen(asDeviceId(`dev-overlap-${i}`), 1, now);
  const first = monitor.save(); // several transactions
  monitor.seen(asDeviceId('dev-overlap-late'), 1, now);
  await monitor.save(); // as a save soon after a device heard again after its alert would
  t.ok(db.meta.get('heartbeatSavedAt') !== undefined, 'the second save wrote its time');
  t.equal(db.deviceSeen.getCount(), many + 1, 'by then every device changed before it is saved too (a crash then lost none)');
  await first;
});

t.test('heartbeat - a save soon writes only the devices heard again after their alert, not every changed device (a whole save each turn held up ingest)', async (t) => {
  const { db, options, enrolWatched } = heartbeats(t);
  const now = Date.now();
  const id = await enrolWatched('soon', now);
  const monitor = new HeartbeatMonitor(options); // not started: no save timer
  monitor.seen(id, 1, now - 61_000);
  t.equal(await monitor.check(now), 1);
  await monitor.save();
  for (let i = 0; i < 100; i++) monitor.seen(asDeviceId(`dev-soon-${i}`), 1, now); // changed, left for the timer's save
  monitor.seen(id, 2, Date.now());
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 50)); // the save's transaction commits
  t.match(db.deviceSeen.get(id), { seq: 2, alerted: false }, 'the device heard again is saved');
  t.equal(db.deviceSeen.getCount(), 1, 'and only it');
  await monitor.stop();
  t.equal(db.deviceSeen.getCount(), 101, 'the rest at the next whole save');
});

t.test('heartbeat - a device enrolled and never heard from is alerted a period after it began to be watched, once, saying no event ever came', async (t) => {
  const { db, registry, alerts, options } = heartbeats(t);
  const now = Date.now();
  const enrol = async (name: string, categories: ('heartbeat' | 'keyboard')[], at: number) =>
    asDeviceId((await registry.enrol({ subjectId: `subject-${name}`, orderRef: `ORDER-${name}`, categories, from: now - DAY, until: now + 30 * DAY }, at)).deviceId);
  // Enrolled a day ago.
  const never = await enrol('never', ['heartbeat'], now - DAY);
  const unwatched = await enrol('unwatched', ['keyboard'], now - DAY);
  const revoked = await enrol('revoked', ['heartbeat'], now - DAY);
  await registry.revokeDevice(revoked);
  // Started 10 s ago, after these were enrolled: they owe their first event from then, not from their enrolment.
  const monitor = new HeartbeatMonitor(options, now - 10_000);
  const later = await enrol('later', ['heartbeat'], now); // enrolled while the monitor runs, as `vigil enrol` does
  const heardOnce = await enrol('heard', ['heartbeat'], now);
  monitor.seen(heardOnce, 1, now);

  t.equal(await monitor.check(now + 49_000), 0, 'within a period of being watched: nothing owed yet');
  t.equal(await monitor.check(now + 50_500), 1, 'a period after the monitor started: the device never heard from is alerted');
  const [first] = alerts.readAfter(0, 10);
  t.match(first, { deviceId: never, eventSeq: 0, eventAt: now - 10_000, category: 'heartbeat', match: { rule: 'heartbeat-missed', signal: 'silence' } });
  t.match((first!.match as { detail?: string }).detail,
    `no event ever received from this device (watched since ${new Date(now - 10_000).toISOString()}); deadline ${new Date(now + 50_000).toISOString()}`);
  const raised = await monitor.check(now + 61_000);
  t.equal(raised, 2, 'the device enrolled later, a period after its enrolment; the one heard once, a period after that');
  const byDevice = new Map(alerts.readAfter(0, 10).map((a) => [a.deviceId, a]));
  t.match((byDevice.get(later)!.match as { detail?: string }).detail, /^no event ever received/);
  t.match((byDevice.get(heardOnce)!.match as { detail?: string }).detail, /^no event for \d+ s/, 'a device heard once is silent, not never heard');
  t.notOk(byDevice.has(unwatched), 'no alert when the order does not authorise the heartbeat category');
  t.notOk(byDevice.has(revoked), 'nor for a revoked device');
  t.equal(await monitor.check(now + 200_000), 0, 'one alert each until heard from');

  await monitor.save();
  t.match(db.deviceSeen.get(never), { at: now - 10_000, seq: 0, alerted: true, never: true }, 'what is saved says it was never heard from');
  monitor.seen(never, 1, now + 201_000);
  await monitor.save();
  t.notOk((db.deviceSeen.get(never) as { never?: boolean }).never, 'heard at last: an ordinary device from then on');
});

t.test('heartbeat - a device never heard from keeps its watched-since time across a restart, and owes nothing before its order starts', async (t) => {
  const { db, registry, alerts, options, enrolWatched } = heartbeats(t);
  const now = Date.now();
  const deviceId = await enrolWatched('nv', now, now - DAY);
  const { deviceId: starts } = await registry.enrol({ subjectId: 'subject-st', orderRef: 'ORDER-st', categories: ['heartbeat'], from: now + DAY, until: now + 2 * DAY }, now - DAY);
  const first = new HeartbeatMonitor(options, now);
  await first.save(); // stopped with the server at once
  t.match(db.deviceSeen.get(deviceId), { at: now, seq: 0, never: true });
  const second = new HeartbeatMonitor(options, now + 5_000); // after 5 s down
  t.equal(await second.check(now + 64_000), 0, 'the 5 s when no server watched do not count');
  t.equal(await second.check(now + 65_500), 1, 'the period ran from when the first server began watching it, less the outage');
  t.match(alerts.readAfter(0, 10), [{ deviceId, eventSeq: 0 }]);

  t.equal(await second.check(now + DAY + 30_000), 0, 'its order started 30 s ago: its first event is not due yet');
  t.equal(await second.check(now + DAY + 61_000), 1, 'a period after the order started: alerted');
  const alert = alerts.readAfter(0, 10).find((a) => a.deviceId === starts)!;
  t.match((alert.match as { detail?: string }).detail, new RegExp(`deadline ${new Date(now + DAY + 60_000).toISOString()}$`), 'the deadline is the order start plus a period');
});

t.test('heartbeat - a device passed over because its order did not ask for heartbeats, or had ended, is alerted a period after a variation asks for them (it never was)', async (t) => {
  const { db, registry, alerts, options } = heartbeats(t);
  const now = Date.now();
  const enrol = async (name: string, categories: ('heartbeat' | 'keyboard')[], until: number) =>
    asDeviceId((await registry.enrol({ subjectId: `subject-${name}`, orderRef: `ORDER-${name}`, categories, from: now - DAY, until }, now)).deviceId);
  const never = await enrol('vary-never', ['keyboard'], now + 30 * DAY); // enrolled, never heard, no heartbeats asked
  const ended = await enrol('vary-ended', ['keyboard', 'heartbeat'], now + 30_000); // heard once, order ends in 30 s
  const revoked = await enrol('vary-revoked', ['keyboard'], now + 30 * DAY);
  const monitor = new HeartbeatMonitor(options, now);
  monitor.seen(ended, 4, now);
  t.equal(await monitor.check(now + 61_000), 0, 'past their deadlines, but not asked for heartbeats: no alert');
  await registry.varyOrder('ORDER-vary-never', { categories: ['keyboard', 'heartbeat'] });
  await registry.varyOrder('ORDER-vary-ended', { until: now + 30 * DAY });
  await registry.varyOrder('ORDER-vary-revoked', { categories: ['keyboard', 'heartbeat'] });
  await registry.revokeDevice(revoked);
  t.equal(await monitor.check(now + 62_000), 0, 'the variations are seen; a period from then is owed');
  await monitor.save();
  t.match(db.deviceSeen.get(never), { alerted: false, putOff: now + 122_000 }, 'that deadline is saved');
  t.equal(await monitor.check(now + 121_000), 0);
  t.equal(await monitor.check(now + 122_500), 2, 'still silent a period after the variations: both alerted');
  const byDevice = new Map(alerts.readAfter(0, 10).map((a) => [a.deviceId, a]));
  t.match(byDevice.get(never), { eventSeq: 0, match: { rule: 'heartbeat-missed', detail: /^no event ever received from this device/ } });
  t.match(byDevice.get(ended), { eventSeq: 4, match: { rule: 'heartbeat-missed', detail: /^no event for 12\d s/ } });
  t.notOk(byDevice.has(revoked), 'a revoked device stays unwatched');

  // Passed over, saved, and its order varied while no server ran: the next server looks at it as it starts.
  const later = await enrol('vary-restart', ['keyboard'], now + 30 * DAY);
  const first = new HeartbeatMonitor(options, now);
  t.equal(await first.check(now + 61_000), 0);
  await first.save();
  t.match(db.deviceSeen.get(later), { alerted: true, skipped: true });
  await registry.varyOrder('ORDER-vary-restart', { categories: ['keyboard', 'heartbeat'] });
  const second = new HeartbeatMonitor(options); // started now
  t.equal(await second.check(now + 59_000), 0);
  t.equal(await second.check(now + 61_000), 1, 'alerted a period after the next server started');
  t.ok(alerts.readAfter(0, 10).some((a) => a.deviceId === later));
});

t.test('heartbeat - a server alerts a device that was enrolled and never connected', async (t) => {
  const tmp = tempDir();
  const srv = await startTestServer(tmp.dir, { policy: { heartbeatSeconds: 1, heartbeatGraceSeconds: 0 } });
  t.teardown(async () => { await srv.stop(); tmp.remove() });
  const consumer = await consumerToken(tmp.dir);
  const enrolled = Date.now();
  const { deviceId } = await enrolDevice(tmp.dir, ['heartbeat']); // by another process's handle, as `vigil enrol` does
  const [alert] = await waitForAlerts(srv.base, consumer, 1, 0, 8000);
  t.match(alert, { type: 'vigil.alert.heartbeat', data: { deviceId, eventSeq: 0, match: { rule: 'heartbeat-missed' } } });
  t.match(alert!.data.match.detail, /^no event ever received from this device/);
  const lateBy = Date.parse(alert!.time) - (enrolled + 1000);
  t.ok(lateBy < 2500, `raised ${lateBy} ms after a period from its enrolment`);
});

t.test('heartbeat - new enrolments are read a slice a check, so that a large registry never holds ingest long', async (t) => {
  const { db, registry, options } = heartbeats(t);
  const now = Date.now();
  const enrolMany = (first: number, n: number) => Promise.all(Array.from({ length: n }, (_, k) => registry.enrol(
    { subjectId: `subject-slice-${first + k}`, orderRef: `ORDER-slice-${first + k}`, categories: ['heartbeat'], from: now - DAY, until: now + DAY }, now)));
  const before = ENROLMENT_SCAN_SLICE + 500;
  await enrolMany(0, before);
  const monitor = new HeartbeatMonitor(options);
  await monitor.save();
  t.equal(db.deviceSeen.getCount(), before, 'at start-up every enrolled device is watched, over several slices');
  await enrolMany(before, ENROLMENT_SCAN_SLICE);
  const total = before + ENROLMENT_SCAN_SLICE;
  t.equal(await monitor.check(now + 10_000), 0);
  await monitor.save();
  t.ok(db.deviceSeen.getCount() < total, `one slice read in a check: ${db.deviceSeen.getCount()} of ${total} watched`);
  for (let i = 0; i < 3; i++) await monitor.check(now + 11_000 + i);
  await monitor.save();
  t.equal(db.deviceSeen.getCount(), total, 'the next checks read the rest');
});
