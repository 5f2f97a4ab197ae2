import t from 'tap';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, pdqHash, pdqToHex } from '../../matchers/index.js';
import { AlertStore, ListStore, openDatabases, openEvidence } from '../../store/index.js';
import { importListFile } from '../../pipeline/index.js';
import { TestDevice, consumerToken, enrolDevice, httpGet, readAlerts, startTestServer, tempDir, waitForAlerts, type TestServer } from '../helpers/vigil.js';
import { diskContains } from '../helpers/operators.js';
import { animatedWebp, pngHeaderOnly, slowPng } from '../helpers/images.js';

const KEY = Buffer.from('0'.repeat(63) + '1', 'hex');
const tmp = tempDir();
let srv: TestServer;
let consumer: string;

/** A synthetic photo-like image: smooth gradients with a few blobs, different for each seed. */
async function synthetic(seed: number, format: 'png' | 'jpeg' = 'png', width = 320, height = 240): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255 / width + seed * 37) & 255;
      data[i + 1] = (y * 255 / height + Math.sin((x + seed) / 17) * 60 + 60) & 255;
      data[i + 2] = ((x * y) / (width + seed) + seed * 11) & 255;
    }
  }
  const img = sharp(data, { raw: { width, height, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}


const listed = synthetic(1);
const innocent = synthetic(2);
/** Bytes no decoder reads, listed by their MD5. */
const listedGarbage = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7907 + 13) & 255));

t.before(async () => {
  const decoded = await decodeImage(await listed);
  if (!decoded.ok) throw new Error(decoded.message);
  const pdq = pdqToHex(pdqHash(decoded.image).hash);
  const csv = join(tmp.dir, 'hashes.csv');
  const garbageMd5 = createHash('md5').update(listedGarbage).digest('hex');
  writeFileSync(csv, `type,value,category,ref\npdq,${pdq},A,iwf-test-1\nmd5,${'f'.repeat(32)},B,iwf-test-2\nmd5,${garbageMd5},B,iwf-test-3\n`);
  const db = openDatabases(tmp.dir);
  await importListFile(new ListStore(db), 'hashes', 'test-hashes', csv);
  await db.root.close();
  srv = await startTestServer(tmp.dir);
  consumer = await consumerToken(tmp.dir);
});
t.teardown(async () => { await srv.stop(); tmp.remove() });

const image = (seq: number, bytes: Uint8Array, extra: Record<string, unknown> = {}) =>
  ({ type: 'image', seq, at: Date.now(), bytes, source: 'screenshot', ...extra });

t.test('image - a listed image raises an image alert naming list, entry, hash type, distance and threshold', async (t) => {
  const { deviceId, token } = await enrolDevice(tmp.dir);
  const before = (await readAlerts(srv.base, consumer)).next;
  const dev = await TestDevice.connect(srv.port, token);
  const reencoded = await sharp(await listed).jpeg({ quality: 80 }).toBuffer();
  dev.send(image(1, reencoded, { captureId: 'cap-123' }));
  await dev.waitForAck(1, 10_000);
  const [alert] = (await waitForAlerts(srv.base, consumer, 1, before)).filter((a) => a.data.deviceId === deviceId);
  t.match(alert, {
    type: 'vigil.alert.image',
    data: { eventSeq: 1, severity: 'critical', captureId: 'cap-123', evidenceId: /^ev-/,
      match: { kind: 'hash', list: 'test-hashes', version: 1, ref: 'iwf-test-1', hashType: 'pdq', threshold: 31, category: 'A' } },
  });
  t.ok(alert!.data.match.distance <= 31, `a re-encoded copy is near (distance ${alert!.data.match.distance})`);

  t.notOk(diskContains(tmp.dir, reencoded.subarray(200, 264)), 'the evidence is not on disk in the clear');
  const db = openDatabases(tmp.dir);
  t.teardown(() => db.root.close());
  const ev = new AlertStore(db).evidence(alert!.data.evidenceId);
  t.ok(ev, 'the evidence record exists');
  t.same(openEvidence(KEY, deviceId, 1, ev!.sealed), reencoded, 'and decrypts to the image with the evidence key');
  t.throws(() => openEvidence(Buffer.alloc(32, 7), deviceId, 1, ev!.sealed), 'a wrong key cannot open it');
  t.throws(() => openEvidence(KEY, deviceId, 2, ev!.sealed), 'it is bound to its event');
  await dev.close();
});

t.test('image - an image that matches nothing is acknowledged and leaves nothing on disk', async (t) => {
  const { deviceId, token } = await enrolDevice(tmp.dir);
  const before = (await readAlerts(srv.base, consumer)).next;
  const dev = await TestDevice.connect(srv.port, token);
  const bytes = await innocent;
  dev.send(image(1, bytes));
  dev.send({ type: 'heartbeat', seq: 2, at: Date.now() });
  t.equal((await dev.waitForAck(2, 10_000)).upTo, 2, 'events behind the image are acked in order');
  await new Promise((r) => setTimeout(r, 300));
  t.same((await readAlerts(srv.base, consumer, before)).alerts.filter((a) => a.data.deviceId === deviceId), []);
  t.notOk(diskContains(tmp.dir, bytes.subarray(100, 164)), 'no byte run of the image is anywhere in the data folder');
  await dev.close();
});

t.test('image - bad payloads get IMAGE_UNDECODABLE or IMAGE_TOO_LARGE and the worker survives', async (t) => {
  const { token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  const good = await innocent;
  const cases: [string, Uint8Array, string][] = [
    ['truncated PNG', good.subarray(0, Math.floor(good.length / 2)), 'IMAGE_UNDECODABLE'],
    ['random bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 255)), 'IMAGE_UNDECODABLE'],
    ['a PDF header', Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\n'), 'IMAGE_UNDECODABLE'],
    ['zero bytes', Buffer.alloc(0), 'IMAGE_UNDECODABLE'],
    // Only a header: decoded, it would be IMAGE_UNDECODABLE, so IMAGE_TOO_LARGE shows it was refused before any decode.
    ['a header claiming 20000x15000 (300 megapixels)', pngHeaderOnly(20_000, 15_000), 'IMAGE_TOO_LARGE'],
    // Within 250 MP, but shrinking them would hold a worker at GiBs: a row of 10 million pixels (8.3 GiB for a
    // 0.7 MiB PNG of them), an animation's full-size canvas (1.3 GiB from these few hundred bytes).
    ['a header claiming 10000000x25 (250 megapixels in rows too long to shrink)', pngHeaderOnly(10_000_000, 25), 'IMAGE_TOO_LARGE'],
    ['an animated WebP of one-pixel frames on a 16383x15000 canvas', await animatedWebp(16_383, 15_000), 'IMAGE_TOO_LARGE'],
  ];
  cases.forEach(([, bytes], i) => dev.send(image(i + 1, bytes)));
  for (const [name, , code] of cases) {
    const seq = cases.findIndex((c) => c[0] === name) + 1;
    const r = await dev.waitFor((m) => m.type === 'reject' && m.seq === seq, 10_000);
    t.equal(r.code, code, `${name}: ${String(r.message)}`);
  }
  dev.send(image(cases.length + 1, good));
  t.equal((await dev.waitForAck(cases.length + 1, 10_000)).upTo, cases.length + 1, 'a good image after them is processed');
  await dev.close();
});

t.test('image - a listed image re-encoded at 9000x6000 (54 MP, a 108 MP camera\'s scale) is matched from a shrunk decode, where it was refused IMAGE_TOO_LARGE', async (t) => {
  // Over the 50 MP a worker decodes at full size, it is decoded shrunk to 50 MP for the perceptual hashes; the
  // evidence is still the bytes as sent.
  const { deviceId, token } = await enrolDevice(tmp.dir);
  const before = (await readAlerts(srv.base, consumer)).next;
  const dev = await TestDevice.connect(srv.port, token);
  const large = await sharp(await listed).resize(9000, 6000, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer();
  t.ok(large.length < srv.config.ingest.maxImageBytes, `within the byte limit (${large.length} bytes)`);
  dev.send(image(1, large));
  t.match((await dev.waitFor((m) => (m.type === 'reject' && m.seq === 1) || (m.type === 'ack' && (m.upTo as number) >= 1), 30_000)), { type: 'ack' }, 'acknowledged, not refused');
  const [alert] = (await waitForAlerts(srv.base, consumer, 1, before)).filter((a) => a.data.deviceId === deviceId);
  t.match(alert, { type: 'vigil.alert.image', data: { eventSeq: 1, evidenceId: /^ev-/, match: { ref: 'iwf-test-1', hashType: 'pdq', threshold: 31 } } });
  t.ok(alert!.data.match.distance <= 31, `PDQ distance ${alert!.data.match.distance} to the listed hash`);
  const db = openDatabases(tmp.dir);
  t.teardown(() => db.root.close());
  const ev = new AlertStore(db).evidence(alert!.data.evidenceId);
  t.same(openEvidence(KEY, deviceId, 1, ev!.sealed), large, 'the evidence is the 54 MP bytes as sent');
  await dev.close();
});

t.test('image - a listed JPEG with stray bytes before a marker, or its end marker cut off, still matches; so do listed bytes no decoder reads', async (t) => {
  const { deviceId, token } = await enrolDevice(tmp.dir);
  const before = (await readAlerts(srv.base, consumer)).next;
  const dev = await TestDevice.connect(srv.port, token);
  const jpeg = await sharp(await listed).jpeg({ quality: 90 }).toBuffer();
  const sos = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xda);
  // Every viewer shows both; libvips refuses both when strict ("extraneous bytes before marker", "premature end").
  const stray = Buffer.concat([jpeg.subarray(0, sos), Buffer.from([0, 0]), jpeg.subarray(sos)]);
  const noEnd = jpeg.subarray(0, jpeg.length - 2);
  dev.send(image(1, stray));
  dev.send(image(2, noEnd));
  dev.send(image(3, listedGarbage));
  t.equal((await dev.waitForAck(3, 10_000)).upTo, 3, 'all three are acknowledged, not refused');
  const alerts = (await waitForAlerts(srv.base, consumer, 3, before)).filter((a) => a.data.deviceId === deviceId);
  const bySeq = (seq: number) => alerts.find((a) => a.data.eventSeq === seq);
  t.match(bySeq(1), { data: { evidenceId: /^ev-/, match: { ref: 'iwf-test-1', hashType: 'pdq' } } }, 'stray bytes: PDQ match');
  t.match(bySeq(2), { data: { evidenceId: /^ev-/, match: { ref: 'iwf-test-1', hashType: 'pdq' } } }, 'end marker cut: PDQ match');
  t.match(bySeq(3), { data: { evidenceId: /^ev-/, match: { ref: 'iwf-test-3', hashType: 'md5' } } }, 'undecodable bytes: MD5 match');
  const db = openDatabases(tmp.dir);
  t.teardown(() => db.root.close());
  const ev = new AlertStore(db).evidence(bySeq(1)!.data.evidenceId);
  t.same(openEvidence(KEY, deviceId, 1, ev!.sealed), stray, 'the evidence is the bytes as sent');
  // An unlisted image so damaged is still refused.
  const other = await sharp(await innocent).jpeg({ quality: 90 }).toBuffer();
  dev.send(image(4, other.subarray(0, other.length - 2)));
  t.match(await dev.waitFor((m) => m.type === 'reject' && m.seq === 4, 10_000), { code: 'IMAGE_UNDECODABLE' }, 'unlisted and damaged: refused');
  await dev.close();
});

t.test('image - an image over the byte limit is refused before it is decoded', async (t) => {
  const tmp2 = tempDir();
  const s2 = await startTestServer(tmp2.dir, { ingest: { maxImageBytes: 1000 } });
  t.teardown(async () => { await s2.stop(); tmp2.remove() });
  const { token } = await enrolDevice(tmp2.dir);
  const dev = await TestDevice.connect(s2.port, token);
  dev.send(image(1, await innocent));
  t.match(await dev.waitFor((m) => m.type === 'reject'), { seq: 1, code: 'IMAGE_TOO_LARGE', message: /1000/ });
  await dev.close();
});

t.test('image - a burst of images beyond the in-flight limit is refused with RATE_LIMITED, and the rest are processed', async (t) => {
  const tmp2 = tempDir();
  const s2 = await startTestServer(tmp2.dir, { pipeline: { workers: 1, listPollMs: 100, maxImagesInFlight: 2 } });
  t.teardown(async () => { await s2.stop(); tmp2.remove() });
  const bytes = await innocent;
  const devices = await Promise.all(Array.from({ length: 6 }, async () => TestDevice.connect(s2.port, (await enrolDevice(tmp2.dir)).token)));
  for (const d of devices) d.send(image(1, bytes));
  const answers = await Promise.all(devices.map((d) => d.waitFor((m) => m.type === 'ack' || m.type === 'reject', 15_000)));
  const limited = answers.filter((m) => m.type === 'reject');
  t.ok(limited.length > 0 && limited.every((m) => m.code === 'RATE_LIMITED'), `${limited.length} of 6 refused with RATE_LIMITED`);
  t.ok(answers.some((m) => m.type === 'ack'), 'the others are processed and acknowledged');
  await Promise.all(devices.map((d) => d.close()));
});

t.test('image - an image still decoding after ingest.maxImageDecodeSeconds is refused IMAGE_UNDECODABLE, saying it took too long, and counted in /metrics', async (t) => {
  const tmp2 = tempDir();
  const s2 = await startTestServer(tmp2.dir, { ingest: { maxImageDecodeSeconds: 1 } });
  t.teardown(async () => { await s2.stop(); tmp2.remove() });
  const { token } = await enrolDevice(tmp2.dir);
  const dev = await TestDevice.connect(s2.port, token);
  dev.send(image(1, slowPng())); // 5-6 s of one core to decode here
  t.match(await dev.waitFor((m) => m.type === 'reject', 30_000), {
    seq: 1, code: 'IMAGE_UNDECODABLE', message: /^png took too long to decode: stopped after 1 s/,
  });
  const metrics = (await httpGet(`${s2.base}/metrics`)).body;
  t.match(metrics, /^vigil_image_decode_timeouts_total 1$/m, 'counted');
  t.match(metrics, /^vigil_rejects_total\{code="IMAGE_UNDECODABLE"\} 1$/m, 'and refused as any undecodable image');
  await dev.close();
});
