import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VIGIL_RUN, cleanEnv, createDataFolder, httpGet, spawnServe, tempDir } from '../helpers/vigil.js';

const tmp = tempDir();
t.teardown(tmp.remove);
const env = cleanEnv({ VIGIL_LOG_LEVEL: 'silent', VIGIL_EVIDENCE_KEY: 'a'.repeat(64), VIGIL_WORKERS: '1' });
const vigil = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) =>
  spawnSync(process.execPath, [VIGIL_RUN, ...args], { env: options.env ?? env, cwd: options.cwd ?? tmp.dir, encoding: 'utf8', timeout: 60_000 });

/** Every command that works on a server's data folder, with arguments that would otherwise succeed or say "no such". */
function commands(dir: string): string[][] {
  const csv = join(dir, '..', 'terms.csv');
  writeFileSync(csv, 'term,severity,ref\nkettleword,low,k1\n');
  const pw = join(dir, '..', 'pw.txt');
  writeFileSync(pw, 'a long enough passphrase\n');
  return [
    ['enrol', '--subject', 'S-1', '--order', 'ORD-1', '--categories', 'keyboard', '--from', '2026-01-01', '--until', '2099-12-31'],
    ['orders', 'vary', '--order', 'ORD-1', '--categories', 'keyboard,web'],
    ['tokens', 'create', '--role', 'consumer'],
    ['tokens', 'list'],
    ['tokens', 'revoke', '--consumer', 'con-0123456789abcdef'],
    ['devices', 'list'],
    ['devices', 'revoke', '--device', 'dev-0123456789abcdef'],
    ['lists', 'list'],
    ['lists', 'import', '--kind', 'keywords', '--name', 'terms', csv],
    ['operators', 'list'],
    ['operators', 'create', '--username', 'jsmith', '--role', 'manager', '--password-file', pw],
    ['audit', 'verify'],
    ['audit', 'export'],
  ];
}

t.test('data folder - a --data folder holding no Vigil database is refused by every command but serve, with one line naming it, and not created', async (t) => {
  const typo = join(tmp.dir, 'typo');
  for (const args of commands(typo)) {
    const r = vigil([...args, '--data', typo]);
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`);
    t.equal(r.stdout, '', 'prints nothing, no token');
    t.equal(r.stderr, `vigil: no Vigil data folder at ${typo}: start vigil serve --data ${typo} once to create it, `
      + `or give the server's folder with --data DIR (or VIGIL_DATA)\n`, `${args.join(' ')}: one line naming the folder and the fix`);
    t.notOk(existsSync(typo), 'and creates nothing');
  }
  mkdirSync(typo);
  const empty = vigil(['tokens', 'list', '--data', typo]);
  t.equal(empty.status, 2, 'an empty folder that exists holds no database either');
  t.notOk(existsSync(join(typo, 'db')));
});

t.test('data folder - the default ./var/vigil of another current folder is refused with its absolute path, not created', async (t) => {
  const docs = join(tmp.dir, 'docs');
  mkdirSync(docs);
  const r = vigil(['tokens', 'create', '--role', 'consumer'], { cwd: docs });
  t.equal(r.status, 2);
  t.equal(r.stdout, '', 'no token that the server would refuse');
  t.match(r.stderr, `no Vigil data folder at ${join(docs, 'var', 'vigil')}: start vigil serve --data ${join(docs, 'var', 'vigil')} once`);
  t.notOk(existsSync(join(docs, 'var')), 'no docs/var/vigil');
  const viaEnv = vigil(['lists', 'list'], { env: { ...env, VIGIL_DATA: 'elsewhere' } });
  t.equal(viaEnv.status, 2);
  t.match(viaEnv.stderr, `no Vigil data folder at ${join(tmp.dir, 'elsewhere')}:`, 'a relative VIGIL_DATA is named absolute too');
});

t.test('data folder - the README quick start: npm start (vigil serve) in the repository, then enrol and tokens create from it in a second terminal', async (t) => {
  const repo = join(tmp.dir, 'repo');
  mkdirSync(repo);
  const server = await spawnServe(env, [], repo);
  t.teardown(() => server.stop());
  const enrol = vigil(['enrol', '--subject', 'S-0001', '--order', 'SHPO-2026-0001', '--categories', 'keyboard,web,image,heartbeat,location',
    '--from', '2026-01-01', '--until', '2099-12-31'], { cwd: repo });
  t.equal(enrol.status, 0, enrol.stderr);
  t.match(JSON.parse(enrol.stdout), { deviceId: /^dev-/, token: /^vd1\./ });
  const created = vigil(['tokens', 'create', '--role', 'consumer'], { cwd: repo });
  t.equal(created.status, 0, created.stderr);
  const { token } = JSON.parse(created.stdout) as { token: string };
  const feed = await httpGet(`http://127.0.0.1:${server.port}/v1/alerts?after=0&limit=1`, { authorization: `Bearer ${token}` });
  t.equal(feed.status, 200, 'the server takes the token: both used ./var/vigil of the repository');
  t.equal(await server.stop(), 0);
});

t.test('data folder - a folder made by vigil serve, started once and stopped, is taken by the other commands', async (t) => {
  const dir = join(tmp.dir, 'made');
  await createDataFolder(dir, env);
  const r = vigil(['enrol', '--subject', 'S-1', '--order', 'ORD-1', '--categories', 'keyboard', '--from', '2026-01-01', '--until', '2099-12-31', '--data', dir]);
  t.equal(r.status, 0, r.stderr);
  t.equal(vigil(['lists', 'list', '--data', dir]).status, 0);
});

t.test('data folder - audit verify --file checks an export without any data folder', async (t) => {
  const dir = join(tmp.dir, 'made');
  const out = join(tmp.dir, 'export.jsonl');
  t.equal(vigil(['audit', 'export', '--out', out, '--data', dir]).status, 0);
  const r = vigil(['audit', 'verify', '--file', out, '--data', join(tmp.dir, 'nowhere')]);
  t.equal(r.status, 0, r.stderr);
  t.notOk(existsSync(join(tmp.dir, 'nowhere')));
});
