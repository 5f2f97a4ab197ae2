import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../../bench/server-process.js';
import { TestDevice, consumerToken, enrolDevice, heartbeat, tempDir, text, waitForAlerts } from '../helpers/vigil.js';

/** `vigil serve` in a child process, so that it can be killed outright. */
async function serve(dir: string): Promise<Awaited<ReturnType<typeof startServer>>> {
  const env = { VIGIL_EVIDENCE_KEY: '0'.repeat(63) + '1', VIGIL_CONFIG: join(dir, 'test-config.json') };
  // The device streams and resends thousands of events as fast as it can: no rate limit may refuse any of them.
  writeFileSync(env.VIGIL_CONFIG, JSON.stringify({
    pipeline: { workers: 1, listPollMs: 100 }, ingest: { deviceRatePerSecond: 1_000_000, deviceBurst: 1_000_000 },
  }));
  return startServer('vigil', dir, env);
}

t.test('journal - a server killed with SIGKILL mid-stream loses no acknowledged event and raises no alert twice', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  const consumer = await consumerToken(tmp.dir);
  const { deviceId, token } = await enrolDevice(tmp.dir);
  let srv = await serve(tmp.dir);
  t.teardown(() => srv.stop());
  const total = 3000;
  const keyword = (seq: number) => (seq % 10 === 0 ? text(seq, `msg ${seq} badword`) : heartbeat(seq));
  const dev = await TestDevice.connect(srv.port, token);
  await dev.waitFor((m) => m.type === 'hello');
  // Stream in bursts; kill the server once a good part is acknowledged, while events are still on their way.
  let sent = 0;
  while (sent < 2000) {
    for (let k = 0; k < 100; k++) dev.send(keyword(++sent));
    if (sent === 1000) await dev.waitForAck(500, 10_000);
    await new Promise((r) => setImmediate(r));
  }
  process.kill(srv.pid!, 'SIGKILL');
  await dev.closed();
  const acked = Math.max(0, ...dev.messages.filter((m) => m.type === 'ack').map((m) => m.upTo as number));
  t.ok(acked >= 500, `${acked} of ${sent} acknowledged before the kill`);

  srv = await serve(tmp.dir);
  const dev2 = await TestDevice.connect(srv.port, token);
  const hello = await dev2.waitFor((m) => m.type === 'hello');
  t.ok((hello.lastSeq as number) >= acked, `every acknowledged event (${acked}) is still stored (lastSeq ${hello.lastSeq})`);
  // The device resends everything it has no ack for, overlapping what the server stored, then goes on.
  for (let seq = acked + 1; seq <= total; seq++) dev2.send(keyword(seq));
  await dev2.waitForAck(total, 20_000);
  t.notOk(dev.messages.concat(dev2.messages).some((m) => m.type === 'reject'), 'no event refused');
  const base = `http://127.0.0.1:${srv.port}`;
  const alerts = (await waitForAlerts(base, consumer, total / 10, 0, 20_000)).filter((a) => a.data.deviceId === deviceId);
  t.same(alerts.map((a) => a.data.eventSeq as number), Array.from({ length: total / 10 }, (_, i) => (i + 1) * 10),
    'exactly one alert per keyword event, in order');
  await dev2.close();
});
