import t, { type Test } from 'tap';
import pino from 'pino';
import { asDeviceId, Metrics } from '../../core/index.js';
import { AlertFeed, HeartbeatMonitor } from '../../pipeline/index.js';
import { SAVE_CHUNK } from '../../pipeline/heartbeat-monitor.js';
import { AlertStore, RegistryStore, openDatabases } from '../../store/index.js';
import { DAY, TestDevice, consumerToken, enrolDevice, heartbeat, readAlerts, startTestServer, tempDir, waitForAlerts } from '../helpers/vigil.js';


/** A monitor's parts on real LMDB in a temporary folder (60 s heartbeats, no grace). */
function monitorParts(t: Test) {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const registry = new RegistryStore(db);
  const alerts = new AlertStore(db);
  const options = {
    db, registry, alerts, feed: new AlertFeed(alerts), metrics: new Metrics(), log: pino({ level: 'silent' }),
    heartbeatSeconds: 60, graceSeconds: 0,
  };
  return { db, dir: tmp.dir, registry, alerts, options };
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
  const { db, registry, alerts, options } = monitorParts(t);
  const now = Date.now();
  const { deviceId: watched } = await registry.enrol({ subjectId: 'subject-hb', orderRef: 'ORDER-hb', categories: ['heartbeat'], from: now - DAY, until: now + DAY });
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
  const { dir, registry, alerts, options } = monitorParts(t);
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
  const { registry, alerts, options } = monitorParts(t);
  const now = Date.now();
  const { deviceId } = await registry.enrol({ subjectId: 'subject-full', orderRef: 'ORDER-full', categories: ['heartbeat'], from: now - DAY, until: now + DAY });
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
  const { registry, alerts, options } = monitorParts(t);
  const now = Date.now();
  const { deviceId } = await registry.enrol({ subjectId: 'subject-fwd', orderRef: 'ORDER-fwd', categories: ['heartbeat'], from: now - DAY, until: now + DAY });
  const monitor = new HeartbeatMonitor(options);
  monitor.seen(asDeviceId(deviceId), 1, Date.now());
  stepWallClock(t, 3600_000); // NTP sets the clock an hour on, a second after the device was heard
  t.equal(await monitor.check(Date.now()), 0, 'heard a moment ago: not overdue');
  t.same(alerts.readAfter(0, 10), []);
});

t.test('heartbeat - a wall clock set back does not put deadlines off: a device heard after the step, then silent, is alerted on time', async (t) => {
  const { registry, alerts, options } = monitorParts(t);
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
  const { registry, alerts, options } = monitorParts(t);
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
