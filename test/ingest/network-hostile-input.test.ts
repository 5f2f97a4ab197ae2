/**
 * Hostile input on the device socket and the feed: a throw in a uWS callback ends the process, and these tests run
 * the server in their own process, so an input that killed it fails the whole file.
 */
import t from 'tap';
import {
  TestDevice, enrolDevice, heartbeat, httpGet, startTestServer, tempDir, type TestServer,
} from '../helpers/vigil.js';

const tmp = tempDir();
let srv: TestServer;

t.before(async () => {
  srv = await startTestServer(tmp.dir);
});
t.teardown(async () => { await srv.stop(); tmp.remove() });

t.test('device ingest - an event time past the last time a Date holds is BAD_EVENT, not the end of the server', async (t) => {
  const { token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  // Integers, and safe ones, but no time: outside every order, and printed in OUT_OF_SCOPE's message they threw.
  dev.send({ type: 'heartbeat', seq: 1, at: 8.64e15 + 1 });
  dev.send({ type: 'heartbeat', seq: 2, at: Number.MAX_SAFE_INTEGER });
  for (const seq of [1, 2]) {
    const r = await dev.waitFor((m) => m.type === 'reject' && m.seq === seq);
    t.match(r, { code: 'BAD_EVENT', message: /^at must be/ }, `seq ${seq}`);
  }
  // The last time a Date holds is still a time: outside the order.
  dev.send({ type: 'heartbeat', seq: 3, at: 8.64e15 });
  t.match(await dev.waitFor((m) => m.type === 'reject' && m.seq === 3), { code: 'OUT_OF_SCOPE' });
  dev.send(heartbeat(4));
  await dev.waitForAck(4);
  await dev.close();
  t.equal((await httpGet(`${srv.base}/healthz`)).status, 200, 'the server is still up');
});
