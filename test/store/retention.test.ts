import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import {
  AlertStore, AuditLog, Journal, OperatorStore, RegistryStore, RetentionSweeper, openDatabases,
  type Databases, type EvidenceRecord,
} from '../../store/index.js';
import { asAlertId, asDeviceId, asSubjectId, type Alert, type NewAlert, type RetentionConfig } from '../../core/index.js';
import { DAY, tempDir } from '../helpers/vigil.js';
import { diskContains } from '../helpers/operators.js';

const DEFAULTS: RetentionConfig = { journalMaxAgeHours: 24, alertDays: 365, dismissedAlertDays: 30, evidenceDays: 90, sweepMinutes: 60 };
const silent = { info() {}, warn() {} };
const who = { username: 'mgr', label: 'operator:mgr' };

interface Fixture {
  db: Databases; dir: string; alerts: AlertStore; audit: AuditLog; sweeper: RetentionSweeper; deviceId: string;
  raise(n: number, at: number, withEvidence?: boolean): Promise<Alert[]>;
}

async function fixture(t: Test, categories: ('keyboard' | 'image' | 'heartbeat')[] = ['keyboard', 'image', 'heartbeat']): Promise<Fixture> {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const audit = new AuditLog(db);
  const alerts = new AlertStore(db, audit);
  const registry = new RegistryStore(db);
  const { deviceId } = await registry.enrol({ subjectId: 'S-1', orderRef: 'O-1', categories, from: 0, until: Date.now() + 1000 * DAY });
  const operators = new OperatorStore(db, audit, { tokenTtlSeconds: 60, maxFailedLogins: 5, lockoutSeconds: 60 });
  const sweeper = new RetentionSweeper({ db, alerts, audit, registry, operators, defaults: DEFAULTS, log: silent });
  let seq = 0;
  const raise = async (n: number, at: number, withEvidence = false): Promise<Alert[]> => {
    const batch: NewAlert[] = [];
    const evidence: EvidenceRecord[] = [];
    for (let i = 0; i < n; i++) {
      seq++;
      const a: NewAlert = {
        id: asAlertId(`al-${deviceId}-${seq}`), category: withEvidence ? 'image' : 'keyboard', subjectId: asSubjectId('S-1'),
        deviceId: asDeviceId(deviceId), eventSeq: seq, eventAt: at, raisedAt: at, severity: 'high', state: 'new',
        match: { kind: 'keyword', list: 'l', version: 1, ref: 'r', term: 'forbiddenword', excerpt: `…forbiddenword ${seq}…` },
      };
      if (withEvidence) {
        a.evidenceId = `ev-${seq}`;
        evidence.push({ id: a.evidenceId, deviceId: asDeviceId(deviceId), eventSeq: seq,
          sealed: { iv: randomBytes(12), tag: randomBytes(16), ciphertext: randomBytes(20_000), bytes: 20_000, format: 'png' } });
      }
      batch.push(a);
    }
    return alerts.commit(batch, [], evidence);
  };
  return { db, dir: tmp.dir, alerts, audit, sweeper, deviceId, raise };
}

t.test('retention - a sweep deletes old alerts but keeps held and in-review ones, and is audited', async (t) => {
  const f = await fixture(t);
  const now = Date.now();
  const old = await f.raise(5, now - 400 * DAY);
  const young = await f.raise(2, now - 10 * DAY);
  await f.alerts.setHold(old[0]!.id, true, who, 'appeal pending');
  await f.alerts.review(old[1]!.id, 'in_review', who, undefined);
  await f.alerts.review(old[2]!.id, 'in_review', who, undefined);
  await f.alerts.review(old[2]!.id, 'confirmed', who, 'clear breach of condition 4');
  const report = await f.sweeper.sweep(now);
  t.match(report, { alertsDeleted: 3, keptHeld: 1, keptInReview: 1 });
  t.ok(f.alerts.byId(old[0]!.id), 'the held alert is kept');
  t.ok(f.alerts.byId(old[1]!.id), 'the alert under review is kept');
  for (const a of [old[2]!, old[3]!, old[4]!]) t.notOk(f.alerts.byId(a.id), `${a.id} is gone`);
  for (const a of young) t.ok(f.alerts.byId(a.id), 'younger alerts stay');
  t.same(f.alerts.list({ subjects: ['S-1'], limit: 100 }).alerts.map((a) => a.id).sort(), [old[0]!.id, old[1]!.id, ...young.map((a) => a.id)].sort(),
    'the subject index no longer lists the deleted ones');
  const entries = f.audit.read(1);
  const deletion = entries.find((e) => e.action === 'retention.delete');
  t.same([...(deletion?.details.alerts as string[])].sort(), [old[2]!.id, old[3]!.id, old[4]!.id].sort(), 'the receipt names what went');
  t.match(entries.at(-1), { actor: 'system:retention', action: 'retention.sweep', details: { alertsDeleted: 3, keptHeld: 1, keptInReview: 1 } });
  t.notOk(JSON.stringify(entries).includes('forbiddenword'), 'the receipts hold no content');
  t.match(f.audit.verify(), { ok: true });

  await f.alerts.setHold(old[0]!.id, false, who, 'appeal decided');
  await f.alerts.review(old[1]!.id, 'dismissed', who, 'a film title, not a threat');
  const again = await f.sweeper.sweep(now);
  t.match(again, { alertsDeleted: 2, keptHeld: 0, keptInReview: 0 }, 'once released and decided, they go too');
});

t.test('retention - evidence expires before its alert, and dismissed alerts before confirmed ones', async (t) => {
  const f = await fixture(t);
  const now = Date.now();
  const [withEv, heldEv] = await f.raise(2, now - 100 * DAY, true);
  const secret = Buffer.from((f.alerts.evidence(withEv!.evidenceId!)!.sealed.ciphertext)).subarray(5000, 5064);
  t.ok(diskContains(f.dir, secret), 'the evidence is on disk');
  await f.alerts.setHold(heldEv!.id, true, who, 'needed for a hearing');
  const [dismissed, confirmed] = await f.raise(2, now - 40 * DAY);
  for (const [a, to] of [[dismissed!, 'dismissed'], [confirmed!, 'confirmed']] as const) {
    await f.alerts.review(a.id, 'in_review', who, undefined);
    await f.alerts.review(a.id, to, who, 'reviewed with the probation officer');
  }
  const report = await f.sweeper.sweep(now);
  t.match(report, { evidenceDeleted: 1, alertsDeleted: 1 });
  t.match(f.alerts.byId(withEv!.id), { evidenceDeleted: { by: 'system:retention' } }, 'the alert stays without its evidence');
  t.equal(f.alerts.byId(withEv!.id)!.evidenceId, undefined);
  t.ok(f.alerts.evidence(heldEv!.evidenceId!), 'a held alert keeps its evidence');
  t.notOk(diskContains(f.dir, secret), 'expired evidence is scrubbed from the data file');
  t.notOk(f.alerts.byId(dismissed!.id), 'a false positive goes after dismissedAlertDays');
  t.ok(f.alerts.byId(confirmed!.id), 'a confirmed alert stays for alertDays');
});

/** A journal on the fixture's folder, and a sweeper that tells it what it deletes and keeps its warnings. */
function withJournal(f: Fixture): { journal: Journal; sweeper: RetentionSweeper; warnings: object[] } {
  const warnings: object[] = [];
  const journal = new Journal(f.db, 100, { durable() {}, failed() {} });
  const sweeper = new RetentionSweeper({
    db: f.db, alerts: f.alerts, audit: f.audit, registry: new RegistryStore(f.db), defaults: DEFAULTS,
    log: { info() {}, warn(obj) { warnings.push(obj) } }, journal,
  });
  return { journal, sweeper, warnings };
}

t.test('retention - journal entries stuck unmatched expire with an alert, a warning and a receipt', async (t) => {
  const f = await fixture(t);
  const { journal, sweeper, warnings } = withJournal(f);
  const now = Date.now();
  for (let seq = 1; seq <= 3; seq++) {
    journal.append({ deviceId: asDeviceId(f.deviceId), event: { type: 'text', seq, at: now, app: 'a', text: 'stuck', source: 'typed' } });
  }
  await journal.settle();
  const pages = [...f.db.journal.getKeys({})] as number[];
  t.same([...journal.releasing(pages).values()], [3], 'the journal knows the page and its device');
  t.equal((await sweeper.sweep(now)).journalExpired, 0, 'first seen: kept');
  t.equal((await sweeper.sweep(now + 23 * 3_600_000)).journalExpired, 0, 'within journalMaxAgeHours: kept');
  const report = await sweeper.sweep(now + 25 * 3_600_000);
  t.equal(report.journalExpired, 3);
  t.equal(f.db.journal.getCount(), 0, 'the journal is empty');
  t.equal(journal.releasing(pages).size, 0, 'and the journal was told: it no longer holds the expired page');
  t.equal(f.db.deviceSeq.get(f.deviceId), 3, 'the device\'s highest seq outlives the expired entries');
  t.equal(new Journal(f.db, 100, { durable() {}, failed() {} }).lastSeq(asDeviceId(f.deviceId)), 3, 'so a resend is not taken as new');
  const [alert] = f.alerts.readAfter(0, 10).filter((a) => a.match.kind === 'rule');
  t.match(alert, { category: 'heartbeat', subjectId: 'S-1', eventSeq: 1, match: { rule: 'journal-expired', detail: /3 events \(seq 1\.\.3\)/ } },
    'the subject\'s manager is told that monitoring had a gap');
  t.match(warnings, [{ deviceId: f.deviceId, events: 3 }]);
  t.match(f.audit.read(1).find((e) => e.action === 'retention.journal_expired'),
    { target: `device:${f.deviceId}`, details: { events: 3, firstSeq: 1, lastSeq: 3 } });
});

t.test('retention - an admin\'s settings override the config, are validated and are audited', async (t) => {
  const f = await fixture(t);
  t.same(f.sweeper.settings(), { journalMaxAgeHours: 24, alertDays: 365, dismissedAlertDays: 30, evidenceDays: 90 });
  t.match(await f.sweeper.updateSettings({ alertDays: 0 }, 'operator:admin'), { ok: false, code: 'INVALID' });
  t.match(await f.sweeper.updateSettings({ sweepMinutes: 5 }, 'operator:admin'), { ok: false, code: 'INVALID' });
  t.match(await f.sweeper.updateSettings({ evidenceDays: 30 }, 'operator:admin'), { ok: true, value: { evidenceDays: 30, alertDays: 365 } });
  t.equal(f.sweeper.settings().evidenceDays, 30);
  t.match(f.audit.read(1).at(-1), { actor: 'operator:admin', action: 'retention.settings', details: { before: { evidenceDays: 90 }, after: { evidenceDays: 30 } } });
});

t.test('retention - a setting named after an Object.prototype member (__proto__, toString) is refused, and the audit chain stays verifiable', async (t) => {
  const f = await fixture(t);
  for (const key of ['__proto__', 'toString', 'constructor']) {
    const change = JSON.parse(`{"${key}": 5}`) as Record<string, unknown>; // as an admin's PUT body parses
    t.match(await f.sweeper.updateSettings(change, 'operator:admin'), { ok: false, code: 'INVALID' }, key);
  }
  t.same(f.sweeper.settings(), { journalMaxAgeHours: 24, alertDays: 365, dismissedAlertDays: 30, evidenceDays: 90 });
  t.match(f.audit.verify(), { ok: true });
});

t.test('retention - a journal page that cannot be read expires too, with a receipt of its own and a warning, and the sweep goes on', async (t) => {
  const f = await fixture(t);
  const now = Date.now();
  const { journal, sweeper, warnings } = withJournal(f);
  journal.append({ deviceId: asDeviceId(f.deviceId), event: { type: 'text', seq: 1, at: now, app: 'a', text: 'stuck', source: 'typed' } });
  await journal.settle();
  const [good] = [...f.db.journal.getKeys({})] as number[];
  await f.db.journal.put(good! + 1, Uint8Array.of(0xdd, 0, 0, 0, 2, 0xc1));
  t.equal((await sweeper.sweep(now)).journalExpired, 0, 'first seen: kept');
  const report = await sweeper.sweep(now + 25 * 3_600_000);
  t.equal(report.journalExpired, 1, 'the readable page\'s event expired as usual');
  t.equal(f.db.journal.getCount(), 0, 'both pages are gone');
  t.match(f.audit.read(1).find((e) => e.action === 'retention.journal_unreadable'),
    { actor: 'system:retention', target: `journal-page:${good! + 1}`, details: { bytes: 6, maxAgeHours: 24 } }, 'a receipt names the page');
  t.ok(f.audit.read(1).some((e) => e.action === 'retention.journal_expired'), 'and the readable one has its usual receipt');
  t.ok(warnings.some((w) => (w as { page?: number }).page === good! + 1), 'a warning names the page');
  t.equal(f.alerts.list({ limit: 10 }).alerts.filter((a) => a.match.kind === 'rule').length, 1, 'one journal-expired alert, for the readable page\'s device');
});
