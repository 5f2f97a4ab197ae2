import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Metrics } from '../../core/index.js';
import { AlertFeed, HeartbeatMonitor } from '../../pipeline/index.js';
import { AlertStore, AuditLog, RegistryStore, openDatabases, type ConsumerRecord, type DeviceRecord } from '../../store/index.js';
import { DAY, startTestServer, tempDir, type TestServer } from '../helpers/vigil.js';

const run = fileURLToPath(new URL('../../cli/run.js', import.meta.url));
const tmp = tempDir('vigil-bench-live-');
let srv: TestServer;
t.before(async () => { srv = await startTestServer(tmp.dir) });
t.teardown(async () => { await srv.stop(); tmp.remove() });

/** A budgets file for a tiny swarm, every budget easy. */
const budgets = join(tmp.dir, 'budgets.json');
writeFileSync(budgets, JSON.stringify({
  devices: 3, hitRate: 0.3, listedImageShare: 0.5, offerFactor: 1.1, answerCaptures: true,
  categories: {
    keyboard: { p99Ms: 60_000, minRate: 5, events: { text: 1 } },
    web: { p99Ms: 60_000, minRate: 5, events: { dns: 1, url: 1 } },
    image: { p99Ms: 60_000, minRate: 1, events: { image: 1 } },
    heartbeat: { p99Ms: 60_000, deadlineP99Ms: 60_000, minRate: 5, events: { heartbeat: 1, tamper: 1 } },
    location: { minRate: 1, events: { location: 1 } },
  },
}));

/** `vigil bench --url` against the test server (or `url`), budget phase only, on its data folder. */
function bench(extra: string[] = [], url = srv.base, onStderr?: (all: string) => void) {
  const args = [run, 'bench', '--url', url, '--data', tmp.dir, '--phases', 'budget', '--no-baseline', '--procs', '1',
    '--budgets', budgets, '--devices', '3', '--warmup', '0', '--seconds', '1', '--images', '1,2', '--out', join(tmp.dir, 'results'), ...extra];
  const child = spawn(process.execPath, args, { env: { ...process.env, VIGIL_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += String(d) });
  child.stderr.on('data', (d) => { stderr += String(d); onStderr?.(stderr) });
  const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) }));
  return { child, done };
}

/** The bench's devices and every consumer in the data folder, and the bench's audit entries. */
async function registry() {
  const db = openDatabases(tmp.dir);
  try {
    return {
      devices: [...db.devices.getRange({})].map((e) => e.value as DeviceRecord).filter((d) => d.subjectId.startsWith('bench-subject-')),
      consumers: [...db.consumers.getRange({})].map((e) => e.value as ConsumerRecord),
      audit: (new AuditLog(db).read(1) as { action: string; target: string; details: Record<string, unknown> }[]).filter((e) => e.details.via === 'bench'),
    };
  } finally {
    await db.root.close();
  }
}

/** How many heartbeat-missed alerts a monitor on the data folder raises for `devices` a day on (their orders run 30 days). */
async function owedHeartbeats(devices: readonly string[]): Promise<number> {
  const db = openDatabases(tmp.dir);
  try {
    const alerts = new AlertStore(db);
    const monitor = new HeartbeatMonitor({
      db, registry: new RegistryStore(db), alerts, feed: new AlertFeed(alerts), metrics: new Metrics(), log: pino({ level: 'silent' }),
      heartbeatSeconds: 300, graceSeconds: 30,
    });
    const before = alerts.readAfter(0, 100_000).length;
    await monitor.check(Date.now() + DAY);
    const mine = new Set(devices);
    return alerts.readAfter(0, 100_000).slice(before).filter((a) => mine.has(a.deviceId)).length;
  } finally {
    await db.root.close();
  }
}

const leftFiles = () => ['bench-enrolled.json', 'bench-tokens.json'].filter((f) => existsSync(join(tmp.dir, f)));

t.test('bench --url - revokes the devices and the consumer it enrolled in the running server\'s folder as it ends, audited, and says so (they raised heartbeat alerts for ever)', async (t) => {
  const r = await bench().done;
  t.equal(r.code, 0, r.stderr.slice(-2000));
  const { devices, consumers, audit } = await registry();
  t.ok(devices.length >= 3, `${devices.length} devices enrolled`);
  t.ok(devices.every((d) => d.revokedAt !== undefined), 'every device it enrolled is revoked');
  t.ok(consumers.length > 0 && consumers.every((c) => c.revokedAt !== undefined), 'and its consumer token');
  t.equal(await owedHeartbeats(devices.map((d) => d.deviceId)), 0, 'none of them is ever alerted for silence');
  t.match(r.stdout, new RegExp(`clean-up: revoked the ${devices.length} devices and the consumer token this run enrolled in `));
  const ids = devices.map((d) => `device:${d.deviceId}`).sort();
  t.same(audit.filter((e) => e.action === 'device.enrol').map((e) => e.target).sort(), ids, 'each enrolment audited');
  t.same(audit.filter((e) => e.action === 'device.revoke').map((e) => e.target).sort(), ids, 'each revocation audited');
  t.same(leftFiles(), [], 'nothing left for a later run to retire');
});

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) t.test(`bench --url - stopped with ${signal}, it stops the swarm, revokes what it enrolled and exits ${code}`, async (t) => {
  const before = (await registry()).devices.length;
  let signalled = false;
  const { child, done } = bench(['--seconds', '60'], srv.base, (stderr) => {
    if (!signalled && /\[budget: vigil\] \d+ devices connected/.test(stderr)) { signalled = true; child.kill(signal) }
  });
  const r = await done;
  t.ok(signalled, 'interrupted while measuring');
  t.equal(r.code, code, r.stderr.slice(-2000));
  t.match(r.stderr, new RegExp(`interrupted \\(${signal}\\)`));
  t.match(r.stderr, /revoked the \d+ devices and the consumer token this run enrolled/);
  const { devices, consumers } = await registry();
  t.ok(devices.length > before, 'it had enrolled devices');
  t.ok(devices.every((d) => d.revokedAt !== undefined), 'all revoked');
  t.ok(consumers.every((c) => c.revokedAt !== undefined));
  t.same(leftFiles(), []);
});

t.test('bench --url - a run that fails after enrolling (--data is not the folder of the server at --url) still revokes what it enrolled; a server not there gets nothing enrolled', async (t) => {
  const before = (await registry()).devices.length;
  const closed = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)) });
  });
  const nowhere = await bench([], `http://127.0.0.1:${closed}`).done;
  t.equal(nowhere.code, 1, nowhere.stderr.slice(-2000));
  t.match(nowhere.stderr, new RegExp(`vigil: could not reach http://127.0.0.1:${closed}: .*check --url`));
  t.equal((await registry()).devices.length, before, 'nothing enrolled');

  const otherDir = tempDir('vigil-bench-other-');
  const other = await startTestServer(otherDir.dir);
  t.teardown(async () => { await other.stop(); otherDir.remove() });
  const r = await bench([], other.base).done;
  t.equal(r.code, 1, r.stderr.slice(-2000));
  t.match(r.stderr, /vigil: the feed at .* refused the consumer token \(HTTP 401\): check that --data names the data folder of the server at --url/);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const { devices } = await registry();
  t.ok(devices.length > before, 'it had enrolled devices');
  t.ok(devices.every((d) => d.revokedAt !== undefined), 'all revoked');
  t.same(leftFiles(), []);
});

t.test('bench --url - devices an earlier run left enrolled (killed, or an earlier version\'s bench-tokens.json) are revoked by the next', async (t) => {
  const db = openDatabases(tmp.dir);
  const now = Date.now();
  const order = { categories: ['heartbeat' as const], from: now - DAY, until: now + 30 * DAY };
  let legacy: { deviceId: string; token: string };
  let killed: { deviceId: string; token: string };
  let consumer: { consumerId: string; token: string };
  try {
    const registry = new RegistryStore(db);
    legacy = await registry.enrol({ subjectId: 'bench-subject-0', orderRef: 'BENCH-ORDER-legacy-0', ...order });
    killed = await registry.enrol({ subjectId: 'bench-subject-1', orderRef: 'BENCH-ORDER-killed-1', ...order });
    consumer = await registry.createConsumer();
  } finally {
    await db.root.close();
  }
  writeFileSync(join(tmp.dir, 'bench-tokens.json'), JSON.stringify({ tokens: [legacy.token], consumerToken: consumer.token }));
  // A run still going on the folder is not retired under it: the second run refuses to start.
  writeFileSync(join(tmp.dir, 'bench-enrolled.json'), JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), devices: [killed.deviceId], consumer: 'con-none' }));
  const refused = await bench().done;
  t.equal(refused.code, 2, refused.stderr.slice(-2000));
  t.match(refused.stderr, new RegExp(`another vigil bench \\(pid ${process.pid}, .*\\) has devices enrolled in `));
  // Killed outright: its process is gone.
  const gone = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => gone.once('exit', r));
  writeFileSync(join(tmp.dir, 'bench-enrolled.json'), JSON.stringify({ pid: gone.pid, startedAt: new Date().toISOString(), devices: [killed.deviceId], consumer: 'con-none' }));
  const r = await bench().done;
  t.equal(r.code, 0, r.stderr.slice(-2000));
  t.match(r.stderr, /revoked 2 devices and 1 consumer tokens an earlier run left enrolled/);
  const { devices, consumers } = await registry();
  t.ok(devices.every((d) => d.revokedAt !== undefined), 'those and this run\'s are all revoked');
  t.ok(consumers.every((c) => c.revokedAt !== undefined));
  t.same(leftFiles(), []);
});
