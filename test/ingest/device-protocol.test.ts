import t from 'tap';
import { RegistryStore, openDatabases } from '../../store/index.js';
import {
  DAY, TestDevice, httpGet, consumerToken, enrolDevice, heartbeat, readAlerts, startTestServer, tempDir, text, waitForAlerts,
  type TestServer,
} from '../helpers/vigil.js';
import { diskContains } from '../helpers/operators.js';

const tmp = tempDir();
let srv: TestServer;
let consumer: string;

t.before(async () => {
  srv = await startTestServer(tmp.dir, { ingest: { maxFrameBytes: 64 * 1024 } });
  consumer = await consumerToken(tmp.dir);
});
t.teardown(async () => { await srv.stop(); tmp.remove() });

const upgradeStatus = async (token?: string): Promise<number> => {
  try {
    const d = await TestDevice.connect(srv.port, token ?? '');
    await d.close();
    return 101;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
};

t.test('device ingest - refuses a missing, malformed, unknown or revoked token with 401 before the upgrade', async (t) => {
  t.equal(await upgradeStatus(), 401, 'no token');
  t.equal(await upgradeStatus('not-a-token'), 401, 'malformed token');
  const { deviceId, token } = await enrolDevice(tmp.dir);
  t.equal(await upgradeStatus(token.slice(0, -2) + 'xx'), 401, 'wrong secret');
  t.equal(await upgradeStatus(token), 101, 'the right token is accepted');
  const db = openDatabases(tmp.dir);
  await new RegistryStore(db).revokeDevice(deviceId);
  await db.root.close();
  t.equal(await upgradeStatus(token), 401, 'revoked token');
});

t.test('device ingest - a live connection closes with 4401 within seconds of its device being revoked elsewhere', async (t) => {
  const { deviceId, token } = await enrolDevice(tmp.dir, ['heartbeat']);
  const dev = await TestDevice.connect(srv.port, token);
  await dev.waitFor((m) => m.type === 'hello');
  dev.send(heartbeat(1));
  await dev.waitForAck(1);
  await new Promise((r) => setTimeout(r, 2200)); // past a scope refresh with the device connected and nothing changed
  const db = openDatabases(tmp.dir); // as `vigil devices revoke` does, from another process
  await new RegistryStore(db).revokeDevice(deviceId);
  await db.root.close();
  t.equal(await dev.closed(8000), 4401, 'closed as revoked (the scopes are re-read every 2 s)');
});

t.test('device ingest - a live connection follows its order narrowed elsewhere, without reconnecting', async (t) => {
  const db = openDatabases(tmp.dir);
  const registry = new RegistryStore(db);
  const now = Date.now();
  const order = { subjectId: 'subject-narrowed', orderRef: `ORDER-narrowed-${now}`, from: now - DAY, until: now + DAY };
  const { token } = await registry.enrol({ ...order, categories: ['keyboard', 'heartbeat'] });
  const dev = await TestDevice.connect(srv.port, token);
  await dev.waitFor((m) => m.type === 'hello');
  dev.send(heartbeat(1));
  await dev.waitForAck(1);
  await registry.varyOrder(order.orderRef, { categories: ['keyboard'] }); // the same order, now without heartbeat
  await db.root.close();
  let seq = 1;
  const deadline = Date.now() + 8000;
  let refused: Record<string, unknown> | undefined;
  while (!refused && Date.now() < deadline) {
    dev.send(heartbeat(++seq));
    const reply = await dev.waitFor((m) => (m.type === 'ack' && m.upTo === seq) || (m.type === 'reject' && m.seq === seq));
    if (reply.type === 'reject') refused = reply;
    else await new Promise((r) => setTimeout(r, 250));
  }
  t.match(refused, { code: 'OUT_OF_SCOPE' }, `heartbeats are refused once the narrowed order is read (after seq ${seq - 1} was acked)`);
  t.equal(dev.closeCode, undefined, 'on the same connection');
  await dev.close();
});

t.test('device ingest - a live connection closes with 4401 when its order ends, with nothing written meanwhile', async (t) => {
  const { token } = await enrolDevice(tmp.dir, ['heartbeat'], { until: Date.now() + 2500 });
  const dev = await TestDevice.connect(srv.port, token);
  await dev.waitFor((m) => m.type === 'hello');
  t.equal(await dev.closed(9000), 4401, 'the clock alone ends it');
});

t.test('device ingest - refuses a token whose order has ended', async (t) => {
  const { token } = await enrolDevice(tmp.dir, ['keyboard'], { from: Date.now() - 3 * DAY, until: Date.now() - DAY });
  t.equal(await upgradeStatus(token), 401);
});

t.test('device ingest - says hello with lastSeq and policy, then acks cumulatively once durable', async (t) => {
  const { deviceId, token } = await enrolDevice(tmp.dir, ['keyboard', 'heartbeat']);
  const dev = await TestDevice.connect(srv.port, token);
  const hello = await dev.waitFor((m) => m.type === 'hello');
  t.same(hello, { type: 'hello', deviceId, lastSeq: 0, policy: { heartbeatSeconds: 300, categories: ['keyboard', 'heartbeat'] } });
  const accepted = async (type: string): Promise<number> => Number(new RegExp(`^vigil_events_total\\{type="${type}"\\} (\\d+)$`, 'm')
    .exec((await httpGet(`${srv.base}/metrics`)).body)?.[1] ?? 0);
  const [heartbeatsBefore, textsBefore] = [await accepted('heartbeat'), await accepted('text')];
  for (let seq = 1; seq <= 20; seq++) dev.send(heartbeat(seq));
  const ack = await dev.waitForAck(20);
  t.equal(ack.upTo, 20);
  t.equal(await accepted('heartbeat') - heartbeatsBefore, 20, 'each accepted event counted once, under its type');
  t.equal(await accepted('text') - textsBefore, 0, 'and under no other');
  await dev.close();
  const again = await TestDevice.connect(srv.port, token);
  t.equal((await again.waitFor((m) => m.type === 'hello')).lastSeq, 20, 'lastSeq survives the connection');
  await again.close();
});

t.test('device ingest - closes the connection with 1003 on a text frame', async (t) => {
  const { token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  dev.sendRaw('{"type":"heartbeat"}');
  t.equal(await dev.closed(), 1003);
});

t.test('device ingest - rejects bytes that are not MessagePack with BAD_FRAME and keeps the connection', async (t) => {
  const { token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  dev.sendRaw(Buffer.from([0xc1]));
  const r = await dev.waitFor((m) => m.type === 'reject');
  t.match(r, { seq: null, code: 'BAD_FRAME' });
  dev.send(heartbeat(1));
  await dev.waitForAck(1);
  await dev.close();
});

t.test('device ingest - rejects missing or mistyped fields with BAD_EVENT naming the field', async (t) => {
  const { token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  const cases: [Record<string, unknown>, number | null, RegExp][] = [
    [{ type: 'text', seq: 1, at: Date.now(), app: 'x', source: 'typed' }, 1, /text/],
    [{ type: 'text', seq: 2, at: Date.now(), app: 'x', text: 'hi', source: 'shouted' }, 2, /source/],
    [{ type: 'dns', seq: 3, at: 'yesterday', domain: 'a.example' }, 3, /at/],
    [{ type: 'teleport', seq: 4, at: Date.now() }, 4, /type/],
    [{ type: 'heartbeat', seq: -1, at: Date.now() }, null, /seq/],
    [{ type: 'location', seq: 5, at: Date.now(), lat: 91, lon: 0, accuracyM: 5 }, 5, /lat/],
    [{ type: 'image', seq: 6, at: Date.now(), bytes: 'not-binary', source: 'camera' }, 6, /bytes/],
  ];
  for (const [event] of cases) dev.send(event);
  for (const [, seq, message] of cases) {
    const r = await dev.waitFor((m) => m.type === 'reject' && m.seq === seq && message.test(String(m.message)));
    t.equal(r.code, 'BAD_EVENT', `${String(message)} -> BAD_EVENT`);
  }
  await dev.close();
});

t.test('device ingest - closes with 1009 on a frame over the size limit', async (t) => {
  const { token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  dev.send(text(1, 'x'.repeat(70 * 1024)));
  t.equal(await dev.closed(), 1009);
});

t.test('device ingest - rejects a sequence that goes backwards with SEQ_REGRESSION', async (t) => {
  const { token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  dev.send(heartbeat(5));
  await dev.waitForAck(5);
  dev.send(heartbeat(3));
  const r = await dev.waitFor((m) => m.type === 'reject');
  t.match(r, { seq: 3, code: 'SEQ_REGRESSION' });
  await dev.close();
});

t.test('device ingest - rejects events outside the order with OUT_OF_SCOPE and stores nothing of them', async (t) => {
  const { token } = await enrolDevice(tmp.dir, ['heartbeat'], { from: Date.now() - DAY, until: Date.now() + DAY });
  const dev = await TestDevice.connect(srv.port, token);
  dev.send(text(1, 'forbiddenword'));
  t.match(await dev.waitFor((m) => m.type === 'reject' && m.seq === 1), { code: 'OUT_OF_SCOPE', message: /keyboard/ });
  dev.send(heartbeat(2, Date.now() - 5 * DAY));
  t.match(await dev.waitFor((m) => m.type === 'reject' && m.seq === 2), { code: 'OUT_OF_SCOPE', message: /outside order/ });
  dev.send(heartbeat(3));
  t.equal((await dev.waitForAck(3)).upTo, 3);
  const metrics = (await httpGet(`${srv.base}/metrics`)).body;
  t.match(metrics, /vigil_rejects_total\{code="OUT_OF_SCOPE"\} [1-9]/);
  await dev.close();
});

t.test('device ingest - limits each device rate with RATE_LIMITED', async (t) => {
  const tmp2 = tempDir();
  const s2 = await startTestServer(tmp2.dir, { ingest: { deviceRatePerSecond: 1, deviceBurst: 5 } });
  t.teardown(async () => { await s2.stop(); tmp2.remove() });
  const { token } = await enrolDevice(tmp2.dir);
  const dev = await TestDevice.connect(s2.port, token);
  for (let seq = 1; seq <= 10; seq++) dev.send(heartbeat(seq));
  const r = await dev.waitFor((m) => m.type === 'reject');
  t.match(r, { seq: 6, code: 'RATE_LIMITED' });
  t.equal((await dev.waitForAck(5)).upTo, 5);
  await dev.close();
});

t.test('keyboard - a listed keyword raises one alert on the feed and a capture request to the device', async (t) => {
  const { deviceId, token } = await enrolDevice(tmp.dir);
  const before = (await readAlerts(srv.base, consumer)).next;
  const dev = await TestDevice.connect(srv.port, token);
  dev.send(text(1, 'see you at the usual spot, F0rb1dd3n-w0rd! ok'));
  dev.send(text(2, 'nothing to see here'));
  await dev.waitForAck(2);
  const capture = await dev.waitFor((m) => m.type === 'capture');
  t.match(capture, { id: /^cap-/, reason: /keyword/ });
  const alerts = (await waitForAlerts(srv.base, consumer, 1, before)).filter((a) => a.data.deviceId === deviceId);
  t.equal(alerts.length, 1);
  const a = alerts[0]!;
  t.match(a, {
    specversion: '1.0', type: 'vigil.alert.keyboard', subject: 'subject-1', datacontenttype: 'application/json',
    data: { deviceId, eventSeq: 1, severity: 'high', match: { kind: 'keyword', list: 'demo-keywords', version: 1, ref: 'demo-kw-1', term: 'forbiddenword' } },
  });
  t.equal(typeof a.sequence, 'string');
  t.ok(Date.parse(a.time));
  await dev.close();
});

t.test('keyboard - a keyword alert asks for no screenshot when the order does not authorise images', async (t) => {
  const { deviceId, token } = await enrolDevice(tmp.dir, ['keyboard', 'heartbeat']);
  const before = (await readAlerts(srv.base, consumer)).next;
  const dev = await TestDevice.connect(srv.port, token);
  dev.send(text(1, 'see you at the usual spot, F0rb1dd3n-w0rd! ok'));
  await dev.waitForAck(1);
  const alerts = (await waitForAlerts(srv.base, consumer, 1, before)).filter((a) => a.data.deviceId === deviceId);
  t.equal(alerts.length, 1, 'the keyword alert is raised');
  await new Promise((r) => setTimeout(r, 300)); // the capture request went out with the alert, if at all
  t.same(dev.messages.filter((m) => m.type === 'capture'), [], 'no capture request: a screenshot would be refused OUT_OF_SCOPE');
  // Nor one kept for its next connection: a keyword sent just before the device goes away.
  dev.send(text(2, 'and again: F0rb1dd3n-w0rd'));
  await dev.waitForAck(2);
  await dev.close();
  t.equal((await waitForAlerts(srv.base, consumer, 2, before)).filter((a) => a.data.deviceId === deviceId).length, 2);
  const again = await TestDevice.connect(srv.port, token);
  await again.waitFor((m) => m.type === 'hello');
  await new Promise((r) => setTimeout(r, 200));
  t.same(again.messages.filter((m) => m.type === 'capture'), [], 'none after it reconnects');
  await again.close();
});

t.test('web - a listed domain, URL and app each raise a web alert', async (t) => {
  const { deviceId, token } = await enrolDevice(tmp.dir);
  const before = (await readAlerts(srv.base, consumer)).next;
  const dev = await TestDevice.connect(srv.port, token);
  dev.send({ type: 'dns', seq: 1, at: Date.now(), domain: 'cdn.Banned.example.' });
  dev.send({ type: 'url', seq: 2, at: Date.now(), url: 'HTTP://files.example:80/a/../forbidden/x.zip' });
  dev.send({ type: 'app', seq: 3, at: Date.now(), package: 'com.example.hiddenchat', action: 'installed' });
  dev.send({ type: 'dns', seq: 4, at: Date.now(), domain: 'notbanned.example' });
  await dev.waitForAck(4);
  const alerts = (await waitForAlerts(srv.base, consumer, 3, before)).filter((a) => a.data.deviceId === deviceId);
  t.same(alerts.map((a) => [a.type, a.data.eventSeq, a.data.match.kind]), [
    ['vigil.alert.web', 1, 'domain'], ['vigil.alert.web', 2, 'url'], ['vigil.alert.web', 3, 'app'],
  ]);
  t.equal(alerts[1]!.data.severity, 'critical', 'category A maps to critical');
  await dev.close();
});

t.test('device ingest - a resend after reconnect is acked again and raises no second alert', async (t) => {
  const { deviceId, token } = await enrolDevice(tmp.dir);
  const before = (await readAlerts(srv.base, consumer)).next;
  const dev = await TestDevice.connect(srv.port, token);
  dev.send(text(1, 'forbiddenword'));
  await dev.waitForAck(1);
  await dev.close();
  const again = await TestDevice.connect(srv.port, token);
  t.equal((await again.waitFor((m) => m.type === 'hello')).lastSeq, 1);
  again.send(text(1, 'forbiddenword'));
  t.equal((await again.waitForAck(1)).upTo, 1, 'the resend is acknowledged');
  again.send(text(2, 'badword'));
  await again.waitForAck(2);
  const alerts = (await waitForAlerts(srv.base, consumer, 2, before)).filter((a) => a.data.deviceId === deviceId);
  t.same(alerts.map((a) => a.data.eventSeq), [1, 2], 'one alert per event');
  await again.close();
});

t.test('device ingest - a field the protocol does not name is never written to disk; the event still is', async (t) => {
  const { deviceId, token } = await enrolDevice(tmp.dir);
  const before = (await readAlerts(srv.base, consumer)).next;
  const dev = await TestDevice.connect(srv.port, token);
  const marker = 'zq-unnamed-field-7731';
  dev.send({ ...text(1, 'forbiddenword'), note: marker });
  dev.send(text(2, 'badword'));
  await dev.waitForAck(2);
  const alerts = (await waitForAlerts(srv.base, consumer, 2, before)).filter((a) => a.data.deviceId === deviceId);
  t.same(alerts.map((a) => a.data.eventSeq), [1, 2], 'both events are journaled and matched');
  await dev.close();
  t.ok(diskContains(tmp.dir, Buffer.from(deviceId)), 'the search finds what is on disk');
  t.notOk(diskContains(tmp.dir, Buffer.from(marker)), 'the unnamed field is in no byte of the data folder');
});

t.test('operations - an event\'s age when its frame is read is measured from its time on the device', async (t) => {
  const bucket = (m: string, le: string): number =>
    Number(new RegExp(`^vigil_event_age_seconds_bucket\\{le="${le.replace('+', '\\+')}"\\} (\\d+)$`, 'm').exec(m)?.[1] ?? NaN);
  const before = (await httpGet(`${srv.base}/metrics`)).body;
  const { token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  dev.send(heartbeat(1, Date.now() - 10 * 60_000)); // held on the device for ten minutes
  dev.send(heartbeat(2));
  dev.send(heartbeat(3, Date.now() + 60_000)); // a device clock a minute ahead of the server's
  await dev.waitForAck(3);
  await dev.close();
  const after = (await httpGet(`${srv.base}/metrics`)).body;
  const counted = (le: string): number => bucket(after, le) - bucket(before, le);
  t.equal(counted('+Inf'), 3, 'every accepted event is measured once');
  t.equal(counted('300'), 2, 'only the held one is older than five minutes');
  t.equal(counted('900'), 3, 'and it is under fifteen');
  t.equal(counted('10'), 2, 'the other two were read within 10 s');
  t.ok(counted('0.001') >= 1, 'a clock ahead of the server\'s counts as age 0');
});

t.test('operations - /healthz and /metrics answer', async (t) => {
  const h = (await httpGet(`${srv.base}/healthz`)).json() as Record<string, unknown>;
  t.equal(h.status, 'ok');
  const m = (await httpGet(`${srv.base}/metrics`)).body;
  for (const name of ['vigil_device_connections_total', 'vigil_events_total', 'vigil_rejects_total', 'vigil_alerts_total',
    'vigil_pool_queue_depth', 'vigil_ack_latency_seconds_bucket', 'vigil_event_to_alert_latency_seconds_bucket',
    'vigil_event_age_seconds_bucket', 'vigil_event_loop_seconds_total{state="active"}', 'vigil_event_loop_seconds_total{state="idle"}']) {
    t.match(m, name);
  }
  const commits = Number(/^vigil_journal_batch_events_count (\d+)$/m.exec(m)?.[1] ?? NaN);
  const events = Number(/^vigil_journal_batch_events_sum (\d+)$/m.exec(m)?.[1] ?? NaN);
  t.ok(commits > 0, `group commits are counted (${commits})`);
  t.ok(events >= commits, `with the events each carried (${events} in all)`);
  t.equal(Number(/^vigil_journal_commit_seconds_count (\d+)$/m.exec(m)?.[1] ?? NaN), commits, 'and each one timed');
  const nf = await httpGet(`${srv.base}/nope`);
  t.equal(nf.status, 404);
  t.match(nf.json(), { error: { code: 'NOT_FOUND' } });
});
