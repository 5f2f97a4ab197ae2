import t from 'tap';
import { TestDevice, enrolDevice, heartbeat, startTestServer, tempDir, text, DAY, type Msg, type TestServer } from '../helpers/vigil.js';
import { CLOSE_NOT_READING } from '../../ingest/index.js';

const tmp = tempDir();
let srv: TestServer;

t.before(async () => {
  srv = await startTestServer(tmp.dir, { ingest: { maxImageBytes: 512, maxBackpressureBytes: 1024, deviceRatePerSecond: 1_000_000, deviceBurst: 1_000_000 } });
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

t.test('backpressure - a device that does not read loses no reject: it comes before any ack covering it, or the device is disconnected', async (t) => {
  const { token } = await enrolDevice(tmp.dir, ['heartbeat']);
  const dev = await TestDevice.connect(srv.port, token);
  await dev.waitFor((m) => m.type === 'hello');
  dev.ws.pause();
  // Every tenth frame is a valid heartbeat (stored, so acked, and each ack covers the nine refused before it); the
  // others are refused with a reject of about 130 bytes: 12 MB of replies, more than the sockets' buffers hold.
  const N = 100_000;
  const valid = (seq: number) => seq % 10 === 0;
  for (let seq = 1; seq <= N; seq++) dev.send(valid(seq) ? heartbeat(seq) : { type: 'unknown-type', seq, at: Date.now() });
  await new Promise((r) => setTimeout(r, 3000));
  dev.ws.resume();
  const code = await dev.closed(20_000);
  // 1013 when the close frame gets through; uWS cuts a socket that does not answer it within seconds (1006).
  t.ok(code === CLOSE_NOT_READING || code === 1006, `disconnected for not reading: ${code}`);

  const again = await TestDevice.connect(srv.port, token);
  const hello = await again.waitFor((m) => m.type === 'hello');
  await new Promise((r) => setTimeout(r, 500));
  await again.close();
  const received = [...dev.messages, ...again.messages];
  const rejected = new Set<number>();
  const order: number[] = [];
  let ackedUpTo = 0;
  let coveredUnannounced = 0;
  for (const m of received) {
    if (m.type === 'reject') { rejected.add(m.seq as number); order.push(m.seq as number) }
    const upTo = m.type === 'ack' ? m.upTo as number : m.type === 'hello' ? m.lastSeq as number : 0;
    for (let s = ackedUpTo + 1; s <= upTo; s++) if (!valid(s) && !rejected.has(s)) coveredUnannounced++;
    ackedUpTo = Math.max(ackedUpTo, upTo);
  }
  t.ok(ackedUpTo >= 10, `acks were sent (up to ${ackedUpTo}), so the check below means something`);
  t.equal(coveredUnannounced, 0, 'no ack or hello covers a refused seq before its reject has come');
  t.ok(ackedUpTo < N, 'the device was disconnected before the end');
  t.equal(hello.lastSeq, ackedUpTo, 'hello says what was stored');
  const highest = Math.max(...order, ackedUpTo);
  const expected = Array.from({ length: highest }, (_, i) => i + 1).filter((s) => !valid(s));
  t.same(order, expected, 'a reject for every refused frame read, once each, in order, across both connections');
});
