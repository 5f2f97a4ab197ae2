import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../core/index.js';
import { startServer } from '../../cli/vigil-server.js';
import { call } from '../helpers/operators.js';
import { VIGIL_RUN, cleanEnv, createDataFolder, tempDir } from '../helpers/vigil.js';

const tmp = tempDir();
t.teardown(tmp.remove);
const env = cleanEnv({ VIGIL_DATA: tmp.dir, VIGIL_LOG_LEVEL: 'silent', VIGIL_EVIDENCE_KEY: 'a'.repeat(64), VIGIL_WORKERS: '1' });
const vigil = (args: string[], input?: string) =>
  spawnSync(process.execPath, [VIGIL_RUN, ...args], { env, encoding: 'utf8', timeout: 60_000, ...(input === undefined ? {} : { input }) });
t.before(async () => {
  await createDataFolder(tmp.dir, env);
  for (const subject of ['S-0001', 'S-0002']) {
    const r = vigil(['enrol', '--subject', subject, '--order', `ORD-${subject}`, '--categories', 'keyboard', '--from', '2026-01-01', '--until', '2099-12-31']);
    if (r.status !== 0) throw new Error(r.stderr);
  }
  const r = vigil(['operators', 'create', '--username', 'jsmith', '--role', 'manager'], 'a manager passphrase\n');
  if (r.status !== 0) throw new Error(r.stderr);
});

t.test('operators caseload - the same subject in --add and --remove is refused, and nothing is changed', async (t) => {
  const both = vigil(['operators', 'caseload', '--username', 'jsmith', '--add', 'S-0002', '--remove', 'S-0001', '--add', 'S-0001']);
  t.equal(both.status, 2);
  t.match(both.stderr, /S-0001 is both in --add and in --remove/);
  const now = vigil(['operators', 'caseload', '--username', 'jsmith']);
  t.same(JSON.parse(now.stdout), { username: 'jsmith', subjects: [] }, 'not even the other subject was added');
  const ok = vigil(['operators', 'caseload', '--username', 'jsmith', '--add', 'S-0001', '--add', 'S-0002']);
  t.same(JSON.parse(ok.stdout), { username: 'jsmith', subjects: ['S-0001', 'S-0002'] });
});

t.test('operators - an option its subcommand does not take is refused (exit 2), not ignored', async (t) => {
  for (const args of [
    ['operators', 'list', '--username', 'jsmith'],
    ['operators', 'create', '--username', 'x-op', '--role', 'manager', '--add', 'S-0001'],
    ['operators', 'unlock', '--username', 'jsmith', '--role', 'admin'],
    ['operators', 'role', '--username', 'jsmith', '--role', 'auditor', '--password-file', 'pw'],
    ['operators', 'caseload', '--username', 'jsmith', '--role', 'admin'],
    ['audit', 'verify', '--from', '2'],
    ['audit', 'export', '--file', 'x.jsonl'],
    ['lists', 'list', '--kind', 'urls'],
  ]) {
    const r = vigil(args);
    t.equal(r.status, 2, args.join(' '));
    t.match(r.stderr, /^vigil: vigil \w+ \w+ does not take --/, 'says which');
    t.equal(r.stdout, '');
  }
  t.equal(vigil(['operators', 'role', '--username', 'jsmith', '--role', 'manager']).status, 0, 'its own options are taken');
});

t.test('operators - a password of spaces is refused; a password file\'s line ending is not part of it; stray spaces are refused', async (t) => {
  const spaces = vigil(['operators', 'create', '--username', 'blank-op', '--role', 'auditor'], ' '.repeat(12) + '\n');
  t.equal(spaces.status, 2, '12 spaces');
  t.match(spaces.stderr, /a password cannot be only spaces/);
  const file = (name: string, text: string): string => { const p = join(tmp.dir, name); writeFileSync(p, text); return p };
  const trailing = vigil(['operators', 'create', '--username', 'space-op', '--role', 'auditor', '--password-file', file('space.pw', 'a good passphrase \n')]);
  t.equal(trailing.status, 2, 'a trailing space, which nobody would type back at login');
  t.match(trailing.stderr, /ends with a space/);
  for (const [name, text] of [['lf', 'passphrase one\n'], ['crlf', 'passphrase one\r\n'], ['cr', 'passphrase one\r'], ['none', 'passphrase one']]) {
    const r = vigil(['operators', 'create', '--username', `${name}-op`, '--role', 'auditor', '--password-file', file(`${name}.pw`, text!)]);
    t.equal(r.status, 0, `${name}: ${r.stderr}`);
  }
  const server = await startServer(loadConfig({ dataDir: tmp.dir, port: 0, host: '127.0.0.1' }, env), pino({ level: 'silent' }));
  t.teardown(() => server.close());
  for (const name of ['lf', 'crlf', 'cr', 'none']) {
    const login = await call('POST', `http://127.0.0.1:${server.port}/v1/login`, { body: { username: `${name}-op`, password: 'passphrase one' } });
    t.equal(login.status, 200, `${name}: logs in with the password as typed`);
  }
  t.equal(vigil(['operators', 'create', '--username', 'root-admin', '--role', 'admin'], 'passphrase one\n').status, 0);
  const admin = (await call('POST', `http://127.0.0.1:${server.port}/v1/login`, { body: { username: 'root-admin', password: 'passphrase one' } })).json().token as string;
  const api = await call('POST', `http://127.0.0.1:${server.port}/v1/admin/operators`, { token: admin, body: { username: 'blank-api', role: 'auditor', password: ' '.repeat(12) } });
  t.equal(api.status, 400, 'nor through the operator API');
  t.match(api.json(), { error: { code: 'BAD_REQUEST', message: /a password cannot be only spaces/ } });
});
