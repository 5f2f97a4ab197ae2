import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditLog, openDatabases, type ConsumerRecord, type DeviceRecord } from '../../store/index.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/vigil.js';

const run = fileURLToPath(new URL('../../cli/run.js', import.meta.url));
const tmp = tempDir();
let srv: TestServer;
t.before(async () => { srv = await startTestServer(tmp.dir) });
t.teardown(async () => { await srv.stop(); tmp.remove() });
const env = { ...process.env, VIGIL_DATA: tmp.dir, VIGIL_LOG_LEVEL: 'silent' };
/** Runs vigil simulate in a child process; not spawnSync, which would block the server running in this one. */
function simulate(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return simulateOn(srv.base, tmp.dir, ...args);
}
function simulateOn(base: string, dataDir: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [run, 'simulate', '--url', base, ...args], { env: { ...env, VIGIL_DATA: dataDir } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += String(d) });
  child.stderr.on('data', (d) => { stderr += String(d) });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => child.once('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }) }));
}

/** What the data folder holds: simulated devices, consumers, and the audit log. */
async function registry(): Promise<{ devices: DeviceRecord[]; consumers: ConsumerRecord[]; audit: { action: string; target: string; details: Record<string, unknown> }[] }> {
  const db = openDatabases(tmp.dir);
  try {
    return {
      devices: [...db.devices.getRange({})].map((e) => e.value as DeviceRecord).filter((d) => d.subjectId.startsWith('sim-subject-')),
      consumers: [...db.consumers.getRange({})].map((e) => e.value as ConsumerRecord),
      audit: new AuditLog(db).read(1) as never,
    };
  } finally {
    await db.root.close();
  }
}

t.test('simulate - counts must be what they say: a positive integer of devices, seconds above 0, a rate of 0 or more', async (t) => {
  for (const [args, message] of [
    [['--devices', '0.5'], /--devices must be a positive integer, got "0.5"/],
    [['--devices', '0'], /--devices must be a positive integer/],
    [['--rate', ''], /--rate must be events per second/],
    [['--rate=-1'], /--rate must be/],
    [['--rate', '-1'], /^vigil: --rate must be events per second per device, 0 or more .*, got "-1"$/],
    [['--devices', '-2'], /^vigil: --devices must be a positive integer, got "-2"$/],
    [['--seconds', '-0.5'], /^vigil: --seconds must be a positive number of seconds, got "-0.5"$/],
    [['--hit-rate', '-.1'], /^vigil: --hit-rate must be between 0 and 1, got "-.1"$/],
    [['--rate', '--seconds', '3'], /^vigil: --rate needs a value \(got the option --seconds\)$/],
    [['--seconds', '0'], /--seconds must be a positive number/],
    [['--seconds', 'ten'], /--seconds must be/],
  ] as const) {
    const r = await simulate(...args);
    t.equal(r.status, 2, args.join(' '));
    t.match(r.stderr.trim(), message);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  t.equal((await registry()).devices.length, 0, 'nothing enrolled');
});

t.test('simulate - --url must be the address of the server: http, https, ws or wss, with a host', async (t) => {
  for (const [url, message] of [
    ['ftp://127.0.0.1:8080', /^vigil: --url "ftp:\/\/127.0.0.1:8080" must be http, https, ws or wss/],
    ['mailto:ops@example.test', /^vigil: --url "mailto:ops@example.test" must be http, https, ws or wss/],
    ['127.0.0.1:8080', /^vigil: --url "127.0.0.1:8080" must be http, https, ws or wss .*, e\.g\. http:\/\/127\.0\.0\.1:8080$/],
    ['http://', /^vigil: --url "http:\/\/" is not a URL/],
    ['http://:8080', /^vigil: --url "http:\/\/:8080" is not a URL/],
    ['localhost:8080', /^vigil: --url "localhost:8080" must be http, https, ws or wss/],
    // WHATWG URL reads the host here as "v1": the path left is not /v1/device.
    ['http:///v1/device', /^vigil: --url "http:\/\/\/v1\/device": simulate connects to \/v1\/device on the server; give its address alone/],
    ['http://127.0.0.1:8080/vigil', /^vigil: --url "http:\/\/127.0.0.1:8080\/vigil": simulate connects to \/v1\/device on the server; give its address alone/],
    ['http://127.0.0.1:8080/?token=x', /give its address alone/],
  ] as const) {
    const r = spawnSync(process.execPath, [run, 'simulate', '--url', url, '--token', 'vd1.dev-x.y', '--devices', '1'], { env, encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 2, url);
    t.match(r.stderr.trim(), message);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  for (const url of ['http://127.0.0.1:1', 'ws://127.0.0.1:1/', 'wss://127.0.0.1:1/v1/device', 'HTTPS://127.0.0.1:1']) {
    const r = spawnSync(process.execPath, [run, 'simulate', '--url', url, '--token', 'vd1.dev-x.y', '--devices', '1'], { env, encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 1, `${url}: taken, and refused only for want of a server`);
    t.match(r.stderr, /could not connect a device to wss?:\/\/127\.0\.0\.1:1\/v1\/device/);
  }
});

t.test('simulate - a wrong data folder or a refused token is a one-line error saying what to check, and creates nothing', async (t) => {
  const nowhere = join(tmp.dir, 'not-the-server');
  const wrong = spawnSync(process.execPath, [run, '--data', nowhere, 'simulate', '--url', srv.base, '--devices', '1'], { env, encoding: 'utf8', timeout: 60_000 });
  t.equal(wrong.status, 2);
  t.match(wrong.stderr, /no Vigil data folder at .*not-the-server.*--data/);
  t.notOk(existsSync(nowhere), 'no new data folder');
  const refused = await simulate('--token', 'vd1.dev-nobody.secret', '--devices', '1', '--seconds', '1');
  t.equal(refused.status, 1);
  t.match(refused.stderr, /refused a device token \(HTTP 401\): check the tokens given/);
  t.notMatch(refused.stderr, /unexpected error|\n\s+at /, 'no stack trace');
  t.equal(refused.stderr.trim().split('\n').length, 1, 'one line');
});

t.test('simulate - enrols its devices and consumer audited, and revokes them when the run ends', async (t) => {
  const r = await simulate('--devices', '3', '--rate', '2', '--seconds', '1', '--json');
  t.equal(r.status, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { devices: 3, unacked: 0, pacedBy: 'rate', revokedAtEnd: { devices: 3, consumer: true } });
  t.match(r.stderr, /revoked the 3 devices and the consumer token this run enrolled/);
  const { devices, consumers, audit } = await registry();
  t.equal(devices.length, 3);
  t.ok(devices.every((d) => d.revokedAt !== undefined), 'every device it enrolled is revoked: none owes a heartbeat');
  t.ok(consumers.every((c) => c.revokedAt !== undefined), 'and its consumer token');
  const mine = audit.filter((e) => e.details.via === 'simulate');
  t.same(mine.filter((e) => e.action === 'device.enrol').map((e) => e.target).sort(), devices.map((d) => `device:${d.deviceId}`).sort(), 'each enrolment audited');
  t.same(mine.filter((e) => e.action === 'device.revoke').map((e) => e.target).sort(), devices.map((d) => `device:${d.deviceId}`).sort(), 'each revocation audited');
  t.equal(mine.filter((e) => e.action === 'consumer.create').length, 1);
  t.equal(mine.filter((e) => e.action === 'consumer.revoke').length, 1);
});

/** Starts a run, sends it `signal` once its devices are connected, and gives its exit code and output. */
async function interrupted(signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [run, 'simulate', '--url', srv.base, '--devices', '2', '--rate', '1', '--seconds', '60'], { env });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => { stdout += String(d) });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => { stderr += String(d); if (/devices connected/.test(stderr)) resolve() });
    child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
  });
  child.kill(signal);
  return { code: await exited, stdout, stderr };
}

// Ctrl-C, `kill` or `timeout` (SIGTERM), a service stop (SIGTERM), a closed terminal (SIGHUP): each must wind up.
let before = 3; // the devices of the run in the test before
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  t.test(`simulate - stopped by ${signal}, it still revokes what it enrolled, and exits ${code}`, async (t) => {
    const r = await interrupted(signal);
    t.equal(r.code, code, r.stderr);
    t.match(r.stderr, new RegExp(`interrupted \\(${signal}\\): winding up`));
    t.match(r.stdout, /clean-up\s+the 2 devices and the consumer token this run enrolled are revoked as it ends/);
    const { devices, consumers } = await registry();
    before += 2;
    t.equal(devices.length, before, 'those of the runs before, and two from this one');
    t.ok(devices.every((d) => d.revokedAt !== undefined), 'all revoked');
    t.ok(consumers.every((c) => c.revokedAt !== undefined));
  });
}

/** Python's pty module opens a real terminal; Node has none without a native module. */
const hasPython = spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' }).status === 0;
/** Runs argv[1:] in a new terminal, reads it until the devices are connected, then closes the terminal. */
const IN_A_CLOSED_TERMINAL = `
import os, pty, select, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen = b''
while b'devices connected' not in seen:
    if not select.select([fd], [], [], 60)[0]: sys.exit('not connected within 60 s: ' + seen.decode(errors='replace'))
    seen += os.read(fd, 4096)
os.close(fd)  # the kernel sends the command SIGHUP, and its writes to the terminal fail from now on (EIO)
os.waitpid(pid, 0)
`;

t.test('simulate - in a terminal that is closed, it still revokes what it enrolled (its writes fail, EIO)', { skip: hasPython ? false : 'no python3 for a pty' }, async (t) => {
  const child = spawn('python3', ['-c', IN_A_CLOSED_TERMINAL, process.execPath, run, 'simulate', '--url', srv.base,
    '--devices', '2', '--rate', '1', '--seconds', '60'], { env });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += String(d) });
  t.equal(await new Promise<number | null>((resolve) => child.once('close', resolve)), 0, stderr);
  // Not its exit code: Node 20 aborts at exit when it cannot reset a terminal that is gone (nodejs/node#51519).
  const { devices, consumers } = await registry();
  before += 2;
  t.equal(devices.length, before, 'those of the runs before, and two from this one');
  t.ok(devices.every((d) => d.revokedAt !== undefined), 'all revoked');
  t.ok(consumers.every((c) => c.revokedAt !== undefined));
});

t.test('simulate - piped into a reader that stops early (| head -3), it still revokes what it enrolled', async (t) => {
  const child = spawn(process.execPath, [run, 'simulate', '--url', srv.base, '--devices', '2', '--rate', '2', '--seconds', '1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // as head does once it has its lines: the summary's writes get EPIPE
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += String(d) });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.equal(code, 0, stderr);
  t.match(stderr, /revoked the 2 devices and the consumer token this run enrolled/);
  const { devices, consumers } = await registry();
  t.ok(devices.length >= 2 && devices.every((d) => d.revokedAt !== undefined), 'every simulated device is revoked');
  t.ok(consumers.every((c) => c.revokedAt !== undefined));
});

t.test('simulate - refused RATE_LIMITED, a device pauses and sends the event again, and --rate 0 says the limit set the pace', async (t) => {
  const dir = tempDir();
  const limited = await startTestServer(dir.dir, { ingest: { deviceRatePerSecond: 20, deviceBurst: 5 } });
  t.teardown(async () => { await limited.stop(); dir.remove() });
  const r = await simulateOn(limited.base, dir.dir, '--devices', '2', '--rate', '0', '--seconds', '2', '--json');
  t.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  const refusals: number = s.rejects.RATE_LIMITED;
  t.ok(refusals > 0, 'the limit was reached');
  t.equal(s.pacedBy, 'rate-limited');
  t.equal(s.rateLimited.refusals, refusals);
  t.equal(refusals, s.rateLimited.sentAgain + s.rateLimited.heldAtEnd, 'each refusal was sent again, or is still held: none is lost');
  const otherRejects = Object.entries(s.rejects as Record<string, number>).filter(([code]) => code !== 'RATE_LIMITED').reduce((a, [, k]) => a + k, 0);
  t.equal(s.sent, s.acked + s.unacked + otherRejects + s.rateLimited.heldAtEnd, 'every event sent was stored, refused for good, or is held');
  t.ok(s.acked > 5 * 2, 'more than the burst was stored: events refused were stored when sent again');
  // A device paused at each refusal of an event sent since its last pause, and sent nothing while paused: no more
  // refusals can come per pause than it had in flight, at most its window of 64.
  t.ok(s.rateLimited.pauses > 0 && refusals <= s.rateLimited.pauses * 64, `${refusals} refusals in ${s.rateLimited.pauses} pauses`);

  const text = await simulateOn(limited.base, dir.dir, '--devices', '1', '--rate', '0', '--seconds', '1');
  t.equal(text.status, 0, text.stderr);
  t.match(text.stdout, /paced by\s+RATE_LIMITED refusals \(\d+, in \d+ pauses\): the server's per-device limit \(ingest\.deviceRatePerSecond/);
  t.match(text.stdout, /measures that limit, not what the server can take/);
});
