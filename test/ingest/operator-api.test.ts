import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import { ListStore, openDatabases } from '../../store/index.js';
import { importListFile } from '../../pipeline/index.js';
import { OPENAPI_DOCUMENT } from '../../ingest/index.js';
import { TestDevice, consumerToken, httpGet, readAlerts, startTestServer, tempDir, waitForAlerts, type TestServer } from '../helpers/vigil.js';
import {
  PASSWORD, addCaseload, auditSince, call, checkSchema, createOperator, enrolSubject, login, raiseAlerts, type Reply,
} from '../helpers/operators.js';

const tmp = tempDir();
let srv: TestServer;
let consumer: string;
const tokens: Record<string, string> = {};
const A = 'subject-a';
const B = 'subject-b';
const C = 'subject-c';
/** Alerts of subject A (on mgr-a's caseload), used up by the tests that change them. */
const keywordPool: string[] = [];
const imagePool: string[] = [];
let imageBytes: Buffer;
let bAlert: string;
const doc = OPENAPI_DOCUMENT as Record<string, any>;

async function syntheticPng(seed: number): Promise<Buffer> {
  const w = 64;
  const h = 48;
  const data = Buffer.alloc(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 97) & 255;
  return sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

async function raiseImageAlerts(subjectId: string, n: number): Promise<string[]> {
  const { deviceId, token } = await enrolSubject(tmp.dir, subjectId);
  const before = (await readAlerts(srv.base, consumer)).next;
  const dev = await TestDevice.connect(srv.port, token);
  for (let i = 1; i <= n; i++) dev.send({ type: 'image', seq: i, at: Date.now(), bytes: imageBytes, source: 'gallery' });
  await dev.waitForAck(n, 10_000);
  await dev.close();
  const events = await waitForAlerts(srv.base, consumer, n, before, 10_000);
  return events.filter((e) => e.data.deviceId === deviceId && e.type === 'vigil.alert.image').map((e) => e.id as string);
}

t.before(async () => {
  imageBytes = await syntheticPng(7);
  const csv = join(tmp.dir, 'hashes.csv');
  writeFileSync(csv, `type,value,category,ref\nsha256,${createHash('sha256').update(imageBytes).digest('hex')},A,test-img-1\n`);
  srv = await startTestServer(tmp.dir, { operators: { loginsPerMinute: 100_000 } });
  // Imported after the first start, so that the demo keyword lists exist too.
  const db = openDatabases(tmp.dir);
  await importListFile(new ListStore(db), 'hashes', 'test-hashes', csv);
  await db.root.close();
  for (let i = 0; i < 100 && !(await httpGet(`${srv.base}/healthz`)).body.includes('test-hashes'); i++) await new Promise((r) => setTimeout(r, 50));
  consumer = await consumerToken(tmp.dir);
  await createOperator(tmp.dir, 'admin1', 'admin');
  await createOperator(tmp.dir, 'mgr-a', 'manager');
  await createOperator(tmp.dir, 'mgr-b', 'manager');
  await createOperator(tmp.dir, 'aud1', 'auditor');
  for (const s of [A, B, C]) await enrolSubject(tmp.dir, s);
  await addCaseload(tmp.dir, 'mgr-a', A);
  await addCaseload(tmp.dir, 'mgr-b', B);
  await addCaseload(tmp.dir, 'mgr-b', C);
  tokens.admin = await login(srv.base, 'admin1');
  tokens.manager = await login(srv.base, 'mgr-a');
  tokens.auditor = await login(srv.base, 'aud1');
  tokens.consumer = consumer;
  tokens.managerB = await login(srv.base, 'mgr-b');
  keywordPool.push(...(await raiseAlerts(srv, consumer, A, 12)).map((e) => e.id as string));
  bAlert = (await raiseAlerts(srv, consumer, B, 1))[0]!.id;
  imagePool.push(...await raiseImageAlerts(A, 4));
});
t.teardown(async () => { await srv.stop(); tmp.remove() });

const take = (pool: string[]): string => {
  const id = pool.shift();
  if (!id) throw new Error('the test pool of alerts ran out');
  return id;
};

/** The documented schema for a response, if it is JSON. */
function documented(path: string, method: string, status: number): Record<string, any> | undefined {
  return doc.paths[path]?.[method]?.responses?.[status]?.content?.['application/json']?.schema;
}

function conforms(t: Test, path: string, method: string, res: Reply, label: string): void {
  const responses = doc.paths[path][method].responses as Record<string, any>;
  t.ok(responses[res.status], `${label}: status ${res.status} is documented`);
  const schema = documented(path, method, res.status);
  if (schema) t.same(checkSchema(res.json(), schema, doc), [], `${label}: the body matches the documented schema`);
  else if (res.status === 200 && responses[200]?.content?.['image/*']) t.match(String(res.headers['content-type']), /^image\//, `${label}: an image`);
}

type Role = 'none' | 'admin' | 'manager' | 'auditor' | 'consumer';
const ROLE_LIST: Role[] = ['none', 'admin', 'manager', 'auditor', 'consumer'];

interface Request { url: string; body?: unknown; raw?: Buffer; contentType?: string; token?: string }
interface Case { path: string; method: 'get' | 'post' | 'put' | 'patch' | 'delete'; request(allowed: boolean): Promise<Request> }

let created = 0;
const CASES: Case[] = [
  { path: '/v1/logout', method: 'post', async request(allowed) {
    return { url: '/v1/logout', ...(allowed ? { token: 'fresh' } : {}) };
  } },
  { path: '/v1/me', method: 'get', request: async () => ({ url: '/v1/me' }) },
  { path: '/v1/operator/alerts', method: 'get', request: async () => ({ url: `/v1/operator/alerts?limit=5&order=desc&subject=${A}` }) },
  { path: '/v1/operator/alerts/{id}', method: 'get', request: async () => ({ url: `/v1/operator/alerts/${keywordPool[0]}` }) },
  { path: '/v1/operator/alerts/{id}', method: 'delete', async request(allowed) {
    return { url: `/v1/operator/alerts/${allowed ? take(keywordPool) : keywordPool[0]}`, body: { reason: 'entered in error' } };
  } },
  { path: '/v1/operator/alerts/{id}/evidence', method: 'get', request: async () => ({ url: `/v1/operator/alerts/${imagePool[0]}/evidence` }) },
  { path: '/v1/operator/alerts/{id}/evidence', method: 'delete', async request(allowed) {
    return { url: `/v1/operator/alerts/${allowed ? take(imagePool) : imagePool[0]}/evidence`, body: { reason: 'no longer needed' } };
  } },
  { path: '/v1/operator/alerts/{id}/review', method: 'post', async request(allowed) {
    return { url: `/v1/operator/alerts/${allowed ? take(keywordPool) : keywordPool[0]}/review`, body: { state: 'in_review' } };
  } },
  { path: '/v1/operator/alerts/{id}/hold', method: 'post', async request() {
    return { url: `/v1/operator/alerts/${keywordPool[0]}/hold`, body: { held: false, reason: 'not needed' } };
  } },
  { path: '/v1/audit', method: 'get', request: async () => ({ url: '/v1/audit?from=1&limit=20' }) },
  { path: '/v1/audit/verify', method: 'get', request: async () => ({ url: '/v1/audit/verify' }) },
  { path: '/v1/admin/operators', method: 'get', request: async () => ({ url: '/v1/admin/operators' }) },
  { path: '/v1/admin/operators', method: 'post', async request() {
    return { url: '/v1/admin/operators', body: { username: `new-op-${++created}`, role: 'auditor', password: PASSWORD } };
  } },
  { path: '/v1/admin/operators/{username}', method: 'patch', request: async () => ({ url: '/v1/admin/operators/mgr-b', body: { unlock: true } }) },
  { path: '/v1/admin/operators/{username}/caseload', method: 'get', request: async () => ({ url: '/v1/admin/operators/mgr-a/caseload' }) },
  { path: '/v1/admin/operators/{username}/caseload/{subject}', method: 'put', request: async () => ({ url: `/v1/admin/operators/mgr-b/caseload/${B}` }) },
  { path: '/v1/admin/operators/{username}/caseload/{subject}', method: 'delete', request: async () => ({ url: `/v1/admin/operators/mgr-b/caseload/${C}` }) },
  { path: '/v1/admin/retention', method: 'get', request: async () => ({ url: '/v1/admin/retention' }) },
  { path: '/v1/admin/retention', method: 'put', request: async () => ({ url: '/v1/admin/retention', body: { alertDays: 400 } }) },
  { path: '/v1/admin/retention/sweep', method: 'post', request: async () => ({ url: '/v1/admin/retention/sweep' }) },
  { path: '/v1/admin/lists', method: 'get', request: async () => ({ url: '/v1/admin/lists' }) },
  { path: '/v1/admin/lists/{name}', method: 'post', async request() {
    return { url: '/v1/admin/lists/extra-terms?kind=keywords', raw: Buffer.from('term,severity,ref\nzzyzxword,low,x-1\n'), contentType: 'text/csv' };
  } },
  { path: '/v1/alerts', method: 'get', request: async () => ({ url: '/v1/alerts?after=0&limit=5' }) },
];

t.test('operator API - every endpoint answers each role and no token with 401, 403 or success, as documented', async (t) => {
  const documentedOps = Object.entries(doc.paths as Record<string, Record<string, any>>)
    .flatMap(([path, ops]) => Object.entries(ops).filter(([, o]) => !o['x-vigil-roles'].includes('public')).map(([m]) => `${m} ${path}`))
    .filter((op) => op !== 'get /v1/feed').sort();
  t.same(CASES.map((c) => `${c.method} ${c.path}`).sort(), documentedOps, 'the table covers every documented endpoint');
  for (const c of CASES) {
    const op = doc.paths[c.path][c.method];
    const roles = op['x-vigil-roles'] as string[];
    const okStatus = Number(Object.keys(op.responses).find((s) => s.startsWith('2')));
    for (const role of ROLE_LIST) {
      const allowed = roles.includes(role);
      const req = await c.request(allowed);
      let token = role === 'none' ? undefined : tokens[role];
      if (req.token === 'fresh' && role !== 'none' && role !== 'consumer') token = await login(srv.base, { admin: 'admin1', manager: 'mgr-a', auditor: 'aud1' }[role]);
      const res = await call(c.method.toUpperCase(), srv.base + req.url, {
        ...(token ? { token } : {}), ...(req.body !== undefined ? { body: req.body } : {}),
        ...(req.raw ? { raw: req.raw, contentType: req.contentType ?? 'text/csv' } : {}),
      });
      // The feed (PROTOCOL.md §4) accepts consumer tokens only: any other token is not a credential there.
      const expected = role === 'none' ? 401 : allowed ? okStatus : c.path === '/v1/alerts' ? 401 : 403;
      const label = `${c.method.toUpperCase()} ${req.url} as ${role}`;
      t.equal(res.status, expected, `${label} -> ${expected}${res.status === expected ? '' : `: ${res.body}`}`);
      conforms(t, c.path, c.method, res, label);
    }
  }
});

t.test('operator API - the feed socket takes consumer tokens only', async (t) => {
  const status = (token?: string): Promise<number> => new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/v1/feed?after=0`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    ws.once('open', () => { ws.terminate(); resolve(101) });
    ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
  t.equal(await status(), 401, 'no token');
  for (const role of ['admin', 'manager', 'auditor']) t.equal(await status(tokens[role]), 401, role);
  t.equal(await status(tokens.consumer), 101, 'consumer');
});

t.test('operator API - login, the OpenAPI document and refusals of bad credentials', async (t) => {
  const openapi = await call('GET', `${srv.base}/v1/openapi.json`);
  t.equal(openapi.status, 200);
  t.equal(openapi.json().openapi, '3.1.0');
  t.same(openapi.json(), JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)), 'the served document is the one the tests check against');
  const ok = await call('POST', `${srv.base}/v1/login`, { body: { username: 'aud1', password: PASSWORD } });
  t.equal(ok.status, 200);
  conforms(t, '/v1/login', 'post', ok, 'login');
  t.match(ok.json(), { token: /^vo1\./, role: 'auditor' });
  t.ok(ok.json().expiresAt - Date.now() <= 3600_000 + 5000, 'the token lives an hour at most');
  const bad = await call('POST', `${srv.base}/v1/login`, { body: { username: 'aud1', password: 'wrong password here' } });
  t.equal(bad.status, 401);
  conforms(t, '/v1/login', 'post', bad, 'failed login');
  const unknown = await call('POST', `${srv.base}/v1/login`, { body: { username: 'nobody', password: PASSWORD } });
  t.equal(unknown.status, 401);
  t.same(unknown.json(), bad.json(), 'an unknown user gets the same answer as a wrong password');
  const malformed = await call('POST', `${srv.base}/v1/login`, { raw: Buffer.from('{not json'), contentType: 'application/json' });
  t.equal(malformed.status, 400);
  t.equal((await call('GET', `${srv.base}/v1/me`, { token: 'vo1.abc.def' })).status, 401, 'a forged session token');
  t.equal((await call('GET', `${srv.base}/v1/me`, { token: ok.json().token.slice(0, -2) + 'xx' })).status, 401, 'a wrong secret');
});

t.test('operator API - a manager sees and changes only the subjects on their caseload', async (t) => {
  const aAlert = keywordPool[0]!;
  const mine = await call('GET', `${srv.base}/v1/operator/alerts?limit=100`, { token: tokens.managerB });
  t.equal(mine.status, 200);
  const subjects = new Set((mine.json().alerts as { subjectId: string }[]).map((a) => a.subjectId));
  t.same([...subjects], [B], 'the listing holds only caseload subjects');
  const before = (await auditSince(tmp.dir)).length;
  for (const [method, url, body] of [
    ['GET', `/v1/operator/alerts/${aAlert}`, undefined],
    ['GET', `/v1/operator/alerts?subject=${A}`, undefined],
    ['GET', `/v1/operator/alerts/${imagePool[0]}/evidence`, undefined],
    ['POST', `/v1/operator/alerts/${aAlert}/review`, { state: 'in_review' }],
    ['POST', `/v1/operator/alerts/${aAlert}/hold`, { held: true, reason: 'mine now' }],
    ['DELETE', `/v1/operator/alerts/${aAlert}/evidence`, { reason: 'x' }],
    ['DELETE', `/v1/operator/alerts/${aAlert}`, { reason: 'x' }],
  ] as const) {
    const res = await call(method, srv.base + url, { token: tokens.managerB, ...(body ? { body } : {}) });
    t.equal(res.status, 403, `${method} ${url}`);
    t.equal(res.json().error.code, 'FORBIDDEN');
    if (!url.includes('subject=')) t.notMatch(res.body, A, 'the answer does not name a subject the caller may not see');
  }
  const own = await call('GET', `${srv.base}/v1/operator/alerts/${aAlert}`, { token: tokens.manager });
  t.equal(own.status, 200, 'the alert is untouched and its own manager can read it');
  t.match(own.json(), { state: 'new', hold: null });
  const denied = (await auditSince(tmp.dir, before)).filter((e) => e.action === 'access.denied');
  t.equal(denied.length, 7, 'every refusal is in the audit log');
  t.match(denied[0], { actor: 'operator:mgr-b', details: { role: 'manager', reason: `subject ${A} is not on your caseload` } }, 'the audit entry does');
  t.equal((await call('GET', `${srv.base}/v1/operator/alerts/${bAlert}`, { token: tokens.managerB })).status, 200, 'B\'s manager reads B\'s alert');
});

t.test('operator API - a decision needs a rationale, and only the workflow\'s moves are allowed', async (t) => {
  const id = take(keywordPool);
  const review = (body: Record<string, unknown>) => call('POST', `${srv.base}/v1/operator/alerts/${id}/review`, { token: tokens.manager, body });
  t.equal((await review({ state: 'confirmed', rationale: 'x' })).status, 409, 'new -> confirmed skips review');
  t.equal((await review({ state: 'in_review' })).status, 200, 'new -> in_review needs no rationale');
  t.equal((await review({ state: 'in_review' })).status, 409, 'in_review -> in_review');
  for (const rationale of [undefined, '', '   ']) {
    const res = await review({ state: 'dismissed', ...(rationale !== undefined ? { rationale } : {}) });
    t.equal(res.status, 400, `rationale ${JSON.stringify(rationale)}`);
    t.equal(res.json().error.code, 'RATIONALE_REQUIRED');
    conforms(t, '/v1/operator/alerts/{id}/review', 'post', res, 'no rationale');
  }
  t.equal((await review({ state: 'closed', rationale: 'x' })).status, 400, 'an unknown state');
  const done = await review({ state: 'dismissed', rationale: 'The term is a place name in a shopping list; not a concern.' });
  t.equal(done.status, 200);
  t.match(done.json().alert, { state: 'dismissed', review: { from: 'in_review', to: 'dismissed', by: 'mgr-a', rationale: /shopping list/ } });
  t.equal((await review({ state: 'in_review', rationale: 'reopen' })).status, 409, 'a decision is final');
  t.equal((await review({ state: 'confirmed', rationale: 'changed my mind' })).status, 409);
  const big = await call('POST', `${srv.base}/v1/operator/alerts/${id}/review`, { token: tokens.manager, raw: Buffer.alloc(100 * 1024, 32) });
  t.equal(big.status, 413, 'a body over 64 KiB is refused');
});

t.test('operator API - a body string holding a lone surrogate is a 400, and the audit chain still verifies (it read as altered)', async (t) => {
  const id = take(keywordPool);
  const lone = 'fine until here \ud800';
  for (const [url, body] of [
    [`/v1/operator/alerts/${id}/review`, { state: 'in_review', rationale: lone }],
    [`/v1/operator/alerts/${id}/hold`, { held: true, reason: lone }],
    [`/v1/operator/alerts/${id}/review`, { state: 'in_review', [lone]: 1 }],
  ] as const) {
    const res = await call('POST', srv.base + url, { token: tokens.manager, body });
    t.equal(res.status, 400, `${url} ${JSON.stringify(body)}`);
    t.equal(res.json().error.code, 'BAD_REQUEST');
  }
  t.equal((await call('POST', `${srv.base}/v1/operator/alerts/${id}/review`, { token: tokens.manager, body: { state: 'in_review', rationale: 'a pair is text: \u{1F600}' } })).status, 200);
  t.match((await call('GET', `${srv.base}/v1/audit/verify`, { token: tokens.auditor })).json(), { ok: true });
});

t.test('operator API - review changes are published on the feed after the alert, over HTTP and WebSocket', async (t) => {
  const [alert] = await raiseAlerts(srv, consumer, A, 1);
  const alertSeq = Number(alert!.sequence);
  const events: Record<string, any>[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/v1/feed?after=${alertSeq - 1}`, { headers: { authorization: `Bearer ${consumer}` } });
  ws.on('message', (d) => events.push(JSON.parse(String(d))));
  await new Promise((r) => ws.once('open', r));
  const id = alert!.id as string;
  await call('POST', `${srv.base}/v1/operator/alerts/${id}/review`, { token: tokens.manager, body: { state: 'in_review' } });
  await call('POST', `${srv.base}/v1/operator/alerts/${id}/review`, { token: tokens.manager, body: { state: 'confirmed', rationale: 'Matches the licence condition; escalate.' } });
  const mine = (list: Record<string, any>[]) => list.filter((e) => e.id === id || e.data?.alertId === id);
  const end = Date.now() + 5000;
  while (mine(events).length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  ws.close();
  const viaHttp = mine((await readAlerts(srv.base, consumer, alertSeq - 1)).alerts);
  for (const [how, list] of [['WebSocket', mine(events)], ['HTTP', viaHttp]] as const) {
    t.same(list.map((e) => e.type), ['vigil.alert.keyboard', 'vigil.review.in_review', 'vigil.review.confirmed'], `${how}: alert, then decisions`);
    const seqs = list.map((e) => Number(e.sequence));
    t.same(seqs, [...seqs].sort((a, b) => a - b), `${how}: in sequence order`);
    t.equal(new Set(list.map((e) => `${e.source} ${e.id}`)).size, 3, `${how}: each event has its own id`);
    t.match(list[2], {
      specversion: '1.0', source: '/vigil/reviews', subject: A, datacontenttype: 'application/json',
      data: { alertId: id, alertSequence: String(alertSeq), state: 'confirmed', previousState: 'in_review', reviewer: 'mgr-a',
        rationale: 'Matches the licence condition; escalate.' },
    });
    t.notOk(JSON.stringify(list.slice(1)).includes('forbiddenword'), `${how}: review events carry no observed content`);
    for (const e of list) t.same(checkSchema(e, doc.components.schemas.CloudEvent, doc), [], `${how}: ${e.type} is a documented CloudEvent`);
  }
});

t.test('operator API - every operator action is in the audit log, with no monitored content', async (t) => {
  const from = (await auditSince(tmp.dir)).length;
  const id = take(keywordPool);
  const image = take(imagePool);
  await call('POST', `${srv.base}/v1/login`, { body: { username: 'mgr-a', password: 'not the password' } });
  const mgr = await login(srv.base, 'mgr-a');
  await call('GET', `${srv.base}/v1/operator/alerts?limit=3`, { token: mgr });
  await call('GET', `${srv.base}/v1/operator/alerts/${id}`, { token: mgr });
  const ev = await call('GET', `${srv.base}/v1/operator/alerts/${image}/evidence`, { token: mgr });
  t.same(ev.raw, imageBytes, 'the evidence decrypts to the image');
  await call('POST', `${srv.base}/v1/operator/alerts/${id}/review`, { token: mgr, body: { state: 'in_review' } });
  await call('POST', `${srv.base}/v1/operator/alerts/${id}/hold`, { token: mgr, body: { held: true, reason: 'appeal pending' } });
  await call('DELETE', `${srv.base}/v1/operator/alerts/${image}`, { token: mgr, body: { reason: 'duplicate of another alert' } });
  await call('PATCH', `${srv.base}/v1/admin/operators/aud1`, { token: tokens.admin, body: { role: 'auditor', unlock: true } });
  await call('PATCH', `${srv.base}/v1/admin/operators/mgr-b`, { token: tokens.admin, body: { role: 'auditor' } });
  await call('PATCH', `${srv.base}/v1/admin/operators/mgr-b`, { token: tokens.admin, body: { role: 'manager' } });
  await call('POST', `${srv.base}/v1/admin/lists/more-terms?kind=keywords`, { token: tokens.admin, raw: Buffer.from('term,severity,ref\nqqxword,low,q-1\n'), contentType: 'text/csv' });
  await call('GET', `${srv.base}/v1/audit?from=1&limit=5`, { token: tokens.auditor });
  const entries = await auditSince(tmp.dir, from);
  const has = (action: string, match: { actor?: string; target?: string }) =>
    t.ok(entries.some((e) => e.action === action && (match.actor === undefined || e.actor === match.actor)
      && (match.target === undefined || e.target === match.target)), `${action} ${JSON.stringify(match)}`);
  has('login.failed', { actor: 'anonymous', target: 'operator:mgr-a' });
  has('login', { actor: 'operator:mgr-a' });
  has('alert.list', { actor: 'operator:mgr-a' });
  has('alert.read', { actor: 'operator:mgr-a', target: `alert:${id}` });
  has('evidence.read', { actor: 'operator:mgr-a', target: `alert:${image}` });
  has('review.change', { actor: 'operator:mgr-a', target: `alert:${id}` });
  has('alert.hold', { target: `alert:${id}` });
  has('alert.delete', { actor: 'operator:mgr-a', target: `alert:${image}` });
  has('operator.role', { actor: 'operator:admin1', target: 'operator:mgr-b' });
  has('list.import', { actor: 'operator:admin1', target: 'list:more-terms' });
  has('audit.read', { actor: 'operator:aud1' });
  const receipt = entries.find((e) => e.action === 'alert.delete')!;
  t.match(receipt.details, { subjectId: A, category: 'image', reason: 'duplicate of another alert' }, 'the receipt says who, when, what and why');
  const all = JSON.stringify(await auditSince(tmp.dir));
  t.notOk(all.includes('forbiddenword'), 'no alert content (excerpts) in the audit log');
  t.notOk(all.includes(PASSWORD), 'no passwords in the audit log');
  const verify = await call('GET', `${srv.base}/v1/audit/verify`, { token: tokens.auditor });
  t.match(verify.json(), { ok: true });
});

t.test('operator API - repeated wrong passwords lock the account until an admin unlocks it', async (t) => {
  await createOperator(tmp.dir, 'mgr-lock', 'manager');
  for (let i = 0; i < 5; i++) {
    t.equal((await call('POST', `${srv.base}/v1/login`, { body: { username: 'mgr-lock', password: `guess number ${i}` } })).status, 401);
  }
  t.equal((await call('POST', `${srv.base}/v1/login`, { body: { username: 'mgr-lock', password: PASSWORD } })).status, 401, 'locked: the right password is refused too');
  const entries = await auditSince(tmp.dir);
  t.ok(entries.some((e) => e.action === 'operator.locked' && e.target === 'operator:mgr-lock'), 'the lock-out is audited');
  t.ok(entries.some((e) => e.action === 'login.failed' && e.target === 'operator:mgr-lock' && e.details.reason === 'locked'));
  const unlock = await call('PATCH', `${srv.base}/v1/admin/operators/mgr-lock`, { token: tokens.admin, body: { unlock: true } });
  t.equal(unlock.status, 200);
  t.equal((await call('POST', `${srv.base}/v1/login`, { body: { username: 'mgr-lock', password: PASSWORD } })).status, 200, 'unlocked');
});

t.test('operator API - login attempts from one address are rate limited', async (t) => {
  const tmp2 = tempDir();
  const s2 = await startTestServer(tmp2.dir, { operators: { loginsPerMinute: 3 } });
  t.teardown(async () => { await s2.stop(); tmp2.remove() });
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await call('POST', `${s2.base}/v1/login`, { body: { username: 'x-user', password: 'y' } })).status);
  t.same(statuses, [401, 401, 401, 429, 429]);
});

t.test('operator API - a list uploaded over HTTP gets the command line\'s checks: no empty file unless asked, a keyword list compiled first', async (t) => {
  const upload = (name: string, csv: string, query = '') => call('POST', `${srv.base}/v1/admin/lists/${name}?kind=keywords${query}`,
    { token: tokens.admin, raw: Buffer.from(csv), contentType: 'text/csv' });
  const empty = await upload('http-empty', 'term,severity,ref\n');
  t.equal(empty.status, 400, 'a header and no rows');
  t.match(empty.json().error.message, /no rows.*allowEmpty=true/);
  const emptied = await upload('http-empty', 'term,severity,ref\n', '&allowEmpty=true');
  t.equal(emptied.status, 200, 'unless asked for');
  t.match(emptied.json().list, { name: 'http-empty', count: 0, source: 'http upload by operator:admin1' });
  // 20,000 terms over 3,000 distinct CJK characters: the automaton's table would pass its cell limit.
  const rows = ['term,severity,ref'];
  for (let i = 0; i < 20_000; i++) {
    let term = '';
    for (let j = 0; j < 5; j++) term += String.fromCodePoint(0x4e00 + ((i * 7 + j * 613) % 3000));
    rows.push(`${term},low,c${i}`);
  }
  const big = await upload('http-cjk', rows.join('\n'));
  t.equal(big.status, 400, 'a keyword list the matcher cannot hold is refused, not imported and then left uncompiled');
  t.match(big.json().error.message, /cannot be compiled/);
  const lists = (await call('GET', `${srv.base}/v1/admin/lists`, { token: tokens.admin })).json().lists as { name: string }[];
  t.notOk(lists.some((l) => l.name === 'http-cjk'), 'nothing of it applied');
});
