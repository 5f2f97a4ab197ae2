import t, { type Test } from 'tap';
import { asDeviceId, type Alert, type Category, type DeviceId } from '../../core/index.js';
import { UncheckedImageMonitor, type UncheckedImage } from '../../pipeline/index.js';
import type { AlertStore, Databases } from '../../store/index.js';
import { DAY, monitorParts } from '../helpers/vigil.js';

const WINDOW_S = 3600;
const WINDOW = WINDOW_S * 1000;

/** A monitor's parts on real LMDB in a temporary folder (an hour's window). */
function unchecked(t: Test) {
  const { parts } = monitorParts(t);
  const { db, registry, alerts } = parts;
  const options = { ...parts, windowSeconds: WINDOW_S };
  /** Enrols subject-`name` under ORDER-`name` with `categories`, in force from a day before `now` to a day after. */
  const enrol = async (name: string, now: number, categories: Category[] = ['image', 'heartbeat']) => asDeviceId((await registry.enrol(
    { subjectId: `subject-${name}`, orderRef: `ORDER-${name}`, categories, from: now - DAY, until: now + DAY }, now)).deviceId);
  return { db, registry, alerts, options, enrol };
}

const bytes = (seq: number, at: number): UncheckedImage => ({ seq, at, reason: 'bytes', stage: 'arrival' });
const pixels = (seq: number, at: number): UncheckedImage => ({ seq, at, reason: 'pixels', stage: 'analysis' });
const undecodable = (seq: number, at: number, stage: UncheckedImage['stage'] = 'analysis'): UncheckedImage => ({ seq, at, reason: 'undecodable', stage });

/** The feed's alerts (no notices), in feed order. */
const stored = (alerts: AlertStore): Alert[] => alerts.readAfter(0, 100).filter((a) => a.notice === undefined);

t.test('unchecked images - the first refusal raises a heartbeat alert at once; the refusals of its window are counted into one alert when it ends', async (t) => {
  const { alerts, options, enrol } = unchecked(t);
  const now = Date.now();
  const deviceId = await enrol('window', now);
  const monitor = new UncheckedImageMonitor(options);
  monitor.refused(deviceId, bytes(3, now - 500), now);
  await monitor.idle();
  let all = stored(alerts);
  t.equal(all.length, 1, 'one alert for the first refusal, at once');
  t.match(all[0], {
    category: 'heartbeat', deviceId, subjectId: 'subject-window', eventSeq: 3, eventAt: now - 500, severity: 'medium',
    match: { kind: 'rule', rule: 'unchecked-images', signal: 'images_refused', refused: { tooLargeBytes: 1, tooLargePixels: 0, undecodable: 0 },
      detail: /^1 image refused without being checked against any hash list \(seq 3\) since .*: 1 over the byte limit \(IMAGE_TOO_LARGE\)$/ },
  });
  // A gallery sync goes on: three more refused within the window, one of them twice (a resend).
  monitor.refused(deviceId, pixels(4, now + 1000), now + 1000);
  monitor.refused(deviceId, undecodable(5, now + 2000), now + 2000);
  monitor.refused(deviceId, bytes(6, now + 3000), now + 3000);
  monitor.refused(deviceId, bytes(6, now + 3000), now + 4000);
  await monitor.idle();
  t.equal(stored(alerts).length, 1, 'nothing more while the window is open');
  t.equal(await monitor.check(now + WINDOW - 1000), 0, 'nor just before it ends');
  t.equal(await monitor.check(now + WINDOW + 1), 1, 'when it ends: one alert for the three');
  all = stored(alerts);
  t.match(all[1], {
    category: 'heartbeat', deviceId, eventSeq: 4, eventAt: now + 1000,
    match: { rule: 'unchecked-images', refused: { tooLargeBytes: 1, tooLargePixels: 1, undecodable: 1 },
      detail: /^3 images refused without being checked against any hash list \(seq 4 to 6\) since .*: 1 over the byte limit \(IMAGE_TOO_LARGE\), 1 over the pixel limit or too large to decode shrunk \(IMAGE_TOO_LARGE\), 1 undecodable \(IMAGE_UNDECODABLE\)$/ },
  });
  t.equal(await monitor.check(now + 2 * WINDOW + 2), 0, 'a window with nothing counted raises nothing');
  monitor.refused(deviceId, undecodable(7, now + 2 * WINDOW + 3), now + 2 * WINDOW + 3);
  await monitor.idle();
  t.match(stored(alerts).map((a) => a.eventSeq), [3, 4, 7], 'after a quiet window the next refusal is alerted at once again');
});

t.test('unchecked images - a device whose order does not authorise the heartbeat category raises nothing, and nothing of it is kept', async (t) => {
  const { db, alerts, options, enrol } = unchecked(t);
  const now = Date.now();
  const imagesOnly = await enrol('images-only', now, ['image']);
  const monitor = new UncheckedImageMonitor(options);
  monitor.refused(imagesOnly, bytes(1, now), now);
  monitor.refused(imagesOnly, undecodable(2, now), now);
  await monitor.idle();
  t.equal(await monitor.check(now + WINDOW + 1), 0);
  t.same(stored(alerts), [], 'no alert');
  t.equal(db.uncheckedImages.get(imagesOnly), undefined, 'no count kept');
});

t.test('unchecked images - an image refused by the analyser after a later one refused on arrival is counted; a resend of either is not', async (t) => {
  const { alerts, options, enrol } = unchecked(t);
  const now = Date.now();
  const deviceId = await enrol('order', now);
  const monitor = new UncheckedImageMonitor(options);
  // Seq 5 is being analysed while 6 and 7, too large, are refused as they arrive; then 5 is found undecodable.
  monitor.refused(deviceId, bytes(6, now), now);
  monitor.refused(deviceId, bytes(7, now), now);
  monitor.refused(deviceId, undecodable(5, now - 10), now + 10);
  // The device reconnects and sends 7 and 5 again (it never read their rejects).
  monitor.refused(deviceId, bytes(7, now), now + 20);
  monitor.refused(deviceId, undecodable(5, now - 10), now + 30);
  await monitor.idle();
  t.equal(await monitor.check(now + WINDOW + 1), 1);
  t.match(stored(alerts), [
    { eventSeq: 6, match: { refused: { tooLargeBytes: 1, tooLargePixels: 0, undecodable: 0 } } },
    { eventSeq: 5, eventAt: now - 10, match: { refused: { tooLargeBytes: 1, tooLargePixels: 0, undecodable: 1 }, detail: /\(seq 5 to 7\)/ } },
  ]);
});

/** `db` with writes of the unchecked-images records that `drop` picks never reaching disk, as if the process died first. */
function losingWrites(db: Databases, drop: (saved: { raising?: unknown }) => boolean): Databases {
  const records = db.uncheckedImages;
  const put = records.put.bind(records);
  const lossy = Object.create(records) as typeof records;
  lossy.put = ((key: string, value: { raising?: unknown }) => drop(value) ? Promise.resolve(true) : put(key, value)) as typeof records.put;
  return { ...db, uncheckedImages: lossy };
}

t.test('unchecked images - refusals counted in a window survive a crash and are raised when it ends, once', async (t) => {
  const { alerts, options, enrol } = unchecked(t);
  const now = Date.now();
  const deviceId = await enrol('crash', now);
  const first = new UncheckedImageMonitor(options);
  first.refused(deviceId, bytes(1, now), now);
  first.refused(deviceId, bytes(2, now), now + 1000);
  first.refused(deviceId, pixels(3, now), now + 2000);
  await first.idle(); // on disk, as they are within milliseconds; then the process dies (no stop)
  t.equal(stored(alerts).length, 1, 'the first alerted before the crash');

  const second = new UncheckedImageMonitor(options);
  t.equal(await second.check(now + WINDOW - 1000), 0, 'the window still runs after the restart');
  t.equal(await second.check(now + WINDOW + 1), 1, 'when it ends, the two counted before the crash are raised');
  t.match(stored(alerts), [
    { eventSeq: 1, match: { refused: { tooLargeBytes: 1 } } },
    { eventSeq: 2, match: { refused: { tooLargeBytes: 1, tooLargePixels: 1 } } },
  ]);
  const third = new UncheckedImageMonitor(options);
  t.equal(await third.check(now + 3 * WINDOW), 0, 'and not again by the next start');
  t.equal(stored(alerts).length, 2);
});

t.test('unchecked images - an alert stored just before a crash that came before its record was saved is not raised again', async (t) => {
  const { db, alerts, options, enrol } = unchecked(t);
  const now = Date.now();
  const deviceId = await enrol('twice', now);
  // The process dies once the alert is stored, before the record saying so is written.
  const first = new UncheckedImageMonitor({ ...options, db: losingWrites(db, (saved) => saved.raising === undefined) });
  first.refused(deviceId, undecodable(9, now, 'arrival'), now);
  await first.idle();
  t.equal(stored(alerts).length, 1, 'stored');
  t.ok((db.uncheckedImages.get(deviceId) as { raising?: unknown }).raising, 'its record still says it is being raised');

  const second = new UncheckedImageMonitor(options);
  t.equal(await second.check(now + 1000), 0, 'raised again at start: the same alert, skipped');
  t.equal(stored(alerts).length, 1, 'one alert');
  await second.idle();
  t.equal((db.uncheckedImages.get(deviceId) as { raising?: unknown }).raising, undefined, 'and its record is cleared');
  second.refused(deviceId, undecodable(9, now, 'arrival'), now + 2000);
  second.refused(deviceId, undecodable(10, now, 'arrival'), now + 2000);
  t.equal(await second.check(now + WINDOW - 1), 0, 'the window was kept too');
  t.equal(await second.check(now + WINDOW + 1), 1);
  t.match(stored(alerts), [{ eventSeq: 9 }, { eventSeq: 10, match: { refused: { undecodable: 1 } } }],
    'seq 9, counted before the crash, was not counted again');
});

t.test('unchecked images - an alert whose commit fails (a full disk, say) is raised at the next check, not lost', async (t) => {
  const { alerts, options, enrol } = unchecked(t);
  const now = Date.now();
  const deviceId: DeviceId = await enrol('full', now);
  const monitor = new UncheckedImageMonitor(options);
  const commit = alerts.commit.bind(alerts);
  alerts.commit = async () => { throw new Error('MDB_MAP_FULL: Environment mapsize limit reached') };
  monitor.refused(deviceId, bytes(1, now), now);
  monitor.refused(deviceId, bytes(2, now), now + 1000);
  await monitor.idle();
  alerts.commit = commit;
  t.same(stored(alerts), []);
  t.equal(await monitor.check(now + 2000), 1, 'the first, at the next check');
  t.equal(await monitor.check(now + WINDOW + 1), 1, 'the second, when the window ends');
  t.match(stored(alerts).map((a) => a.eventSeq), [1, 2]);
});

t.test('unchecked images - counts held for an order that no longer authorises the heartbeat category are dropped, not raised', async (t) => {
  const { registry, alerts, options, enrol } = unchecked(t);
  const now = Date.now();
  const deviceId = await enrol('varied', now);
  const monitor = new UncheckedImageMonitor(options);
  monitor.refused(deviceId, bytes(1, now), now);
  monitor.refused(deviceId, bytes(2, now), now + 1000);
  await monitor.idle();
  await registry.revokeDevice(deviceId);
  t.equal(await monitor.check(now + WINDOW + 1), 0);
  t.match(stored(alerts).map((a) => a.eventSeq), [1], 'only the alert raised while it was in force');
});
