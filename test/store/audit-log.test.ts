import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIT_GENESIS_HASH, AuditLog, auditHash, canonicalJson, checkChain, openDatabases, type AuditDetails, type AuditEntry } from '../../store/index.js';
import { tempDir } from '../helpers/vigil.js';

const storeIndex = fileURLToPath(new URL('../../store/index.js', import.meta.url));

async function withLog<T>(fn: (log: AuditLog, db: ReturnType<typeof openDatabases>) => Promise<T>): Promise<T> {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  try { return await fn(new AuditLog(db), db) } finally { await db.root.close(); tmp.remove() }
}

t.test('audit - entries chain by hash from a genesis hash, and verify accepts an intact chain', async (t) => {
  await withLog(async (log) => {
    for (let i = 0; i < 5; i++) await log.append({ actor: 'cli:tester', action: 'device.enrol', target: `device:d${i}`, details: { n: i } });
    const entries = log.read(1);
    t.equal(entries.length, 5);
    t.equal(entries[0]!.prevHash, AUDIT_GENESIS_HASH);
    entries.slice(1).forEach((e, i) => t.equal(e.prevHash, entries[i]!.hash, `entry ${e.seq} links to ${e.seq - 1}`));
    for (const e of entries) t.equal(e.hash, auditHash(e));
    t.match(log.verify(), { ok: true, count: 5, head: { seq: 5, hash: entries[4]!.hash } });
  });
});

t.test('audit - verify reports the first altered entry, with its position', async (t) => {
  await withLog(async (log, db) => {
    for (let i = 1; i <= 8; i++) await log.append({ actor: 'operator:m', action: 'alert.read', target: `alert:a${i}` });
    const e5 = db.audit.get(5) as AuditEntry;
    await db.audit.put(5, { ...e5, actor: 'operator:someone-else' }); // altered directly through LMDB
    const e7 = db.audit.get(7) as AuditEntry;
    await db.audit.put(7, { ...e7, target: 'alert:zzz' });
    t.match(log.verify(), { ok: false, seq: 5, count: 4, reason: /entry 5 was altered/ });
    // Re-hashing the altered entry does not help: the next entry's link breaks instead.
    const forged = { ...e5, actor: 'operator:someone-else' };
    await db.audit.put(5, { ...forged, hash: auditHash(forged) });
    t.match(log.verify(), { ok: false, seq: 6, reason: /does not link to entry 5/ });
  });
});

t.test('audit - a removed entry and a cut-off tail are found', async (t) => {
  await withLog(async (log, db) => {
    for (let i = 1; i <= 6; i++) await log.append({ actor: 'a', action: 'x', target: `t${i}` });
    const e3 = db.audit.get(3) as AuditEntry;
    await db.audit.remove(3);
    t.match(log.verify(), { ok: false, seq: 3, reason: /entry 3 is missing/ });
    await db.audit.put(3, e3);
    t.match(log.verify(), { ok: true });
    await db.audit.remove(6);
    await db.audit.remove(5);
    t.match(log.verify(), { ok: false, seq: 5, reason: /entries 5\.\.6 are missing from the end/ });
  });
});

t.test('audit - details must encode canonically: no floats, no undefined, and nothing is written if they do not', async (t) => {
  await withLog(async (log) => {
    await t.rejects(log.append({ actor: 'a', action: 'x', target: 't', details: { ratio: 0.5 } }), { code: 'AUDIT_FORMAT' });
    await t.rejects(log.append({ actor: 'a', action: 'x', target: 't', details: { v: undefined as unknown as string } }), { code: 'AUDIT_FORMAT' });
    t.equal(log.head().seq, 0);
    t.equal(canonicalJson({ b: [1, 'x', null, true], a: { d: 1, c: 'é"' } }), '{"a":{"c":"é\\"","d":1},"b":[1,"x",null,true]}');
  });
});

t.test('audit - a __proto__ key in details is refused: LMDB would store it renamed and the chain would read as altered', async (t) => {
  await withLog(async (log) => {
    await log.append({ actor: 'a', action: 'x', target: 't' });
    const details = JSON.parse('{"after": {"alertDays": 5, "__proto__": 5}}') as AuditDetails;
    await t.rejects(log.append({ actor: 'a', action: 'x', target: 't', details }), { code: 'AUDIT_FORMAT' });
    t.equal(log.head().seq, 1, 'nothing was written');
    t.match(log.verify(), { ok: true, count: 1 });
  });
});

t.test('audit - a run of entries verifies on its own from the hash it links to', async (t) => {
  await withLog(async (log) => {
    for (let i = 1; i <= 10; i++) await log.append({ actor: 'a', action: 'x', target: `t${i}` });
    const run = log.read(4, 7);
    t.match(checkChain(run, log.prevHashOf(4), 4), { ok: true, count: 4, head: { seq: 7 } });
    t.match(checkChain(run, AUDIT_GENESIS_HASH, 4), { ok: false, seq: 4 }, 'not from the wrong starting hash');
  });
});

t.test('audit - two processes appending at once still form one unbroken chain', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  const script = `
    const { AuditLog, openDatabases } = await import(${JSON.stringify(storeIndex)});
    const db = openDatabases(process.argv[1]);
    const log = new AuditLog(db);
    const pending = [];
    for (let i = 0; i < 150; i++) pending.push(log.append({ actor: 'cli:child', action: 'x', target: 'child-' + i }));
    await Promise.all(pending);
    await db.root.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, tmp.dir], { stdio: 'inherit' });
  const db = openDatabases(tmp.dir);
  const log = new AuditLog(db);
  const mine: Promise<AuditEntry>[] = [];
  for (let i = 0; i < 150; i++) {
    mine.push(log.append({ actor: 'operator:parent', action: 'x', target: `parent-${i}` }));
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(mine);
  t.equal(await new Promise((r) => child.on('exit', r)), 0);
  const result = log.verify();
  t.match(result, { ok: true, count: 300 });
  const actors = new Set(log.read(1).map((e) => e.actor));
  t.same([...actors].sort(), ['cli:child', 'operator:parent']);
  await db.root.close();
});

t.test('audit - no Vigil interface can change or remove an entry', async (t) => {
  const mutators = (o: object) => Object.getOwnPropertyNames(Object.getPrototypeOf(o)).filter((n) => /update|delete|remove|put|set|clear|truncate|rewrite/i.test(n));
  await withLog(async (log) => t.same(mutators(log), [], 'AuditLog has append, read, head, prevHashOf and verify only'));
  // Nothing else writes to the audit database: only audit-log.js ever touches `.audit.` with a write.
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const writers: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) { if (name !== 'test' && name !== 'node_modules') walk(p); continue }
      if (!p.endsWith('.js') || p.endsWith('audit-log.js')) continue;
      if (/\.audit\.(put|putSync|remove|removeSync|clear|clearSync|drop|ifVersion|transaction)\b/.test(readFileSync(p, 'utf8'))) writers.push(p);
    }
  };
  walk(root);
  t.same(writers, [], 'no other module writes to the audit database');
});

t.test('audit - a string with a lone surrogate is refused: LMDB would store it as U+FFFD and the chain would read as altered', async (t) => {
  await withLog(async (log) => {
    await log.append({ actor: 'a', action: 'x', target: 't' });
    const lone = JSON.parse('"name\\ud800"') as string;
    await t.rejects(log.append({ actor: 'anonymous', action: 'login.failed', target: `operator:${lone}` }), { code: 'AUDIT_FORMAT' });
    await t.rejects(log.append({ actor: 'a', action: 'x', target: 't', details: { reason: lone } }), { code: 'AUDIT_FORMAT' });
    await t.rejects(log.append({ actor: 'a', action: 'x', target: 't', details: { [lone]: 1 } }), { code: 'AUDIT_FORMAT' });
    await log.append({ actor: 'a', action: 'x', target: 't', details: { reason: 'a pair is fine: \u{1F600}' } });
    t.equal(log.head().seq, 2, 'nothing was written for the three');
    t.match(log.verify(), { ok: true, count: 2 });
  });
});
