import t, { type Test } from 'tap';
import { createHmac } from 'node:crypto';
import { AuditLog, OperatorStore, RegistryStore, openDatabases } from '../../store/index.js';
import { tempDir } from '../helpers/vigil.js';
import { diskContains } from '../helpers/operators.js';

const PASSWORD = 'a long enough passphrase';

async function fixture(t: Test, policy = { tokenTtlSeconds: 3600, maxFailedLogins: 5, lockoutSeconds: 900 }) {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const audit = new AuditLog(db);
  const store = new OperatorStore(db, audit, policy);
  await new RegistryStore(db).enrol({ subjectId: 'S-1', orderRef: 'O-1', categories: ['keyboard'], from: 0, until: Date.now() + 1e10 });
  return { db, dir: tmp.dir, audit, store };
}

t.test('operators - passwords are stored only as scrypt hashes', async (t) => {
  const { store, db, dir } = await fixture(t);
  t.match(await store.create({ username: 'alice', role: 'manager', password: PASSWORD }, 'cli:root'), { ok: true, value: { username: 'alice', role: 'manager' } });
  const rec = db.operators.get('alice') as { password: Record<string, unknown> };
  t.match(rec.password, { algo: 'scrypt', N: 32768, r: 8, p: 1 });
  await db.root.flushed;
  t.notOk(diskContains(dir, Buffer.from(PASSWORD)), 'the password is nowhere in the data folder');
  t.match(await store.create({ username: 'alice', role: 'admin', password: PASSWORD }, 'cli:root'), { ok: false, code: 'CONFLICT' });
  t.match(await store.create({ username: 'bob', role: 'manager', password: 'short' }, 'cli:root'), { ok: false, code: 'INVALID' });
  t.match(await store.create({ username: 'Bad Name', role: 'manager', password: PASSWORD }, 'cli:root'), { ok: false, code: 'INVALID' });
});

t.test('operators - a login gives a short-lived token that stops working when it expires, on logout, or when disabled', async (t) => {
  const { store, audit } = await fixture(t);
  await store.create({ username: 'alice', role: 'auditor', password: PASSWORD }, 'cli:root');
  await store.create({ username: 'root', role: 'admin', password: PASSWORD }, 'cli:root');
  const now = Date.now();
  const r = await store.login('alice', PASSWORD, '127.0.0.1', now);
  if (!r.ok) throw new Error('login failed');
  t.equal(r.expiresAt, now + 3600_000);
  t.match(store.authenticate(r.token, now + 1000), { username: 'alice', role: 'auditor' });
  t.equal(store.authenticate(r.token, now + 3600_000), null, 'expired');
  t.equal(store.authenticate(r.token.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')), now), null, 'a wrong secret');
  await store.update('alice', { role: 'manager' }, 'operator:root');
  t.match(store.authenticate(r.token, now), { role: 'manager' }, 'a role change takes effect at once');
  await store.update('alice', { disabled: true }, 'operator:root');
  t.equal(store.authenticate(r.token, now), null, 'disabled');
  t.match(await store.login('alice', PASSWORD, '127.0.0.1'), { ok: false });
  await store.update('alice', { disabled: false }, 'operator:root');
  const again = await store.login('alice', PASSWORD, '127.0.0.1');
  if (!again.ok) throw new Error('login failed');
  await store.logout(store.authenticate(again.token)!);
  t.equal(store.authenticate(again.token), null, 'logged out');
  const actions = audit.read(1).map((e) => e.action);
  for (const a of ['operator.create', 'login', 'operator.role', 'operator.disable', 'login.failed', 'operator.enable', 'logout']) t.ok(actions.includes(a), a);
  t.match(await store.update('root', { role: 'auditor' }, 'operator:root'), { ok: false, code: 'CONFLICT' }, 'the last admin stays an admin');
});

t.test('operators - repeated failures lock the account for the lock-out period', async (t) => {
  const { store, audit } = await fixture(t, { tokenTtlSeconds: 60, maxFailedLogins: 3, lockoutSeconds: 60 });
  await store.create({ username: 'alice', role: 'manager', password: PASSWORD }, 'cli:root');
  const now = Date.now();
  for (let i = 0; i < 3; i++) t.match(await store.login('alice', 'wrong password!!', 'x', now + i), { ok: false, reason: 'invalid' });
  t.match(await store.login('alice', PASSWORD, 'x', now + 10), { ok: false, reason: 'locked' }, 'the right password is refused while locked');
  t.match(await store.login('alice', PASSWORD, 'x', now + 61_000), { ok: true }, 'and accepted after the lock-out');
  t.match(audit.read(1).find((e) => e.action === 'operator.locked'), { target: 'operator:alice', details: { failures: 3 } });
});

t.test('operators - only managers have caseloads, of subjects that exist', async (t) => {
  const { store } = await fixture(t);
  await store.create({ username: 'mgr', role: 'manager', password: PASSWORD }, 'cli:root');
  await store.create({ username: 'aud', role: 'auditor', password: PASSWORD }, 'cli:root');
  t.match(await store.addToCaseload('mgr', 'S-1', 'operator:root'), { ok: true, value: { subjectId: 'S-1', addedBy: 'operator:root' } });
  t.match(await store.addToCaseload('mgr', 'S-404', 'operator:root'), { ok: false, code: 'NOT_FOUND' });
  t.match(await store.addToCaseload('aud', 'S-1', 'operator:root'), { ok: false, code: 'CONFLICT' });
  t.ok(store.onCaseload('mgr', 'S-1'));
  t.notOk(store.onCaseload('aud', 'S-1'));
  t.match(await store.removeFromCaseload('mgr', 'S-1', 'operator:root'), { ok: true });
  t.notOk(store.onCaseload('mgr', 'S-1'));
  t.match(await store.removeFromCaseload('mgr', 'S-1', 'operator:root'), { ok: false, code: 'NOT_FOUND' });
});

t.test('operators - a manager who stops being one loses the caseload, audited; made a manager again, they start with none', async (t) => {
  const { store, audit } = await fixture(t);
  await store.create({ username: 'mgr2', role: 'manager', password: PASSWORD }, 'cli:root');
  await store.addToCaseload('mgr2', 'S-1', 'operator:root');
  const before = audit.head().seq;
  t.match(await store.update('mgr2', { role: 'auditor' }, 'operator:root'), { ok: true });
  t.same(store.caseload('mgr2'), []);
  const entries = audit.read(before + 1);
  t.match(entries, [{ action: 'operator.role', details: { from: 'manager', to: 'auditor' } }, { action: 'caseload.remove', target: 'operator:mgr2', details: { subjectId: 'S-1' } }]);
  t.match(await store.update('mgr2', { role: 'manager' }, 'operator:root'), { ok: true });
  t.notOk(store.onCaseload('mgr2', 'S-1'), 'the old caseload does not come back (it did)');
});

t.test('operators - a failed login under an unknown name keeps a keyed fingerprint of it, never the name', async (t) => {
  const { store, audit, db, dir } = await fixture(t);
  await store.create({ username: 'alice', role: 'manager', password: PASSWORD }, 'cli:root');
  const typed = 'MySecretPassw0rd!';
  const before = audit.head().seq;
  await store.login(typed, 'x', '127.0.0.1');
  await store.login(typed, 'y', '127.0.0.1');
  await store.login('mallory', 'x', '127.0.0.1');
  await store.login('alice', 'wrong password!!', '127.0.0.1');
  const [first, second, other, known] = audit.read(before + 1);
  t.match(first, { actor: 'anonymous', action: 'login.failed', target: 'operator:(unknown)', details: { reason: 'unknown operator', from: '127.0.0.1', attempt: /^[0-9a-f]{16}$/ } });
  t.equal(second?.details.attempt, first?.details.attempt, 'the same name gives the same fingerprint: repeated attempts can be told');
  t.match(other, { target: 'operator:(unknown)' });
  t.not(other?.details.attempt, first?.details.attempt, 'another name another');
  t.match(known, { target: 'operator:alice', details: { reason: 'wrong password' } }, 'a known operator keeps the username');
  t.notOk(JSON.stringify(audit.read(1)).includes(typed), 'the name tried is nowhere in the audit log');
  await db.root.flushed;
  t.notOk(diskContains(dir, Buffer.from(typed)), 'nor anywhere in the data folder');
});

t.test('operators - the fingerprint of a name tried is the same under the same secret (a restart), another under another', async (t) => {
  const { db, audit } = await fixture(t);
  const policy = { tokenTtlSeconds: 60, maxFailedLogins: 3, lockoutSeconds: 60 };
  const secret = Buffer.alloc(32, 7);
  const attempt = async (store: OperatorStore) => {
    await store.login('nobody', 'x', 'x');
    return audit.read(audit.head().seq)[0]?.details.attempt;
  };
  const a = await attempt(new OperatorStore(db, audit, policy, secret));
  t.equal(await attempt(new OperatorStore(db, audit, policy, Buffer.from(secret))), a);
  t.not(await attempt(new OperatorStore(db, audit, policy, Buffer.alloc(32, 8))), a);
  const raw = createHmac('sha256', secret).update('nobody').digest('hex').slice(0, 16);
  t.not(a, raw, 'the evidence key itself is not the fingerprint key (a distinct key is derived from it)');
});
