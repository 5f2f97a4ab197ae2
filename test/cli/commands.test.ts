import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, openDatabases, type AuditEntry } from '../../store/index.js';
import { VIGIL_RUN, cleanEnv, createDataFolder, tempDir } from '../helpers/vigil.js';

const tmp = tempDir();
t.teardown(tmp.remove);
const env = cleanEnv({ VIGIL_DATA: tmp.dir, VIGIL_LOG_LEVEL: 'silent', VIGIL_EVIDENCE_KEY: 'a'.repeat(64), VIGIL_WORKERS: '1' });
const vigil = (...args: string[]) => spawnSync(process.execPath, [VIGIL_RUN, ...args], { env, encoding: 'utf8', timeout: 60_000 });
t.before(() => createDataFolder(tmp.dir, env));

const readAudit = async (): Promise<AuditEntry[]> => {
  const db = openDatabases(tmp.dir);
  try { return new AuditLog(db).read(1) } finally { await db.root.close() }
};

let enrolled = 0;
/** Enrols a device with `vigil enrol` under a new order of `subject`. */
function enrol(subject = 'S-CMD'): { deviceId: string; token: string } {
  const r = vigil('enrol', '--subject', subject, '--order', `ORD-CMD-${++enrolled}`, '--categories', 'keyboard', '--from', '2026-01-01', '--until', '2099-12-31');
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { deviceId: string; token: string };
}

t.test('tokens revoke - takes the consumer\'s token as well as its id, and no error prints a token\'s secret', async (t) => {
  const created = JSON.parse(vigil('tokens', 'create', '--role', 'consumer').stdout) as { token: string; consumerId: string };
  const secret = created.token.split('.')[2]!;
  const byToken = vigil('tokens', 'revoke', '--consumer', created.token);
  t.equal(byToken.status, 0, byToken.stderr);
  t.match(JSON.parse(byToken.stdout), { consumerId: created.consumerId, revoked: true });
  t.notOk(byToken.stdout.includes(secret) || byToken.stderr.includes(secret), 'the secret is not echoed');
  t.match((await readAudit()).at(-1), { action: 'consumer.revoke', target: `consumer:${created.consumerId}` }, 'audited by its id');

  const unknown = vigil('tokens', 'revoke', '--consumer', 'vc1.con-0123456789abcdef.TopSecretPartOfAToken');
  t.equal(unknown.status, 1);
  t.equal(unknown.stderr, 'vigil: no consumer con-0123456789abcdef (see vigil tokens list)\n', 'named by its id alone');
  const device = enrol();
  const wrongKind = vigil('tokens', 'revoke', '--consumer', device.token);
  t.equal(wrongKind.status, 2);
  t.match(wrongKind.stderr, `a device token: revoke the device with vigil devices revoke --device ${device.deviceId}`);
  t.notOk(wrongKind.stderr.includes(device.token.split('.')[2]!), 'without its secret');
  const garbage = vigil('tokens', 'revoke', '--consumer', 'TopSecretPartOfAToken');
  t.equal(garbage.status, 2, 'neither an id nor a token');
  t.notOk(garbage.stderr.includes('TopSecretPartOfAToken'), 'and not echoed: it may be a secret pasted alone');
});

t.test('devices revoke - takes the device\'s token as well as its id, and no error prints a token\'s secret', async (t) => {
  const device = enrol();
  const secret = device.token.split('.')[2]!;
  const byToken = vigil('devices', 'revoke', '--device', device.token);
  t.equal(byToken.status, 0, byToken.stderr);
  t.match(JSON.parse(byToken.stdout), { deviceId: device.deviceId, revoked: true });
  t.notOk(byToken.stdout.includes(secret) || byToken.stderr.includes(secret));
  t.match((await readAudit()).at(-1), { action: 'device.revoke', target: `device:${device.deviceId}` });
  const unknown = vigil('devices', 'revoke', '--device', 'vd1.dev-0123456789abcdef.TopSecretPartOfAToken');
  t.equal(unknown.status, 1);
  t.equal(unknown.stderr, 'vigil: no device dev-0123456789abcdef (see vigil devices list)\n');
  const consumer = JSON.parse(vigil('tokens', 'create', '--role', 'consumer').stdout) as { token: string; consumerId: string };
  const wrongKind = vigil('devices', 'revoke', '--device', consumer.token);
  t.equal(wrongKind.status, 2);
  t.match(wrongKind.stderr, `a consumer token: revoke it with vigil tokens revoke --consumer ${consumer.consumerId}`);
  t.notOk(wrongKind.stderr.includes(consumer.token.split('.')[2]!));
});

t.test('errors - a token pasted where a command does not take one is refused without its secret', async (t) => {
  for (const args of [['serve', 'vd1.dev-0123456789abcdef.TopSecretPartOfAToken'], ['operators', 'list', 'vc1.con-0123456789abcdef.TopSecretPartOfAToken']]) {
    const r = vigil(...args);
    t.equal(r.status, 2, args.join(' '));
    t.notOk(r.stderr.includes('TopSecretPartOfAToken'), `${args[0]}: the secret is not echoed`);
    t.match(r.stderr, /\.dev-0123456789abcdef\.…|\.con-0123456789abcdef\.…/, 'the token is named by its id');
  }
});

t.test('devices list - every device with its subject, order, creation and revocation, filtered by subject or activity, audited', async (t) => {
  const a1 = enrol('S-LIST-A');
  const a2 = enrol('S-LIST-A');
  const b1 = enrol('S-LIST-B');
  t.equal(vigil('devices', 'revoke', '--device', a1.deviceId).status, 0);
  const all = vigil('devices', 'list');
  t.equal(all.status, 0, all.stderr);
  const rows = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(rows.find((r) => r.deviceId === a1.deviceId), { subjectId: 'S-LIST-A', orderRef: /^ORD-CMD-/, createdAt: Number, revokedAt: Number, active: false });
  t.match(rows.find((r) => r.deviceId === b1.deviceId), { subjectId: 'S-LIST-B', createdAt: Number, active: true });
  t.notOk('revokedAt' in rows.find((r) => r.deviceId === b1.deviceId)!, 'revokedAt only once revoked, as tokens list shows it');
  t.notOk(all.stdout.includes('tokenHash') || [a1, a2, b1].some((d) => all.stdout.includes(d.token.split('.')[2]!)), 'no secret or hash');
  const mine = vigil('devices', 'list', '--subject', 'S-LIST-A');
  t.same(mine.stdout.trim().split('\n').map((l) => JSON.parse(l).deviceId).sort(), [a1.deviceId, a2.deviceId].sort());
  const active = vigil('devices', 'list', '--subject', 'S-LIST-A', '--active');
  t.same(active.stdout.trim().split('\n').map((l) => JSON.parse(l).deviceId), [a2.deviceId]);
  t.equal(vigil('devices', 'list', '--subject', 'S-NOBODY').stdout, '', 'no device: nothing printed');
  t.match((await readAudit()).at(-1), { action: 'device.list', target: 'devices', details: { subjectId: 'S-NOBODY', count: 0 } }, 'listing is audited');
  const unknown = vigil('devices', 'revoke', '--device', 'dev-0123456789abcdef');
  t.equal(unknown.stderr, 'vigil: no device dev-0123456789abcdef (see vigil devices list)\n');
  t.equal(vigil('devices', 'list', '--device', a2.deviceId).status, 2, 'an option of revoke is refused by list');
  t.equal(vigil('devices', 'revoke', '--device', a2.deviceId, '--active').status, 2, 'and one of list by revoke');
});

t.test('orders vary - an --until already past is refused as enrol refuses it; --end-now ends an order now; dates are printed as ISO 8601', async (t) => {
  const order = 'ORD-VARY-PAST';
  const enrolment = vigil('enrol', '--subject', 'S-VARY-PAST', '--order', order, '--categories', 'keyboard', '--from', '2020-01-01', '--until', '2099-12-31');
  const device = JSON.parse(enrolment.stdout) as { deviceId: string };
  const anHourAgo = new Date(Date.now() - 3_600_000).toISOString();
  const past = vigil('orders', 'vary', '--order', order, '--until', anHourAgo);
  t.equal(past.status, 2, 'not accepted, cutting the device off at once');
  t.match(past.stderr, `--until ${anHourAgo} has passed`);
  t.match(past.stderr, /--end-now/, 'and says how to end an order now');
  const listed = () => JSON.parse(vigil('devices', 'list', '--subject', 'S-VARY-PAST').stdout) as { deviceId: string; active: boolean };
  t.match(listed(), { deviceId: device.deviceId, active: true }, 'the device is still active');

  const widened = vigil('orders', 'vary', '--order', order, '--categories', 'keyboard,web');
  t.equal(widened.status, 0, widened.stderr);
  t.match(JSON.parse(widened.stdout), {
    ref: order, subjectId: 'S-VARY-PAST', categories: ['keyboard', 'web'],
    from: '2020-01-01T00:00:00.000Z', until: '2099-12-31T23:59:59.999Z', createdAt: /^\d{4}-\d\d-\d\dT.*Z$/, variedAt: /^\d{4}-\d\d-\d\dT.*Z$/,
  }, 'the dates as the command takes them, not ms since the epoch');

  t.equal(vigil('orders', 'vary', '--order', order, '--end-now', '--until', '2099-01-01').status, 2, '--end-now and --until together');
  const before = Date.now();
  const ended = vigil('orders', 'vary', '--order', order, '--end-now');
  t.equal(ended.status, 0, ended.stderr);
  const until = Date.parse((JSON.parse(ended.stdout) as { until: string }).until);
  t.ok(until >= before && until <= Date.now(), 'the order ends now');
  t.match(listed(), { deviceId: device.deviceId, active: false }, 'and its device is no longer active');
});

t.test('enrol - a subject id or order reference outside the documented form (spaces, a newline, a path) is refused, and nothing enrolled', async (t) => {
  const tryEnrol = (subject: string, order: string) =>
    vigil('enrol', '--subject', subject, '--order', order, '--categories', 'keyboard', '--from', '2026-01-01', '--until', '2099-12-31');
  for (const subject of ['S 1/../x', 'S1/../x', 'S-ID\nX', ' S-ID', 'S-ID ', 'S-ID\t', 'S-ID-', 'S-ID.', 'S\u00A0ID', 'x'.repeat(129)]) {
    const r = tryEnrol(subject, 'ORD-IDS-1');
    t.equal(r.status, 2, JSON.stringify(subject));
    t.match(r.stderr, /^vigil: --subject ".*" is not a subject id: /, 'says which flag');
    t.equal(r.stderr.trim().split('\n').length, 1, 'on one line, the value quoted');
  }
  for (const order of ['ORD 1', 'ORD-1\n', 'ORD-1 ', '../ORD-1']) {
    const r = tryEnrol('S-IDS', order);
    t.equal(r.status, 2, JSON.stringify(order));
    t.match(r.stderr, /^vigil: --order ".*" is not an order reference: /);
  }
  t.equal(vigil('devices', 'list', '--subject', 'S-IDS').stdout, '', 'nothing enrolled');
  t.equal(vigil('devices', 'list', '--subject', 'S-IDS ').status, 2, 'devices list --subject takes the same form');
  for (const [subject, order] of [['S-0001', 'SHPO-2026-0001'], ['subject_2.a:b', 'SHPO/2026/0002'], ['S3', 'ORD-2026-01-01T09:00+01:00']]) {
    const r = tryEnrol(subject!, order!);
    t.equal(r.status, 0, `${subject} ${order}: ${r.stderr}`);
  }
});

t.test('lists import - Ctrl-C says that nothing of the import was applied, and it was not: the list is unchanged and its rows are deleted', async (t) => {
  const big = join(tmp.dir, 'big.csv');
  writeFileSync(big, `pattern,category,ref\n${Array.from({ length: 1_000_000 }, (_, i) => `site${i}.example,A,k${i}`).join('\n')}\n`);
  const child = spawn(process.execPath, [VIGIL_RUN, 'lists', 'import', '--kind', 'urls', '--name', 'interrupted', big], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) => child.stderr.on('data', (d) => { stderr += String(d); if (/rows written/.test(stderr)) resolve() }));
  child.kill('SIGINT');
  t.equal(await exited, 130, 'exit 130');
  t.match(stderr, /vigil: interrupted: nothing of this import was applied; the rows it had written are deleted\n$/);
  t.notMatch(vigil('lists', 'list').stdout, /"name":"interrupted"/, 'the list was not made');
  const db = openDatabases(tmp.dir);
  try {
    const rows = [...db.listEntries.getKeys({ start: ['interrupted', 0, 0], end: ['interrupted', Number.MAX_SAFE_INTEGER, 0] })].length;
    t.equal(rows, 0, 'and no row of it is left');
  } finally {
    await db.root.close();
  }
});
