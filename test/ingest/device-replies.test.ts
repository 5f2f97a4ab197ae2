import t from 'tap';
import { TestDevice, enrolDevice, heartbeat, startTestServer, tempDir, text, DAY, type Msg, type TestServer } from '../helpers/vigil.js';
import { CLOSE_NOT_READING } from '../../ingest/index.js';

const tmp = tempDir();
let srv: TestServer;

t.before(async () => {
  srv = await startTestServer(tmp.dir, { ingest: { maxImageBytes: 512, maxBackpressureBytes: 1024 } });
});
t.teardown(async () => { await srv.stop(); tmp.remove() });

/** The first message after the `from`-th that satisfies `pred`. */
const after = (dev: TestDevice, from: number, pred: (m: Msg) => boolean): Promise<Msg> =>
  dev.waitFor((m) => dev.messages.indexOf(m) >= from && pred(m));

t.test('seqs - a stored seq sent again is acked again, on the same connection too; one never stored is a SEQ_REGRESSION', async (t) => {
  const { token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  dev.send(heartbeat(1));
  dev.send(heartbeat(2));
  dev.send(heartbeat(5)); // 3 and 4 are never sent
  await dev.waitForAck(5);
  let n = dev.messages.length;
  dev.send(heartbeat(2));
  t.match(await after(dev, n, () => true), { type: 'ack', upTo: 5 }, 'a resend of a stored seq on the same connection is acked');
  n = dev.messages.length;
  dev.send(heartbeat(3));
  t.match(await after(dev, n, () => true), { type: 'reject', seq: 3, code: 'SEQ_REGRESSION', message: /never stored/ });
  await dev.close();

  const again = await TestDevice.connect(srv.port, token);
  t.equal((await again.waitFor((m) => m.type === 'hello')).lastSeq, 5);
  again.send(heartbeat(4));
  t.match(await again.waitFor((m) => m.type === 'reject'), { seq: 4, code: 'SEQ_REGRESSION' }, 'after a reconnect too: never acked as stored');
  n = again.messages.length;
  again.send(heartbeat(1));
  t.match(await after(again, n, () => true), { type: 'ack', upTo: 5 }, 'while a stored one is acked again');
  await again.close();
});

t.test('seqs - an event refused and then resent after later ones were stored is refused again, not acked', async (t) => {
  const { token } = await enrolDevice(tmp.dir, ['heartbeat'], { from: Date.now() - DAY, until: Date.now() + DAY });
  const dev = await TestDevice.connect(srv.port, token);
  dev.send(text(1, 'hello there'));
  t.match(await dev.waitFor((m) => m.type === 'reject'), { seq: 1, code: 'OUT_OF_SCOPE' });
  dev.send(heartbeat(2));
  await dev.waitForAck(2);
  await dev.close();
  const again = await TestDevice.connect(srv.port, token);
  await again.waitFor((m) => m.type === 'hello');
  again.send(text(1, 'hello there'));
  t.match(await again.waitFor((m) => m.type === 'reject' || m.type === 'ack'), { type: 'reject', seq: 1, code: 'SEQ_REGRESSION' },
    'the device is told seq 1 is not stored, although upTo 2 covers it');
  await again.close();
});

t.test('scope - an image the order does not authorise is OUT_OF_SCOPE whatever its size', async (t) => {
  const { token } = await enrolDevice(tmp.dir, ['keyboard']);
  const dev = await TestDevice.connect(srv.port, token);
  const image = (seq: number, bytes: number) => ({ type: 'image', seq, at: Date.now(), bytes: Buffer.alloc(bytes, 7), source: 'gallery' });
  dev.send(image(1, 600));
  t.match(await dev.waitFor((m) => m.type === 'reject' && m.seq === 1), { code: 'OUT_OF_SCOPE' });
  dev.send(image(2, 0));
  t.match(await dev.waitFor((m) => m.type === 'reject' && m.seq === 2), { code: 'OUT_OF_SCOPE' });
  await dev.close();
  const { token: allowed } = await enrolDevice(tmp.dir, ['image']);
  const dev2 = await TestDevice.connect(srv.port, allowed);
  dev2.send(image(1, 600));
  t.match(await dev2.waitFor((m) => m.type === 'reject' && m.seq === 1), { code: 'IMAGE_TOO_LARGE' }, 'in scope, the size is checked');
  await dev2.close();
});

t.test('backpressure - a device that does not read loses no reject: it is sent before any ack covering it, or the device is disconnected', async (t) => {
  const { token } = await enrolDevice(tmp.dir, ['heartbeat']);
  const dev = await TestDevice.connect(srv.port, token);
  await dev.waitFor((m) => m.type === 'hello');
  dev.ws.pause();
  // Each frame is refused with a reject of about 130 bytes: 13 MB of replies, more than the sockets' buffers hold.
  const N = 100_000;
  for (let seq = 1; seq <= N; seq++) dev.send({ type: 'unknown-type', seq, at: Date.now() });
  dev.send(heartbeat(N + 1));
  await new Promise((r) => setTimeout(r, 3000));
  dev.ws.resume();
  const code = await dev.closed(20_000);
  const rejected = new Set<number>();
  let coveredWithout = 0;
  for (const m of dev.messages) {
    if (m.type === 'reject') rejected.add(m.seq as number);
    if (m.type === 'ack') for (let s = 1; s <= Math.min(N, m.upTo as number); s++) if (!rejected.has(s)) coveredWithout++;
  }
  t.equal(coveredWithout, 0, 'no ack covers a refused seq whose reject the device has not had');
  // 1013 when the close frame gets through; uWS cuts a socket that does not answer it within seconds (1006).
  t.ok(code === CLOSE_NOT_READING || code === 1006, `disconnected for not reading: ${code}, after ${rejected.size} rejects`);
  t.ok(rejected.size < N, 'it was disconnected before the end');

  // On its next connection the rejects that waited are delivered after hello, before anything else.
  const again = await TestDevice.connect(srv.port, token);
  const hello = await again.waitFor((m) => m.type === 'hello');
  t.equal(hello.lastSeq, 0, 'nothing was stored');
  await new Promise((r) => setTimeout(r, 500));
  const late = again.messages.filter((m) => m.type === 'reject').map((m) => m.seq as number);
  t.ok(late.length > 0, `the waiting rejects come on the next connection (${late.length})`);
  const all = [...rejected, ...late].sort((a, b) => a - b);
  t.same(all, all.map((_, i) => i + 1), 'together, a reject for every frame read, once each, in order');
  await again.close();
});
