import t from 'tap';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { AlertStore, ListStore, openDatabases } from '../../store/index.js';
import { importListFile } from '../../pipeline/index.js';
import { TestDevice, consumerToken, httpGet, readAlerts, startTestServer, tempDir, waitForAlerts, type TestServer } from '../helpers/vigil.js';
import { addCaseload, auditSince, call, createOperator, diskContains, enrolSubject, login, raiseAlerts } from '../helpers/operators.js';

const tmp = tempDir();
let srv: TestServer;
let consumer: string;
let manager: string;
const SUBJECT = 'subject-ev';

/** A distinct synthetic PNG per seed, large enough to span several LMDB pages. */
async function png(seed: number): Promise<Buffer> {
  const w = 160;
  const h = 120;
  const data = Buffer.alloc(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) >>> (seed % 13)) & 255;
  return sharp(data, { raw: { width: w, height: h, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

const images = [1, 2, 3].map(png);
/** Bytes no decoder reads, listed by their SHA-256 (kept as evidence though no image can be made of them). */
const undecodable = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) & 255));

t.before(async () => {
  srv = await startTestServer(tmp.dir);
  consumer = await consumerToken(tmp.dir);
  const csv = join(tmp.dir, 'hashes.csv');
  const rows = await Promise.all(images.map(async (p, i) => `sha256,${createHash('sha256').update(await p).digest('hex')},A,ev-test-${i}`));
  rows.push(`sha256,${createHash('sha256').update(undecodable).digest('hex')},A,ev-test-undecodable`);
  writeFileSync(csv, `type,value,category,ref\n${rows.join('\n')}\n`);
  const db = openDatabases(tmp.dir);
  await importListFile(new ListStore(db), 'hashes', 'ev-hashes', csv);
  await db.root.close();
  for (let i = 0; i < 100 && !(await httpGet(`${srv.base}/healthz`)).body.includes('ev-hashes'); i++) await new Promise((r) => setTimeout(r, 50));
  await enrolSubject(tmp.dir, SUBJECT);
  await createOperator(tmp.dir, 'mgr-ev', 'manager');
  await addCaseload(tmp.dir, 'mgr-ev', SUBJECT);
  manager = await login(srv.base, 'mgr-ev');
});
t.teardown(async () => { await srv.stop(); tmp.remove() });

/** Sends one image from a new device of the subject; resolves with its alert id. */
async function imageAlert(bytes: Buffer): Promise<string> {
  const { deviceId, token } = await enrolSubject(tmp.dir, SUBJECT);
  const before = (await readAlerts(srv.base, consumer)).next;
  const dev = await TestDevice.connect(srv.port, token);
  dev.send({ type: 'image', seq: 1, at: Date.now(), bytes, source: 'camera' });
  await dev.waitForAck(1, 10_000);
  await dev.close();
  const [alert] = (await waitForAlerts(srv.base, consumer, 1, before, 10_000)).filter((a) => a.data.deviceId === deviceId);
  if (!alert) throw new Error('no image alert');
  return alert.id as string;
}

async function ciphertextOf(alertId: string): Promise<Buffer> {
  const db = openDatabases(tmp.dir);
  try {
    const store = new AlertStore(db);
    const ev = store.evidence(store.byId(alertId)!.evidenceId!);
    return Buffer.from(ev!.sealed.ciphertext);
  } finally {
    await db.root.close();
  }
}

t.test('deletion - deleting an alert\'s evidence removes its bytes from the data folder, not only from the indexes', async (t) => {
  const bytes = await images[0]!;
  const id = await imageAlert(bytes);
  const ciphertext = await ciphertextOf(id);
  const runs = [0, 0.25, 0.5, 0.75].map((f) => ciphertext.subarray(Math.floor(f * (ciphertext.length - 64)), Math.floor(f * (ciphertext.length - 64)) + 64));
  t.ok(runs.every((r) => diskContains(tmp.dir, r)), 'before: the sealed image is on disk');
  t.notOk(diskContains(tmp.dir, bytes.subarray(200, 264)), 'and never in the clear');
  const got = await call('GET', `${srv.base}/v1/operator/alerts/${id}/evidence`, { token: manager });
  t.same(got.raw, bytes, 'the manager can read it');

  const del = await call('DELETE', `${srv.base}/v1/operator/alerts/${id}/evidence`, { token: manager, body: { reason: 'retention review: not needed' } });
  t.equal(del.status, 200, del.body);
  t.ok(del.json().scrubbed.copies >= 1, `copies overwritten: ${del.json().scrubbed.copies} (evidence record, freed journal pages)`);
  for (const r of runs) t.notOk(diskContains(tmp.dir, r), 'after: no 64-byte run of the ciphertext is anywhere in the data folder');

  const after = await call('GET', `${srv.base}/v1/operator/alerts/${id}`, { token: manager });
  t.match(after.json(), { evidence: null, evidenceDeleted: { by: 'mgr-ev' } }, 'the alert stays, marked');
  t.equal((await call('GET', `${srv.base}/v1/operator/alerts/${id}/evidence`, { token: manager })).status, 410);
  t.equal((await call('DELETE', `${srv.base}/v1/operator/alerts/${id}/evidence`, { token: manager, body: { reason: 'again' } })).status, 410);

  const receipts = (await auditSince(tmp.dir)).filter((e) => e.target === `alert:${id}`);
  t.match(receipts.find((e) => e.action === 'evidence.delete'), { actor: 'operator:mgr-ev', details: { subjectId: SUBJECT, reason: 'retention review: not needed' } });
  t.match(receipts.find((e) => e.action === 'evidence.scrub'), { details: { copies: del.json().scrubbed.copies } });
  const feed = (await readAlerts(srv.base, consumer)).alerts.filter((e) => e.data.alertId === id);
  t.match(feed, [{ type: 'vigil.deletion.evidence', data: { deleted: 'evidence', deletedBy: 'mgr-ev' } }], 'the deletion is on the feed');
});

t.test('deletion - deleting a whole alert removes the record, its notices and its evidence; a receipt stays', async (t) => {
  const id = await imageAlert(await images[1]!);
  const ciphertext = await ciphertextOf(id);
  await call('POST', `${srv.base}/v1/operator/alerts/${id}/review`, { token: manager, body: { state: 'in_review' } });
  const held = await call('POST', `${srv.base}/v1/operator/alerts/${id}/hold`, { token: manager, body: { held: true, reason: 'court hearing' } });
  t.equal(held.status, 200);
  const refused = await call('DELETE', `${srv.base}/v1/operator/alerts/${id}`, { token: manager, body: { reason: 'x' } });
  t.equal(refused.status, 409, 'a held alert cannot be deleted');
  t.equal((await call('DELETE', `${srv.base}/v1/operator/alerts/${id}`, { token: manager, body: {} })).status, 400, 'a reason is required');
  await call('POST', `${srv.base}/v1/operator/alerts/${id}/hold`, { token: manager, body: { held: false, reason: 'hearing over' } });
  const del = await call('DELETE', `${srv.base}/v1/operator/alerts/${id}`, { token: manager, body: { reason: 'dismissed at hearing' } });
  t.equal(del.status, 200, del.body);
  t.equal((await call('GET', `${srv.base}/v1/operator/alerts/${id}`, { token: manager })).status, 404, 'the alert is gone');
  t.notOk(diskContains(tmp.dir, ciphertext.subarray(1000, 1064)), 'its evidence bytes are gone');
  const feed = (await readAlerts(srv.base, consumer)).alerts.filter((e) => e.id === id || e.data.alertId === id);
  t.same(feed.map((e) => e.type), ['vigil.deletion.alert'], 'the alert and its review notice left the feed; a deletion notice took their place');
  const receipt = (await auditSince(tmp.dir)).find((e) => e.action === 'alert.delete' && e.target === `alert:${id}`);
  t.match(receipt, { actor: 'operator:mgr-ev', details: { subjectId: SUBJECT, category: 'image', reason: 'dismissed at hearing' } });
  t.notOk(JSON.stringify(receipt).includes(ciphertext.subarray(0, 16).toString('base64')), 'the receipt holds no content');
});

t.test('deletion - feed sequence numbers of deleted entries are never handed out again, across a restart', async (t) => {
  const id = await imageAlert(await images[2]!);
  const del = await call('DELETE', `${srv.base}/v1/operator/alerts/${id}`, { token: manager, body: { reason: 'test' } });
  const last = Math.max(...(del.json().feedSequences as number[]));
  const db = openDatabases(tmp.dir);
  await db.alerts.remove(last); // as retention does once the deletion notice is old: the newest entry is gone
  await db.root.close();
  await srv.stop();
  srv = await startTestServer(tmp.dir);
  const [alert] = await raiseAlerts(srv, consumer, SUBJECT, 1);
  t.ok(Number(alert!.sequence) > last, `the next alert takes a new sequence (${alert!.sequence} > ${last})`);
});

t.test('deletion - evidence of listed bytes no decoder reads is served as application/octet-stream, not image/octet-stream', async (t) => {
  const id = await imageAlert(undecodable);
  const got = await call('GET', `${srv.base}/v1/operator/alerts/${id}/evidence`, { token: manager });
  t.equal(got.status, 200);
  t.equal(got.headers['content-type'], 'application/octet-stream');
  t.same(got.raw, undecodable, 'the bytes as sent');
});
