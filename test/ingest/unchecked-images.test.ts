import t from 'tap';
import type { Category } from '../../core/index.js';
import { TestDevice, consumerToken, enrolDevice, heartbeat, readAlerts, startTestServer, tempDir, waitForAlerts } from '../helpers/vigil.js';
import { pngHeaderOnly } from '../helpers/images.js';

const image = (seq: number, bytes: Uint8Array, at = Date.now()) => ({ type: 'image', seq, at, bytes, source: 'gallery' });
/** Bytes no decoder reads (and no list holds). */
const noise = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104_729) & 255));

t.test('unchecked images - an image refused for its bytes, for its pixels or as undecodable raises a heartbeat alert for its device at once, saying why', async (t) => {
  const tmp = tempDir();
  const srv = await startTestServer(tmp.dir, { ingest: { maxImageBytes: 4096 } });
  t.teardown(async () => { await srv.stop(); tmp.remove() });
  const consumer = await consumerToken(tmp.dir);
  const before = (await readAlerts(srv.base, consumer)).next;
  const cases: [string, Uint8Array, string, Record<string, number>][] = [
    ['over ingest.maxImageBytes, refused on arrival', noise(5000, 1), 'IMAGE_TOO_LARGE', { tooLargeBytes: 1, tooLargePixels: 0, undecodable: 0 }],
    ['a header claiming 300 MP, refused by the analyser', pngHeaderOnly(20_000, 15_000), 'IMAGE_TOO_LARGE', { tooLargeBytes: 0, tooLargePixels: 1, undecodable: 0 }],
    ['bytes no decoder reads, refused by the analyser', noise(1000, 2), 'IMAGE_UNDECODABLE', { tooLargeBytes: 0, tooLargePixels: 0, undecodable: 1 }],
  ];
  const devices: { deviceId: string; at: number }[] = [];
  for (const [name, bytes, code] of cases) {
    const { deviceId, token } = await enrolDevice(tmp.dir);
    const dev = await TestDevice.connect(srv.port, token);
    const at = Date.now() - 1000;
    dev.send(heartbeat(1));
    dev.send(image(2, bytes, at));
    t.match(await dev.waitFor((m) => m.type === 'reject' && m.seq === 2, 10_000), { code }, name);
    await dev.close();
    devices.push({ deviceId, at });
  }
  const alerts = await waitForAlerts(srv.base, consumer, cases.length, before, 10_000);
  t.equal(alerts.length, cases.length, 'one alert per device');
  cases.forEach(([name, , , refused], i) => {
    const { deviceId, at } = devices[i]!;
    t.match(alerts.find((a) => a.data.deviceId === deviceId), {
      type: 'vigil.alert.heartbeat', subject: 'subject-1',
      data: { deviceId, eventSeq: 2, eventAt: at, severity: 'medium', state: 'new',
        match: { kind: 'rule', rule: 'unchecked-images', signal: 'images_refused', refused, detail: /^1 image refused without being checked against any hash list \(seq 2\)/ } },
    }, name);
  });
});

t.test('unchecked images - refusals OUT_OF_SCOPE or RATE_LIMITED, and any refusal of a device whose order does not authorise heartbeats, raise nothing', async (t) => {
  const tmp = tempDir();
  const srv = await startTestServer(tmp.dir, { ingest: { deviceRatePerSecond: 1, deviceBurst: 1 } });
  t.teardown(async () => { await srv.stop(); tmp.remove() });
  const consumer = await consumerToken(tmp.dir);
  const before = (await readAlerts(srv.base, consumer)).next;
  const connect = async (categories: Category[]) => {
    const { deviceId, token } = await enrolDevice(tmp.dir, categories);
    return { deviceId, dev: await TestDevice.connect(srv.port, token) };
  };
  const refusal = async (dev: TestDevice, seq: number) => (await dev.waitFor((m) => m.type === 'reject' && m.seq === seq, 10_000)).code;

  const noHeartbeats = await connect(['image']);
  noHeartbeats.dev.send(image(1, noise(1000, 3)));
  t.equal(await refusal(noHeartbeats.dev, 1), 'IMAGE_UNDECODABLE', 'undecodable, from a device whose order has no heartbeat category');
  const noImages = await connect(['heartbeat']);
  noImages.dev.send(image(1, noise(1000, 4)));
  t.equal(await refusal(noImages.dev, 1), 'OUT_OF_SCOPE', 'an image from a device whose order has no image category');
  const busy = await connect(['image', 'heartbeat']);
  busy.dev.send(heartbeat(1)); // takes its one token
  busy.dev.send(image(2, noise(1000, 5)));
  t.equal(await refusal(busy.dev, 2), 'RATE_LIMITED', 'an image over the device\'s rate');
  // Refused after all of those: its alert is stored after any they raised.
  const watched = await connect(['image', 'heartbeat']);
  watched.dev.send(image(1, noise(1000, 6)));
  t.equal(await refusal(watched.dev, 1), 'IMAGE_UNDECODABLE');
  const [alert] = await waitForAlerts(srv.base, consumer, 1, before, 10_000);
  t.match(alert, { data: { deviceId: watched.deviceId, match: { rule: 'unchecked-images' } } });
  t.same((await readAlerts(srv.base, consumer, before)).alerts.map((a) => a.data.deviceId), [watched.deviceId], 'the only alert');
  await Promise.all([noHeartbeats, noImages, busy, watched].map(({ dev }) => dev.close()));
});
