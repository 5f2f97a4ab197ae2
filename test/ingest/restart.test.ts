import t from 'tap';
import {
  TestDevice, consumerToken, enrolDevice, readAlerts, startTestServer, tempDir, text, heartbeat, waitForAlerts,
} from '../helpers/vigil.js';

t.test('journal - a server restart mid-stream loses no acknowledged event and raises no alert twice', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  let srv = await startTestServer(tmp.dir);
  const port = srv.port;
  const consumer = await consumerToken(tmp.dir);
  const { deviceId, token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(port, token);
  // Every 10th event carries a listed term; stream 300 and stop the server while they flow.
  const total = 300;
  let sent = 0;
  const keyword = (seq: number) => (seq % 10 === 0 ? text(seq, `msg ${seq} badword`) : heartbeat(seq));
  for (; sent < 150; ) dev.send(keyword(++sent));
  await srv.stop();
  await dev.closed();
  const acked = Math.max(0, ...dev.messages.filter((m) => m.type === 'ack').map((m) => m.upTo as number));

  srv = await startTestServer(tmp.dir, {}, port);
  t.teardown(() => srv.stop());
  const dev2 = await TestDevice.connect(port, token);
  const hello = await dev2.waitFor((m) => m.type === 'hello');
  t.ok((hello.lastSeq as number) >= acked, `every acked event (${acked}) is still stored (lastSeq ${hello.lastSeq})`);
  // The device resends from what it has no ack for, overlapping what the server stored, then goes on.
  for (let seq = acked + 1; seq <= total; seq++) dev2.send(keyword(seq));
  await dev2.waitForAck(total, 10_000);
  const alerts = (await waitForAlerts(srv.base, consumer, total / 10, 0, 10_000)).filter((a) => a.data.deviceId === deviceId);
  const seqs = alerts.map((a) => a.data.eventSeq as number);
  t.same(seqs, Array.from({ length: total / 10 }, (_, i) => (i + 1) * 10), 'exactly one alert per keyword event, in order');
  const feed = await readAlerts(srv.base, consumer);
  const sequences = feed.alerts.map((a) => Number(a.sequence));
  t.same(sequences, [...sequences].sort((a, b) => a - b), 'feed sequence strictly increases');
  t.equal(new Set(sequences).size, sequences.length);
  await dev2.close();
});
