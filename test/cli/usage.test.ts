import t from 'tap';
import { spawnSync } from 'node:child_process';
import { VIGIL_RUN, cleanEnv } from '../helpers/vigil.js';

const env = cleanEnv({ VIGIL_LOG_LEVEL: 'silent' });
const vigil = (...args: string[]) => spawnSync(process.execPath, [VIGIL_RUN, ...args], { env, encoding: 'utf8', timeout: 60_000 });

/** Every option each command's parser takes: its --help must show them all. */
const OPTIONS: Record<string, string[]> = {
  serve: ['--port', '--host', '--data'],
  enrol: ['--subject', '--order', '--categories', '--from', '--until', '--data'],
  orders: ['vary', '--order', '--categories', '--from', '--until', '--end-now', '--data'],
  tokens: ['create', 'list', 'revoke', '--role', '--consumer', '--data'],
  devices: ['list', 'revoke', '--device', '--subject', '--active', '--data'],
  lists: ['import', 'list', '--kind', '--name', '--allow-empty', '--data'],
  operators: ['create', 'list', 'caseload', 'role', 'password', 'unlock', 'disable', 'enable', '--username', '--role', '--password-file', '--add', '--remove', '--data'],
  audit: ['verify', 'export', '--file', '--from', '--to', '--out', '--data'],
  hash: ['--dihedral', '--all', '--data'],
  simulate: ['--url', '--devices', '--rate', '--seconds', '--token', '--tokens-file', '--consumer-token', '--hit-rate', '--seed', '--json', '--data'],
  bench: ['--quick', '--check', '--url', '--data', '--tokens-file', '--consumer-token', '--server-pid', '--budgets', '--phases',
    '--no-baseline', '--seed', '--procs', '--devices', '--warmup', '--seconds', '--window', '--steps', '--step-seconds',
    '--scaling-rate', '--http-seconds', '--heartbeat-devices', '--images', '--out', '--no-publish', '--render'],
};

t.test('usage - vigil <command> --help shows that command\'s full usage, every option its parser takes', async (t) => {
  for (const [command, options] of Object.entries(OPTIONS)) {
    // Where --help stands, and -h, are tried with hash only: each run of the command costs a process start.
    for (const argv of command === 'hash' ? [[command, '--help'], ['--help', command], [command, '-h']] : [[command, '--help']]) {
      const r = vigil(...argv);
      t.equal(r.status, 0, `${argv.join(' ')}: exit 0`);
      t.match(r.stdout, new RegExp(`^Usage: vigil ${command}`), `${argv.join(' ')}: its own usage`);
      for (const option of options) t.ok(new RegExp(`(^|[\\s\\[|(])${option}\\b`).test(r.stdout), `${argv.join(' ')} shows ${option}`);
    }
  }
});

t.test('usage - hash --help is the hash command\'s own text (EXIF orientation, quality, exit codes)', async (t) => {
  const r = vigil('hash', '--help');
  t.match(r.stdout, /EXIF orientation is applied before hashing/);
  t.match(r.stdout, /A PDQ quality below 50/);
});

t.test('usage - simulate and bench --help explain what the run enrols and revokes', async (t) => {
  t.match(vigil('simulate', '--help').stdout, /revoke/);
  t.match(vigil('bench', '--help').stdout, /revoked when the run/);
});
