import t from 'tap';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditLog, RegistryStore, openDatabases } from '../../store/index.js';
import { TestDevice, createDataFolder, tempDir, text, waitForAlerts } from '../helpers/vigil.js';

const run = fileURLToPath(new URL('../../cli/run.js', import.meta.url));
const tmp = tempDir();
t.teardown(tmp.remove);
const env = { ...process.env, VIGIL_DATA: tmp.dir, VIGIL_LOG_LEVEL: 'silent', VIGIL_EVIDENCE_KEY: 'a'.repeat(64), VIGIL_WORKERS: '1' };
const vigil = (...args: string[]) => spawnSync(process.execPath, [run, ...args], { env, encoding: 'utf8', timeout: 60_000 });
// The commands other than serve take only a data folder a server made: start one on it once, as a user does.
t.before(() => createDataFolder(tmp.dir, env));

/** The port a `vigil serve` child logs that it listens on; rejects if it exits first. */
function listeningPort(server: ChildProcessWithoutNullStreams): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let buf = '';
    server.stdout.on('data', (d) => {
      buf += String(d);
      const m = /"port":(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    server.once('exit', (code) => reject(new Error(`server exited ${code}: ${buf}`)));
  });
}

t.test('cli - --help lists every command, and an unknown command is a usage error', async (t) => {
  const help = vigil('--help');
  t.equal(help.status, 0);
  for (const c of ['serve', 'enrol', 'tokens create', 'lists import', 'hash', 'simulate']) t.match(help.stdout, c);
  const bad = vigil('frobnicate');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /unknown command/);
  for (const port of ['0x50', '1e3', '80.0', '-1', '65536', '']) {
    const r = vigil('serve', '--port', port);
    t.equal(r.status, 2, `--port ${JSON.stringify(port)} is a usage error`);
    t.match(r.stderr, port === '' ? /--port needs a value/ : /--port must be 0\.\.65535/);
  }
  const lists = vigil('lists', '--help');
  t.equal(lists.status, 0);
  t.match(lists.stdout, /^Usage: vigil lists/);
  t.match(lists.stdout, /lists import --kind/);
  t.match(lists.stdout, /--data DIR/, 'with the notes every command shares');
  t.notMatch(lists.stdout, /operators create/, 'a command\'s --help shows that command');
});

t.test('cli - enrol validates its flags', async (t) => {
  const r = vigil('enrol', '--subject', 's', '--order', 'o', '--categories', 'keyboard,telepathy', '--from', '2026-01-01', '--until', '2027-01-01');
  t.equal(r.status, 2);
  t.match(r.stderr, /telepathy/);
  const d = vigil('enrol', '--subject', 's', '--order', 'o', '--categories', 'keyboard', '--from', 'soon', '--until', '2027-01-01');
  t.equal(d.status, 2);
  t.match(d.stderr, /--from/);
  const over = vigil('enrol', '--subject', 's', '--order', 'o', '--categories', 'keyboard', '--from', '2020-01-01', '--until', '2021-01-01');
  t.equal(over.status, 2, 'an order already over (its device could send nothing; it was enrolled, and its token refused at once)');
  t.match(over.stderr, /--until 2021-01-01T23:59:59\.999Z has passed/);
});

t.test('cli - enrol under an existing order with other terms is refused; orders vary changes them, audited', async (t) => {
  const base = ['enrol', '--subject', 'S-VARY', '--order', 'ORD-VARY', '--from', '2026-01-01', '--until', '2099-12-31'];
  const first = vigil(...base, '--categories', 'keyboard,web');
  t.equal(first.status, 0, first.stderr);
  const wider = vigil(...base, '--categories', 'keyboard,web,image');
  t.equal(wider.status, 2, 'a typo while enrolling a second device does not widen the order');
  t.match(wider.stderr, /order ORD-VARY is stored with categories keyboard,web from 2026-01-01 until 2099-12-31/);
  t.match(wider.stderr, /vigil orders vary --order ORD-VARY/);
  const shorter = vigil('enrol', '--subject', 'S-VARY', '--order', 'ORD-VARY', '--categories', 'web,keyboard', '--from', '2026-01-01', '--until', '2099-06-30');
  t.equal(shorter.status, 2, 'nor end it early');
  t.match(shorter.stderr, /is stored with/);
  const same = vigil(...base, '--categories', 'web,keyboard');
  t.equal(same.status, 0, 'the same terms, in any order');

  const vary = vigil('orders', 'vary', '--order', 'ORD-VARY', '--categories', 'keyboard,web,image');
  t.equal(vary.status, 0, vary.stderr);
  t.match(JSON.parse(vary.stdout), { ref: 'ORD-VARY', subjectId: 'S-VARY', categories: ['keyboard', 'web', 'image'], from: '2026-01-01T00:00:00.000Z', variedAt: String });
  t.equal(vigil(...base, '--categories', 'keyboard,web,image').status, 0, 'enrolling with the varied terms');
  t.equal(vigil('orders', 'vary', '--order', 'ORD-NONE', '--from', '2026-01-01').status, 1, 'an unknown order');
  t.equal(vigil('orders', 'vary', '--order', 'ORD-VARY').status, 2, 'nothing to change');
  const db = openDatabases(tmp.dir);
  try {
    const entries = new AuditLog(db).read(1).filter((e) => e.action === 'order.vary');
    t.equal(entries.length, 1);
    t.match(entries[0], {
      target: 'order:ORD-VARY',
      details: { before: { categories: ['keyboard', 'web'] }, after: { categories: ['keyboard', 'web', 'image'] } },
    });
  } finally {
    await db.root.close();
  }
});

t.test('cli - a list imported while the server runs is matched within 5 seconds, without a restart', async (t) => {
  const server = spawn(process.execPath, [run, 'serve', '--port', '0', '--host', '127.0.0.1'], { env: { ...env, VIGIL_LOG_LEVEL: 'info' } });
  t.teardown(() => { server.kill('SIGTERM') });
  const port = await listeningPort(server);
  const enrol = vigil('enrol', '--subject', 'subject-9', '--order', 'ORD-9', '--categories', 'keyboard,web', '--from', '2020-01-01', '--until', '2099-12-31');
  t.equal(enrol.status, 0, enrol.stderr);
  const { deviceId, token } = JSON.parse(enrol.stdout) as { deviceId: string; token: string };
  const tokens = vigil('tokens', 'create', '--role', 'consumer');
  const consumer = (JSON.parse(tokens.stdout) as { token: string }).token;
  const base = `http://127.0.0.1:${port}`;

  const csv = join(tmp.dir, 'new-terms.csv');
  writeFileSync(csv, 'term,severity,ref\nzorblaxword,critical,new-1\n');
  const imp = vigil('lists', 'import', '--kind', 'keywords', '--name', 'fresh', csv);
  t.equal(imp.status, 0, imp.stderr);
  t.match(JSON.parse(imp.stdout), { name: 'fresh', version: 1, count: 1 });
  const importedAt = Date.now();

  const dev = await TestDevice.connect(port, token);
  let seq = 0;
  let alerts: Record<string, any>[] = [];
  while (Date.now() - importedAt < 5000 && alerts.length === 0) {
    dev.send(text(++seq, 'hello zorblaxword'));
    await dev.waitForAck(seq);
    alerts = (await waitForAlerts(base, consumer, 1, 0, 250)).filter((a) => a.data.deviceId === deviceId && a.data.match.list === 'fresh');
  }
  t.ok(alerts.length > 0, `matched ${Date.now() - importedAt} ms after the import`);
  t.match(alerts[0], { data: { severity: 'critical', match: { ref: 'new-1' } } });

  const bad = join(tmp.dir, 'bad.csv');
  writeFileSync(bad, 'term,severity,ref\nok,low,1\nbroken\n');
  const failed = vigil('lists', 'import', '--kind', 'keywords', '--name', 'fresh', bad);
  t.equal(failed.status, 1);
  t.match(failed.stderr, /line 3/);
  const listed = vigil('lists', 'list');
  t.match(listed.stdout, /"name":"fresh","kind":"keywords","version":1/, 'the failed import changed nothing');
  await dev.close();
});

t.test('cli - enrol refuses dates that are not on the calendar and timestamps without a zone', async (t) => {
  const enrol = (from: string, until: string) => vigil('enrol', '--subject', 'S-DATES', '--order', `ORD-DATES-${from}-${until}`, '--categories', 'keyboard', '--from', from, '--until', until);
  const feb30 = enrol('2026-02-30', '2026-12-31');
  t.equal(feb30.status, 2, 'not read as 2 March');
  t.match(feb30.stderr, /--from 2026-02-30 is not a day of the calendar/);
  const feb31 = enrol('2026-02-31', '2026-03-01');
  t.equal(feb31.status, 2);
  t.match(feb31.stderr, /--from 2026-02-31 is not a day of the calendar/, 'not "until must be after from"');
  const local = enrol('2026-01-01T00:00', '2026-12-31');
  t.equal(local.status, 2, 'not read as the local time of this machine');
  t.match(local.stderr, /--from 2026-01-01T00:00 has no time zone/);
  t.match(enrol('2026-01-01T24:00Z', '2026-12-31').stderr, /is not a time of day/);
  t.match(enrol('2026-01-01', '2026-04-31T10:00Z').stderr, /--until 2026-04-31T10:00Z: 2026-04-31 is not a day/);
  const leap = enrol('2028-02-29', '2028-03-01T12:30+01:00');
  t.equal(leap.status, 0, leap.stderr);
  const db = openDatabases(tmp.dir);
  try {
    const { order } = new RegistryStore(db).deviceScope(JSON.parse(leap.stdout).deviceId)!;
    t.equal(order.from, Date.UTC(2028, 1, 29), 'a leap day, in UTC');
    t.equal(order.until, Date.UTC(2028, 2, 1, 11, 30), 'a timestamp with its offset');
  } finally {
    await db.root.close();
  }
});

t.test('cli - tokens revoke revokes a feed consumer by its id, audited; tokens list shows consumers without secrets', async (t) => {
  const created = vigil('tokens', 'create', '--role', 'consumer');
  t.equal(created.status, 0, created.stderr);
  const { token, consumerId } = JSON.parse(created.stdout) as { token: string; consumerId: string };
  t.equal(token.split('.')[1], consumerId, 'create prints the consumer id, the con-… part of the token');
  const revoke = vigil('tokens', 'revoke', '--consumer', consumerId);
  t.equal(revoke.status, 0, revoke.stderr);
  t.match(JSON.parse(revoke.stdout), { consumerId, revoked: true, revokedAt: Number });
  const again = vigil('tokens', 'revoke', '--consumer', consumerId);
  t.equal(again.status, 0);
  t.match(again.stderr, /already revoked/);
  t.equal(vigil('tokens', 'revoke', '--consumer', 'con-no-such').status, 1, 'an unknown consumer');
  t.equal(vigil('tokens', 'revoke').status, 2, '--consumer is required');
  const list = vigil('tokens', 'list');
  t.equal(list.status, 0, list.stderr);
  const rows = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(rows.find((r) => r.consumerId === consumerId), { createdAt: Number, revokedAt: Number });
  t.notOk(list.stdout.includes(token.split('.')[2]!) || list.stdout.includes('tokenHash'), 'no secret or hash is listed');
  const db = openDatabases(tmp.dir);
  try {
    const revokes = new AuditLog(db).read(1).filter((e) => e.action === 'consumer.revoke' && e.target === `consumer:${consumerId}`);
    t.match(revokes.map((e) => e.details), [{ alreadyRevoked: false }, { alreadyRevoked: true }], 'each request audited, the repeat marked');
  } finally {
    await db.root.close();
  }
});

t.test('cli - --port and --host are taken wherever they stand, and belong to serve; stray arguments are refused', async (t) => {
  // A server started with the flags after --data: it listens on the port asked for, not the default.
  const server = spawn(process.execPath, [run, '--data', tmp.dir, 'serve', '--host', '127.0.0.1', '--port', '18641'], { env: { ...env, VIGIL_LOG_LEVEL: 'info' } });
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  const port = await listeningPort(server);
  t.equal(port, 18641, '--port after the command and after --data');
  server.kill('SIGTERM');
  await exited;

  const bogus = vigil('--data', tmp.dir, 'serve', '--port', '18642', '--bogus');
  t.equal(bogus.status, 2, 'serve refuses what it does not know');
  t.match(bogus.stderr, /serve takes only .*"--bogus"/);
  const elsewhere = vigil('lists', 'list', '--port', '18643');
  t.equal(elsewhere.status, 2);
  t.match(elsewhere.stderr, /--port and --host are options of vigil serve, not of lists/);
  for (const args of [
    ['tokens', 'create', '--role', 'consumer', 'extra'],
    ['tokens', 'list', 'extra'],
    ['devices', 'revoke', '--device', 'dev-x', 'extra'],
    ['lists', 'list', 'extra'],
    ['orders', 'vary', '--order', 'ORD-VARY', '--from', '2026-01-01', 'extra'],
    ['operators', 'list', 'extra'],
    ['audit', 'verify', 'extra'],
  ]) {
    const r = vigil(...args);
    t.equal(r.status, 2, `${args.join(' ')}: refused`);
    t.equal(r.stdout, '', 'and nothing done');
  }
});

t.test('cli - a reader that closes the pipe early (vigil lists list | head -1) ends the command quietly', async (t) => {
  for (const args of [['lists', 'list'], ['--help']]) {
    const child = spawn(process.execPath, [run, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // as head does once it has its line: the next write gets EPIPE
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += String(d) });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    t.equal(code, 0, `${args.join(' ')}: exit 0`);
    t.equal(stderr, '', 'no EPIPE stack trace');
  }
});

t.test('cli - a second server on a data folder in use is refused; a claim left by a killed server is taken over', async (t) => {
  const first = spawn(process.execPath, [run, 'serve', '--port', '0', '--host', '127.0.0.1'], { env: { ...env, VIGIL_LOG_LEVEL: 'info' } });
  const exited = new Promise<number | null>((resolve) => first.once('exit', (code) => resolve(code)));
  await listeningPort(first);
  const second = vigil('serve', '--port', '0', '--host', '127.0.0.1');
  t.equal(second.status, 1);
  t.match(second.stderr, new RegExp(`another Vigil server \\(pid ${first.pid} on .*, started .*\\) is running on the data folder`));
  first.kill('SIGKILL'); // leaves its claim behind
  await exited;
  const third = spawn(process.execPath, [run, 'serve', '--port', '0', '--host', '127.0.0.1'], { env: { ...env, VIGIL_LOG_LEVEL: 'info' } });
  const thirdExited = new Promise<number | null>((resolve) => third.once('exit', (code) => resolve(code)));
  t.ok(await listeningPort(third) > 0, 'the killed server\'s claim does not hold the folder');
  third.kill('SIGTERM');
  t.equal(await thirdExited, 0);
});

t.test('cli - a server on a port another server holds is refused with one line, and the first keeps the port', async (t) => {
  // A port asked for by number: a port the kernel picked (port 0) was never shared here, so that would pass either way.
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const port = (free.address() as AddressInfo).port;
  await new Promise<void>((resolve) => free.close(() => resolve()));
  const first = spawn(process.execPath, [run, 'serve', '--port', String(port), '--host', '127.0.0.1'], { env: { ...env, VIGIL_LOG_LEVEL: 'info' } });
  const exited = new Promise<number | null>((resolve) => first.once('exit', (code) => resolve(code)));
  t.equal(await listeningPort(first), port);
  const other = t.testdir({});
  const second = vigil('serve', '--port', String(port), '--host', '127.0.0.1', '--data', other);
  t.equal(second.status, 1, 'refused, not started beside the first');
  t.match(second.stderr, new RegExp(`^vigil: could not listen on 127\\.0\\.0\\.1:${port}: the port is in use by another program`));
  t.equal(second.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
  for (let i = 0; i < 6; i++) {
    const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json() as { uptimeSeconds: number };
    t.ok(health.uptimeSeconds >= 0, 'the first server answers');
  }
  first.kill('SIGTERM');
  t.equal(await exited, 0);
});

t.test('cli - an unknown order, device or consumer is a one-line error with the vigil: prefix the others have', async (t) => {
  for (const [args, said] of [
    [['orders', 'vary', '--order', 'NOPE', '--until', '2030-01-01T00:00:00Z'], /^vigil: no order NOPE\n$/],
    [['devices', 'revoke', '--device', 'dev-nope'], /^vigil: no device dev-nope \(see vigil devices list\)\n$/],
    [['tokens', 'revoke', '--consumer', 'con-nope'], /^vigil: no consumer con-nope \(see vigil tokens list\)\n$/],
  ] as const) {
    const r = vigil(...args);
    t.equal(r.status, 1, args.join(' '));
    t.match(r.stderr, said);
  }
});

t.test('cli - a data folder that cannot be opened is named in a one-line error', async (t) => {
  const notAFolder = join(tmp.dir, 'a-file');
  writeFileSync(notAFolder, 'not a folder');
  const r = vigil('lists', 'list', '--data', notAFolder);
  t.equal(r.status, 1);
  t.match(r.stderr, new RegExp(`^vigil: cannot open the data folder ${notAFolder}: `));
  t.notMatch(r.stderr, /unexpected error|\n\s+at /, 'no stack trace');
});

t.test('cli - a file named on the command line that cannot be read or written is a one-line failure, not a crash', async (t) => {
  const missing = join(tmp.dir, 'no-such-file');
  const cases: [string[], RegExp][] = [
    [['operators', 'create', '--username', 'nofile', '--role', 'manager', '--password-file', missing], /^vigil: cannot read ".*no-such-file": no such file or directory \(ENOENT\)\n$/],
    [['operators', 'create', '--username', 'nofile', '--role', 'manager', '--password-file', tmp.dir], /^vigil: cannot read ".*": illegal operation on a directory \(EISDIR\)\n$/],
    [['audit', 'verify', '--file', missing], /^vigil: cannot read ".*no-such-file": no such file or directory \(ENOENT\)\n$/],
    [['audit', 'verify', '--file', tmp.dir], /^vigil: cannot read ".*": illegal operation on a directory \(EISDIR\)\n$/],
    [['audit', 'export', '--out', join(missing, 'export.jsonl')], /^vigil: cannot write ".*export\.jsonl": no such file or directory \(ENOENT\)\n$/],
    [['simulate', '--url', 'http://127.0.0.1:1', '--tokens-file', missing], /^vigil: cannot read ".*no-such-file": no such file or directory \(ENOENT\)\n$/],
  ];
  for (const [args, stderr] of cases) {
    const r = vigil(...args);
    t.equal(r.status, 1, args.join(' '));
    t.match(r.stderr, stderr, args.join(' '));
  }
  const notJson = join(tmp.dir, 'not-an-export.txt');
  writeFileSync(notJson, 'hello\n');
  const bad = vigil('audit', 'verify', '--file', notJson);
  t.equal(bad.status, 2);
  t.match(bad.stderr, /^vigil: .*not-an-export\.txt is not a Vigil audit export: line 1 is not JSON\n$/);
  const folder = vigil('lists', 'import', '--kind', 'urls', '--name', 'from-a-folder', tmp.dir);
  t.equal(folder.status, 2);
  t.match(folder.stderr, /^vigil: cannot read .*: not a regular file\n$/);
});
