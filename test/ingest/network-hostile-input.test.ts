/**
 * Hostile input on the device socket and the feed: a throw in a uWS callback ends the process, and these tests run
 * the server in their own process, so an input that killed it fails the whole file.
 */
import t from 'tap';
import WebSocket from 'ws';
import {
  TestDevice, bearerHeader, consumerToken, enrolDevice, heartbeat, httpGet, readAlerts, startTestServer, tempDir, type TestServer,
} from '../helpers/vigil.js';
import { call } from '../helpers/operators.js';

const tmp = tempDir();
let srv: TestServer;

t.before(async () => {
  srv = await startTestServer(tmp.dir);
});
t.teardown(async () => { await srv.stop(); tmp.remove() });

/** The HTTP status of a WebSocket upgrade of `path` with `token` (101 when it opened; it is closed at once). */
function upgradeStatus(path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}${path}`, { headers: { authorization: `Bearer ${token}` } });
    ws.once('open', () => { ws.close(); resolve(101) });
    ws.once('unexpected-response', (_req, res) => { res.resume(); ws.terminate(); resolve(res.statusCode ?? 0) });
    ws.once('error', reject);
  });
}

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

t.test('tokens - a bearer token whose id no key can hold is a 401 on every entry point, not the end of the server', async (t) => {
  const consumer = await consumerToken(tmp.dir);
  const { token } = await enrolDevice(tmp.dir);
  const long = 'a'.repeat(5000); // LMDB refuses keys over 1978 bytes, and a lookup of one throws
  for (const [prefix, what] of [['vc1', 'consumer'], ['vd1', 'device'], ['vo1', 'operator']] as const) {
    const bad = `${prefix}.${long}.secret`;
    const alerts = await httpGet(`${srv.base}/v1/alerts`, bearerHeader(bad));
    t.equal(alerts.status, 401, `GET /v1/alerts with an over-long ${what} token`);
    t.equal((await call('GET', `${srv.base}/v1/me`, { token: bad })).status, 401, `GET /v1/me with an over-long ${what} token`);
    t.equal(await upgradeStatus('/v1/feed', bad), 401, `feed upgrade with an over-long ${what} token`);
    t.equal(await upgradeStatus('/v1/device', bad), 401, `device upgrade with an over-long ${what} token`);
  }
  t.equal(await upgradeStatus('/v1/feed', consumer), 101, 'a real consumer token still opens the feed');
  t.equal(await upgradeStatus('/v1/device', token), 101, 'a real device token still connects');
  t.equal((await httpGet(`${srv.base}/healthz`)).status, 200, 'the server is still up');
});

t.test('feed - a cursor at or past the largest alert sequence (2^32 - 1) is refused as ahead of the feed, not read from its start', async (t) => {
  const consumer = await consumerToken(tmp.dir);
  const { token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  dev.send({ type: 'tamper', seq: 1, at: Date.now(), signal: 'root' });
  await dev.waitForAck(1);
  await dev.close();
  const { alerts } = await readAlerts(srv.base, consumer, 0, 5000);
  t.ok(alerts.length > 0, 'there is an alert to read');
  for (const after of [2 ** 32 - 1, 2 ** 32, 2 ** 33 - 1, Number.MAX_SAFE_INTEGER]) {
    const res = await httpGet(`${srv.base}/v1/alerts?after=${after}`, bearerHeader(consumer));
    t.equal(res.status, 409, `after=${after}`);
    t.match(res.json(), { error: { code: 'CURSOR_AHEAD', head: Number } });
    t.notMatch(res.body, /"alerts"/, 'no alerts from the start of the feed');
  }
});
