import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditLog, openDatabases, type AuditEntry } from '../../store/index.js';
import { createDataFolder, tempDir } from '../helpers/vigil.js';

const run = fileURLToPath(new URL('../../cli/run.js', import.meta.url));
const tmp = tempDir();
t.teardown(tmp.remove);
const env = { ...process.env, VIGIL_DATA: tmp.dir, VIGIL_LOG_LEVEL: 'silent', VIGIL_EVIDENCE_KEY: 'a'.repeat(64), VIGIL_WORKERS: '1' };
const vigil = (args: string[], input?: string) => spawnSync(process.execPath, [run, ...args], { env, encoding: 'utf8', timeout: 60_000, ...(input !== undefined ? { input } : {}) });
const actor = `cli:${userInfo().username}`;
// The commands other than serve take only a data folder a server made: start one on it once, as a user does.
t.before(() => createDataFolder(tmp.dir, env));

const readAudit = async (): Promise<AuditEntry[]> => {
  const db = openDatabases(tmp.dir);
  try { return new AuditLog(db).read(1) } finally { await db.root.close() }
};

/** An independent check of an export, written from docs/protocol.md without Vigil's code. */
function verifyExport(text: string): { ok: boolean; at?: number } {
  const canon = (v: unknown): string => v === null ? 'null'
    : Array.isArray(v) ? `[${v.map(canon).join(',')}]`
    : typeof v === 'object' ? `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`).join(',')}}`
    : JSON.stringify(v);
  const [head, ...lines] = text.trim().split('\n');
  const header = JSON.parse(head!) as { prevHash: string; from: number };
  let prev = header.prevHash;
  let seq = header.from;
  for (const line of lines) {
    const e = JSON.parse(line) as Record<string, unknown>;
    const { hash, ...rest } = e;
    const computed = createHash('sha256').update(canon(rest)).digest('hex');
    if (e.seq !== seq || e.prevHash !== prev || computed !== hash) return { ok: false, at: seq };
    prev = hash as string;
    seq++;
  }
  return { ok: true };
}

t.test('cli audit - administrative commands append audit entries naming the OS user', async (t) => {
  const enrol = vigil(['enrol', '--subject', 'S-CLI', '--order', 'ORD-CLI', '--categories', 'keyboard', '--from', '2020-01-01', '--until', '2099-12-31']);
  t.equal(enrol.status, 0, enrol.stderr);
  const { deviceId } = JSON.parse(enrol.stdout) as { deviceId: string };
  t.equal(vigil(['tokens', 'create', '--role', 'consumer']).status, 0);
  const csv = join(tmp.dir, 'terms.csv');
  writeFileSync(csv, 'term,severity,ref\nwibbleword,low,w-1\n');
  t.equal(vigil(['lists', 'import', '--kind', 'keywords', '--name', 'cli-terms', csv]).status, 0);
  t.equal(vigil(['devices', 'revoke', '--device', deviceId]).status, 0);
  const entries = await readAudit();
  t.match(entries.map((e) => [e.actor, e.action, e.target]), [
    [actor, 'device.enrol', `device:${deviceId}`],
    [actor, 'consumer.create', /^consumer:con-/],
    [actor, 'list.import', 'list:cli-terms'],
    [actor, 'device.revoke', `device:${deviceId}`],
  ]);
  t.match(entries[0]!.details, { subjectId: 'S-CLI', orderRef: 'ORD-CLI', categories: ['keyboard'] });
  t.match(entries[2]!.details, { kind: 'keywords', version: 1, rows: 1, file: 'terms.csv' });
});

t.test('cli operators - accounts take their password from a file or stdin, never from a flag', async (t) => {
  const pwFile = join(tmp.dir, 'pw.txt');
  writeFileSync(pwFile, 'a very long admin passphrase\n', { mode: 0o600 });
  const admin = vigil(['operators', 'create', '--username', 'root-admin', '--role', 'admin', '--password-file', pwFile]);
  t.equal(admin.status, 0, admin.stderr);
  t.match(JSON.parse(admin.stdout), { operator: { username: 'root-admin', role: 'admin', disabled: false } });
  const mgr = vigil(['operators', 'create', '--username', 'mgr-cli', '--role', 'manager'], 'a manager passphrase\n');
  t.equal(mgr.status, 0, mgr.stderr);
  const flag = vigil(['operators', 'create', '--username', 'x-op', '--role', 'admin', '--password', 'hunter2hunter2']);
  t.equal(flag.status, 2, 'a --password flag is refused');
  const short = vigil(['operators', 'create', '--username', 'y-op', '--role', 'admin'], 'short\n');
  t.equal(short.status, 2, short.stderr);
  t.match(short.stderr, /at least 12 characters/);
  const caseload = vigil(['operators', 'caseload', '--username', 'mgr-cli', '--add', 'S-CLI']);
  t.equal(caseload.status, 0, caseload.stderr);
  t.same(JSON.parse(caseload.stdout), { username: 'mgr-cli', subjects: ['S-CLI'] });
  t.equal(vigil(['operators', 'caseload', '--username', 'mgr-cli', '--add', 'S-NOBODY']).status, 1, 'an unknown subject');
  const role = vigil(['operators', 'role', '--username', 'mgr-cli', '--role', 'auditor']);
  t.equal(role.status, 0, role.stderr);
  const list = vigil(['operators', 'list']);
  t.match(list.stdout, /"username":"mgr-cli","role":"auditor"/);
  t.notOk(list.stdout.includes('hash'), 'no password hashes are shown');
  const actions = (await readAudit()).filter((e) => e.actor === actor).map((e) => `${e.action} ${e.target}`);
  for (const a of ['operator.create operator:root-admin', 'operator.create operator:mgr-cli', 'caseload.add operator:mgr-cli', 'operator.role operator:mgr-cli']) {
    t.ok(actions.includes(a), a);
  }
});

t.test('cli audit - export writes a range with the hashes to verify it elsewhere', async (t) => {
  const out = join(tmp.dir, 'audit-2-6.jsonl');
  const exp = vigil(['audit', 'export', '--from', '2', '--to', '6', '--out', out]);
  t.equal(exp.status, 0, exp.stderr);
  const text = readFileSync(out, 'utf8');
  const [header, ...lines] = text.trim().split('\n');
  t.match(JSON.parse(header!), { format: 'vigil-audit-export/1', from: 2, to: 6, count: 5 });
  t.equal(lines.length, 5);
  t.same(verifyExport(text), { ok: true }, 'an independent verifier, written from the documentation, accepts it');
  const check = vigil(['audit', 'verify', '--file', out]);
  t.equal(check.status, 0, check.stderr);
  const forged = text.replace(/"target":"list:cli-terms"/, '"target":"list:other"');
  t.not(forged, text);
  const forgedFile = join(tmp.dir, 'forged.jsonl');
  writeFileSync(forgedFile, forged);
  t.same(verifyExport(forged), { ok: false, at: 3 }, 'the independent verifier finds the altered entry');
  const bad = vigil(['audit', 'verify', '--file', forgedFile]);
  t.equal(bad.status, 1);
  t.match(bad.stderr, /broken at entry 3/);
});

t.test('cli audit - verify passes an intact log and reports the first tampered entry with its position', async (t) => {
  const ok = vigil(['audit', 'verify']);
  t.equal(ok.status, 0, ok.stderr);
  t.match(JSON.parse(ok.stdout), { ok: true });
  const db = openDatabases(tmp.dir);
  const e4 = db.audit.get(4) as AuditEntry;
  await db.audit.put(4, { ...e4, details: { ...e4.details, note: 'quietly edited' } });
  await db.root.close();
  const broken = vigil(['audit', 'verify']);
  t.equal(broken.status, 1);
  t.match(JSON.parse(broken.stdout), { ok: false, seq: 4, reason: /entry 4 was altered/ });
  t.match(broken.stderr, /broken at entry 4/);
  const entries = await readAudit();
  t.match(entries.at(-1), { actor, action: 'audit.verify', details: { ok: false, seq: 4 } }, 'verifying is itself audited');
});
