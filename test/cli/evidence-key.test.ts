import t from 'tap';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../core/index.js';
import { AuditLog, EVIDENCE_KEY_CHECK, openDatabases, sealEvidence } from '../../store/index.js';
import { startServer } from '../../cli/vigil-server.js';
import { tempDir } from '../helpers/vigil.js';

const log = pino({ level: 'silent' });
const configFor = (dataDir: string) => loadConfig({ dataDir, port: 0, host: '127.0.0.1' }, {});

t.test('evidence key - made on first start; a folder holding sealed evidence whose key file is gone refuses to start', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  const first = await startServer(configFor(tmp.dir), log);
  await first.close();
  const keyFile = join(tmp.dir, 'evidence.key');
  t.ok(existsSync(keyFile), 'a key file is made on first start');
  t.equal(statSync(keyFile).mode & 0o777, 0o600, 'readable by its owner only');

  const db = openDatabases(tmp.dir);
  await db.evidence.put('ev-1', { deviceId: 'dev-x', eventSeq: 1, alertIds: [], sealed: new Uint8Array(8) });
  await db.root.close();
  renameSync(keyFile, `${keyFile}.lost`);
  await t.rejects(startServer(configFor(tmp.dir), log), { code: 'CONFIG_INVALID', message: /evidence\.key is missing, but the data folder holds sealed evidence/ });
  t.notOk(existsSync(keyFile), 'and no new key is made');

  renameSync(`${keyFile}.lost`, keyFile);
  const restored = await startServer(configFor(tmp.dir), log);
  await restored.close();
  t.pass('with the key file back it starts');
});

const KEY_A = 'a1'.repeat(32);
const KEY_B = '0'.repeat(63) + '1';
const keyed = (dataDir: string, key: string) => loadConfig({ dataDir, port: 0, host: '127.0.0.1' }, { VIGIL_EVIDENCE_KEY: key });
const sealedUnder = (key: string, id: string) => ({
  id, deviceId: 'dev-x', eventSeq: 1, alertIds: [], sealed: sealEvidence(Buffer.from(key, 'hex'), 'dev-x', 1, Buffer.from('an image'), 'png'),
});

t.test('evidence key - a key other than the one the folder\'s evidence was sealed with is refused at start, in one line', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  await (await startServer(keyed(tmp.dir, KEY_A), log)).close();
  const db = openDatabases(tmp.dir);
  await db.evidence.put('ev-1', sealedUnder(KEY_A, 'ev-1'));
  await db.root.close();

  const refused = await startServer(keyed(tmp.dir, KEY_B), log).then(() => undefined, (err: unknown) => err as Error & { code: string });
  t.match(refused, { code: 'CONFIG_INVALID', message: /^wrong evidence key: the configured evidence key .* is not the key this data folder's evidence was sealed with/ });
  t.notMatch(refused?.message, /\n/, 'one line');
  t.notMatch(refused?.message, new RegExp(`${KEY_A}|${KEY_B}`), 'naming neither key');

  const again = await startServer(keyed(tmp.dir, KEY_A), log);
  await again.close();
  t.pass('with the right key it starts');
});

t.test('evidence key - a key file replaced by another key is refused too', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  await (await startServer(configFor(tmp.dir), log)).close();
  writeFileSync(join(tmp.dir, 'evidence.key'), KEY_B + '\n');
  await t.rejects(startServer(configFor(tmp.dir), log), { code: 'CONFIG_INVALID', message: /wrong evidence key: the evidence key in .*evidence\.key is not the key/ });
});

t.test('evidence key - the key stays recorded when every piece of evidence is deleted', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  await (await startServer(keyed(tmp.dir, KEY_A), log)).close();
  const db = openDatabases(tmp.dir);
  await db.evidence.put('ev-1', sealedUnder(KEY_A, 'ev-1'));
  await db.evidence.remove('ev-1');
  t.equal(db.evidence.getKeysCount(), 0, 'no evidence is left');
  await db.root.close();
  await t.rejects(startServer(keyed(tmp.dir, KEY_B), log), { code: 'CONFIG_INVALID', message: /wrong evidence key/ });
});

t.test('evidence key - a folder that recorded its key, but lost its key file, refuses to start even with no evidence left', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  await (await startServer(configFor(tmp.dir), log)).close();
  const keyFile = join(tmp.dir, 'evidence.key');
  renameSync(keyFile, `${keyFile}.lost`);
  await t.rejects(startServer(configFor(tmp.dir), log),
    { code: 'CONFIG_INVALID', message: /evidence\.key is missing, but the data folder recorded the key its evidence was sealed with/ });
  t.notOk(existsSync(keyFile), 'and no new key is made');
});

t.test('evidence key - a lost key is replaced only with --new-evidence-key, only with no sealed evidence left, and audited', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  await (await startServer(configFor(tmp.dir), log)).close();
  const keyFile = join(tmp.dir, 'evidence.key');
  const db = openDatabases(tmp.dir);
  await db.evidence.put('ev-1', sealedUnder(readFileSync(keyFile, 'utf8').trim(), 'ev-1'));
  await db.root.close();
  renameSync(keyFile, `${keyFile}.lost`);
  await t.rejects(startServer(configFor(tmp.dir), log, { newEvidenceKey: true }),
    { code: 'CONFIG_INVALID', message: /^--new-evidence-key: the data folder still holds 1 sealed evidence records/ });
  t.notOk(existsSync(keyFile), 'refused while sealed evidence is left, and no key made');

  const emptied = openDatabases(tmp.dir);
  await emptied.evidence.remove('ev-1');
  await emptied.root.close();
  await t.rejects(startServer(configFor(tmp.dir), log), { message: /vigil serve --new-evidence-key starts over/ }, 'without the flag, refused, naming it');
  await (await startServer(configFor(tmp.dir), log, { newEvidenceKey: true })).close();
  t.ok(existsSync(keyFile), 'with it, a new key file');
  await (await startServer(configFor(tmp.dir), log)).close();
  t.pass('which later starts take without the flag');
  const audit = openDatabases(tmp.dir);
  t.teardown(() => audit.root.close());
  t.match(new AuditLog(audit).read(1).filter((e) => e.action === 'evidence.key.replaced'),
    [{ actor: 'system:serve', target: 'evidence-key', details: { source: /evidence\.key/ } }], 'audited once');
  await t.rejects(startServer(keyed(tmp.dir, KEY_B), log), { message: /wrong evidence key/ }, 'and the new key is the one checked');
});

t.test('evidence key - a folder from before check values is checked against its evidence, then has the check value recorded', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  const db = openDatabases(tmp.dir);
  for (let i = 0; i < 3; i++) await db.evidence.put(`ev-${i}`, sealedUnder(KEY_A, `ev-${i}`));
  t.equal(db.meta.get(EVIDENCE_KEY_CHECK), undefined, 'as an earlier version left it: evidence, no check value');
  await db.root.close();

  await t.rejects(startServer(keyed(tmp.dir, KEY_B), log),
    { code: 'CONFIG_INVALID', message: /wrong evidence key: .* \(it opens none of the 3 sealed evidence records tried\)/ });
  const reopened = openDatabases(tmp.dir);
  t.equal(reopened.meta.get(EVIDENCE_KEY_CHECK), undefined, 'a refused key records nothing');
  await reopened.root.close();

  await (await startServer(keyed(tmp.dir, KEY_A), log)).close();
  const after = openDatabases(tmp.dir);
  t.match(after.meta.get(EVIDENCE_KEY_CHECK), /^[0-9a-f]{64}$/, 'the right key opens it, and its check value is recorded');
  for (let i = 0; i < 3; i++) await after.evidence.remove(`ev-${i}`);
  await after.root.close();
  await t.rejects(startServer(keyed(tmp.dir, KEY_B), log), { code: 'CONFIG_INVALID', message: /evidence was sealed with another key/ },
    'and from then on it is what a key is compared with');
});
