import t from 'tap';
import WebSocket from 'ws';
import { AlertStore, RegistryStore, openDatabases } from '../../store/index.js';
import { checkSchema } from '../helpers/operators.js';
import { TestDevice, bearerHeader, httpGet, consumerToken, enrolDevice, readAlerts, startTestServer, tempDir, text, waitForAlerts, type TestServer } from '../helpers/vigil.js';

const tmp = tempDir();
let srv: TestServer;
let consumer: string;
t.before(async () => { srv = await startTestServer(tmp.dir); consumer = await consumerToken(tmp.dir) });
t.teardown(async () => { await srv.stop(); tmp.remove() });

async function raise(n: number): Promise<string> {
  const { deviceId, token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  for (let i = 1; i <= n; i++) dev.send(text(i, `note ${i}: forbiddenword`));
  await dev.waitForAck(n);
  await dev.close();
  return deviceId;
}

function openFeed(after: number, token = consumer): Promise<{ ws: WebSocket; events: Record<string, any>[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/v1/feed?after=${after}`, { headers: { authorization: `Bearer ${token}` } });
    const events: Record<string, any>[] = [];
    ws.on('message', (d, isBinary) => { t.notOk(isBinary, 'feed frames are text'); events.push(JSON.parse(String(d))) });
    ws.once('open', () => resolve({ ws, events }));
    ws.once('unexpected-response', (_q, res) => reject(Object.assign(new Error('refused'), { status: res.statusCode })));
  });
}

/** The feed's newest sequence now. */
async function feedHead(token = consumer, base = srv.base): Promise<number> {
  const res = await httpGet(`${base}/v1/alerts?limit=1`, bearerHeader(token));
  if (res.status !== 200) throw new Error(`GET /v1/alerts: HTTP ${res.status} ${res.body}`);
  return res.json<{ head: number }>().head;
}

/** How the server closes a feed socket opened at `after`: its close code and reason. */
function feedClose(after: number, base = srv.base): Promise<{ opened: boolean; code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/feed?after=${after}`, { headers: { authorization: `Bearer ${consumer}` } });
    let opened = false;
    ws.once('open', () => { opened = true });
    ws.once('close', (code, reason) => resolve({ opened, code, reason: String(reason) }));
    ws.once('unexpected-response', (_q, res) => reject(new Error(`refused: HTTP ${res.statusCode}`)));
  });
}

const until = async (cond: () => boolean, ms = 8000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

t.test('feed - refuses requests without a consumer token', async (t) => {
  t.equal((await httpGet(`${srv.base}/v1/alerts`)).status, 401);
  const { token } = await enrolDevice(tmp.dir);
  t.equal((await httpGet(`${srv.base}/v1/alerts`, bearerHeader(token))).status, 401, 'a device token is not a consumer token');
  const refused = await openFeed(0, 'vc1.nobody.secret').then(() => 101, (e: { status?: number }) => e.status);
  t.equal(refused, 401, 'feed socket upgrade refused');
});

t.test('feed - rejects bad query parameters with 400', async (t) => {
  for (const q of ['after=-1', 'limit=0', 'limit=abc', 'waitMs=999999999']) {
    const res = await httpGet(`${srv.base}/v1/alerts?${q}`, bearerHeader(consumer));
    t.equal(res.status, 400, q);
    t.match(res.json(), { error: { code: 'BAD_REQUEST' } });
  }
});

t.test('feed - long-poll holds until an alert exists, and returns empty when the wait ends', async (t) => {
  const head = await feedHead();
  const started = Date.now();
  const empty = await readAlerts(srv.base, consumer, head, 300);
  t.same(empty.alerts, []);
  t.equal(empty.next, head);
  t.ok(Date.now() - started >= 250, 'the request was held');
  const pending = readAlerts(srv.base, consumer, head, 8000);
  await new Promise((r) => setTimeout(r, 100));
  await raise(1);
  const got = await pending;
  t.equal(got.alerts.length >= 1, true);
  t.equal(got.next, Number(got.alerts[got.alerts.length - 1]!.sequence));
});

t.test('feed - paging with after and limit visits every alert once, in order', async (t) => {
  const before = (await readAlerts(srv.base, consumer)).alerts.length;
  await raise(7);
  const all = (await waitForAlerts(srv.base, consumer, before + 7)).map((a) => Number(a.sequence));
  const paged: number[] = [];
  let after = 0;
  for (;;) {
    const page = await readAlerts(srv.base, consumer, after, 0, 3);
    if (page.alerts.length === 0) break;
    paged.push(...page.alerts.map((a) => Number(a.sequence)));
    after = page.next;
  }
  t.same(paged, all);
});

t.test('feed - a WebSocket consumer that reconnects with its cursor gets every alert once, in order', async (t) => {
  const start = (await readAlerts(srv.base, consumer)).next;
  const first = await openFeed(start);
  await raise(5);
  await until(() => first.events.length >= 5);
  first.ws.close();
  const cursor = Number(first.events[first.events.length - 1]!.sequence);
  await raise(5);
  const second = await openFeed(cursor);
  await until(() => second.events.length >= 5);
  await new Promise((r) => setTimeout(r, 200));
  const seqs = [...first.events, ...second.events].map((e) => Number(e.sequence));
  t.equal(seqs.length, 10);
  t.same(seqs, [...seqs].sort((a, b) => a - b));
  t.equal(new Set(seqs).size, 10, 'no duplicates');
  t.equal(seqs[0], start + 1);
  second.ws.close();
});

t.test('feed - a consumer that does not read does not stall ingest', async (t) => {
  const start = (await readAlerts(srv.base, consumer)).next;
  const slow = await openFeed(start);
  // Stop reading from the socket: the server's send buffer for it fills up.
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const { token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  const n = 2000;
  const padding = 'x'.repeat(2000);
  for (let i = 1; i <= n; i++) dev.send(text(i, `${padding} forbiddenword ${i}`));
  const ack = await dev.waitForAck(n, 20_000);
  t.equal(ack.upTo, n, 'every event acknowledged while the slow consumer is stuck');
  const alerts = await waitForAlerts(srv.base, consumer, n, start, 20_000);
  t.ok(alerts.length >= n, 'and every alert stored and readable by others');
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  await until(() => slow.events.length >= n, 20_000);
  t.equal(slow.events.length, n, 'the slow consumer catches up without gaps once it reads again');
  slow.ws.terminate();
  await dev.close();
});

t.test('feed - a revoked consumer is refused at once, and its open socket and held long-poll end within seconds', async (t) => {
  const token = await consumerToken(tmp.dir);
  const consumerId = token.split('.')[1]!;
  const head = await feedHead(token);
  const open = await openFeed(head, token);
  const closed = new Promise<number>((resolve) => open.ws.once('close', (code) => resolve(code)));
  const held = httpGet(`${srv.base}/v1/alerts?after=${head}&waitMs=5000`, bearerHeader(token)); // nothing is raised meanwhile
  await new Promise((r) => setTimeout(r, 100));

  // Another process (vigil tokens revoke) revokes it.
  const db = openDatabases(tmp.dir);
  try {
    t.match(await new RegistryStore(db).revokeConsumer(consumerId), { consumerId, revokedAt: Number });
    t.equal(await new RegistryStore(db).revokeConsumer('con-no-such'), null);
  } finally {
    await db.root.close();
  }
  await new Promise((r) => setTimeout(r, 10)); // reads in a later turn see the other process's commit
  t.equal((await httpGet(`${srv.base}/v1/alerts`, bearerHeader(token))).status, 401, 'a new request is refused');
  const refused = await openFeed(0, token).then(() => 101, (e: { status?: number }) => e.status);
  t.equal(refused, 401, 'a new socket is refused');
  const code = await Promise.race([closed, new Promise((r) => setTimeout(() => r('still open'), 8000))]);
  t.equal(code, 4401, 'the open socket is closed as revoked (checked every 2 s)');
  const late = await held;
  t.equal(late.status, 401, 'the long-poll held meanwhile answers 401 when its wait ends');
  t.equal((await readAlerts(srv.base, consumer)).next >= 0, true, 'other consumers read on');
});

t.test('feed - a cursor beyond the head is refused (409 CURSOR_AHEAD, socket closed 4409) naming the head; one at the head waits', async (t) => {
  const before = await feedHead();
  await raise(1);
  await waitForAlerts(srv.base, consumer, 1, before); // raise() returns once the event is stored, before its alert is
  const head = await feedHead();
  t.ok(head > 0);
  for (const q of [`after=${head + 1}`, 'after=99999999', `after=${head + 1}&waitMs=60000`, `after=${Number.MAX_SAFE_INTEGER}&limit=1`]) {
    const res = await httpGet(`${srv.base}/v1/alerts?${q}`, bearerHeader(consumer));
    t.equal(res.status, 409, q);
    const body = res.json();
    t.match(body, { error: { code: 'CURSOR_AHEAD', head } }, `${q}: says where the feed ends`);
    t.match(body.error.message, new RegExp(`beyond the feed's head, ${head}`));
  }
  const doc = (await httpGet(`${srv.base}/v1/openapi.json`)).json();
  const documented = doc.paths['/v1/alerts'].get.responses['409'].content['application/json'].schema;
  const last = await httpGet(`${srv.base}/v1/alerts?after=${head + 1}`, bearerHeader(consumer));
  t.same(checkSchema(last.json(), documented, doc), [], 'as the OpenAPI document says');
  const atHead = await httpGet(`${srv.base}/v1/alerts?after=${head}`, bearerHeader(consumer));
  t.equal(atHead.status, 200, 'a cursor at the head is valid: nothing new yet');
  t.match(atHead.json(), { alerts: [], next: head, head });

  const ahead = await feedClose(head + 1);
  t.equal(ahead.code, 4409, 'the socket is closed as ahead');
  t.match(ahead.reason, new RegExp(`^CURSOR_AHEAD: after=${head + 1} is beyond the feed's head, ${head}$`));
  t.ok(ahead.opened, 'after the upgrade, so that any WebSocket client sees the code and reason');

  const waiting = await openFeed(head);
  await raise(1);
  await until(() => waiting.events.length >= 1);
  t.equal(Number(waiting.events[0]?.sequence), head + 1, 'a socket at the head gets the next alert');
  waiting.ws.close();
});

t.test('feed - alerts deleted by retention leave the head where it was: a cursor at them is not ahead, also after a restart', async (t) => {
  const dir = tempDir();
  let other = await startTestServer(dir.dir);
  t.teardown(async () => { await other.stop(); dir.remove() });
  const token = await consumerToken(dir.dir);
  const { token: device } = await enrolDevice(dir.dir);
  const dev = await TestDevice.connect(other.port, device);
  for (let i = 1; i <= 3; i++) dev.send(text(i, `note ${i}: forbiddenword`));
  await dev.waitForAck(3);
  await dev.close();
  const alerts = await waitForAlerts(other.base, token, 3);
  const cursor = Number(alerts.at(-1)!.sequence);
  await other.stop();
  const db = openDatabases(dir.dir);
  try {
    const future = Date.now() + 86_400_000;
    const swept = await new AlertStore(db).expireBatch(0, { alert: future, dismissedAlert: future, evidence: future }, 'system:retention', 1000);
    t.equal(swept.alertIds.length, 3, 'retention deleted every alert, the newest too');
  } finally {
    await db.root.close();
  }
  other = await startTestServer(dir.dir);
  t.equal(await feedHead(token, other.base), cursor, 'the head is where it was');
  const page = await readAlerts(other.base, token, cursor);
  t.same(page.alerts, [], 'nothing after the cursor');
  t.equal(page.next, cursor);
  t.equal((await httpGet(`${other.base}/v1/alerts?after=${cursor + 1}`, bearerHeader(token))).status, 409);
});
