import t from 'tap';
import { spawnSync } from 'node:child_process';
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
