import t from 'tap';
import { httpGet, startTestServer, tempDir, type TestServer } from '../helpers/vigil.js';
import { auditSince, call, createOperator, login } from '../helpers/operators.js';

const tmp = tempDir();
let srv: TestServer;
const tokens: Record<string, string> = {};

t.before(async () => {
  srv = await startTestServer(tmp.dir, { operators: { loginsPerMinute: 100_000 } });
  await createOperator(tmp.dir, 'admin1', 'admin');
  await createOperator(tmp.dir, 'mgr-a', 'manager');
  await createOperator(tmp.dir, 'aud1', 'auditor');
  tokens.admin = await login(srv.base, 'admin1');
  tokens.manager = await login(srv.base, 'mgr-a');
  tokens.auditor = await login(srv.base, 'aud1');
});
t.teardown(async () => { await srv.stop(); tmp.remove() });

t.test('operator API - a malformed percent-encoding in a path parameter is a 400, not the end of the server', async (t) => {
  for (const [method, url, token] of [
    ['GET', '/v1/operator/alerts/%E0%A4%A', tokens.manager],
    ['POST', '/v1/operator/alerts/%zz/review', tokens.manager],
    ['GET', '/v1/admin/operators/%/caseload', undefined], // no token: the path is read before authentication
    ['PUT', '/v1/admin/operators/mgr-a/caseload/%C0', tokens.admin],
  ] as const) {
    const res = await call(method, srv.base + url, token ? { token } : {});
    t.equal(res.status, 400, `${method} ${url}`);
    t.equal(res.json().error.code, 'BAD_REQUEST');
  }
  t.equal((await httpGet(`${srv.base}/healthz`)).status, 200, 'the server is still up');
});

t.test('operator API - a path parameter longer than any name is a 400, not a 500 from its lookup', async (t) => {
  const long = 'x'.repeat(5000); // LMDB refuses keys over 1978 bytes, and a lookup of one throws
  for (const [method, url, token, body] of [
    ['GET', `/v1/operator/alerts/${long}`, tokens.manager],
    ['GET', `/v1/operator/alerts/${long}/evidence`, tokens.manager],
    ['POST', `/v1/operator/alerts/${long}/review`, tokens.manager, { state: 'in_review' }],
    ['GET', `/v1/admin/operators/${long}/caseload`, tokens.admin],
    ['PATCH', `/v1/admin/operators/${long}`, tokens.admin, {}],
    ['PUT', `/v1/admin/operators/mgr-a/caseload/${long}`, tokens.admin],
    ['DELETE', `/v1/admin/operators/mgr-a/caseload/${'%C3%A9'.repeat(300)}`, tokens.admin],
  ] as const) {
    const res = await call(method, srv.base + url, { token, body });
    t.equal(res.status, 400, `${method} ${url.slice(0, 40)}…`);
    t.equal(res.json().error.code, 'BAD_REQUEST');
  }
  const res = await call('GET', `${srv.base}/v1/admin/operators/${'m'.repeat(256)}/caseload`, { token: tokens.admin });
  t.equal(res.status, 404, 'a parameter of 256 characters is still looked up');
});

t.test('operator API - audit page bounds past the safe integers are a 400, not a 500', async (t) => {
  for (const q of ['from=99999999999999999999', 'to=99999999999999999999', 'from=9007199254740993']) {
    const res = await call('GET', `${srv.base}/v1/audit?${q}`, { token: tokens.auditor });
    t.equal(res.status, 400, q);
    t.equal(res.json().error.code, 'BAD_REQUEST');
  }
  const ok = await call('GET', `${srv.base}/v1/audit?from=1&to=9007199254740991&limit=5`, { token: tokens.auditor });
  t.equal(ok.status, 200, 'the largest safe integer is still a bound');
});

t.test('operator API - a retention setting named __proto__ is refused, and the audit chain still verifies', async (t) => {
  const before = (await auditSince(tmp.dir)).length;
  for (const raw of ['{"__proto__": 5}', '{"toString": 5}', '{"alertDays": 400, "__proto__": 5}']) {
    const res = await call('PUT', `${srv.base}/v1/admin/retention`, { token: tokens.admin, raw: Buffer.from(raw) });
    t.equal(res.status, 400, raw);
  }
  t.equal((await auditSince(tmp.dir, before)).filter((e) => e.action === 'retention.settings').length, 0, 'no settings change was recorded');
  const settings = await call('GET', `${srv.base}/v1/admin/retention`, { token: tokens.admin });
  t.same(Object.keys(settings.json().settings).sort(), ['alertDays', 'dismissedAlertDays', 'evidenceDays', 'journalMaxAgeHours']);
  const verify = await call('GET', `${srv.base}/v1/audit/verify`, { token: tokens.auditor });
  t.match(verify.json(), { ok: true });
});

t.test('admin API - reading the operator accounts and a manager\'s caseload is audited, as `vigil operators list` is', async (t) => {
  const before = (await auditSince(tmp.dir)).length;
  t.equal((await call('GET', `${srv.base}/v1/admin/operators`, { token: tokens.admin })).status, 200);
  t.equal((await call('GET', `${srv.base}/v1/admin/operators/mgr-a/caseload`, { token: tokens.admin })).status, 200);
  const entries = await auditSince(tmp.dir, before);
  t.match(entries, [
    { actor: 'operator:admin1', action: 'operator.list', target: 'operators', details: { count: 3 } },
    { actor: 'operator:admin1', action: 'caseload.read', target: 'operator:mgr-a', details: { count: 0 } },
  ]);
  t.equal(entries.length, 2);
});

t.test('review API - limit and cursor are plain decimal numbers (0x10, 1e2, 1.0 and a blank passed through Number())', async (t) => {
  for (const q of ['limit=0x10', 'limit=1e2', 'limit=1.0', 'limit=', 'limit=%2010', 'cursor=0x10', 'cursor=1e300', 'cursor=1.0', 'cursor=-1', `cursor=${'9'.repeat(20)}`]) {
    const res = await call('GET', `${srv.base}/v1/operator/alerts?${q}`, { token: tokens.manager });
    t.equal(res.status, 400, q);
  }
  t.equal((await call('GET', `${srv.base}/v1/operator/alerts?limit=10&cursor=0`, { token: tokens.manager })).status, 200, 'decimal digits are fine');
});

t.test('login API - a password typed as the username is not kept: the audit log names an unknown operator and a fingerprint', async (t) => {
  const before = (await auditSince(tmp.dir)).length;
  const typed = 'MySecretPassw0rd!';
  for (let i = 0; i < 2; i++) t.equal((await call('POST', `${srv.base}/v1/login`, { body: { username: typed, password: 'x' } })).status, 401);
  t.equal((await call('POST', `${srv.base}/v1/login`, { body: { username: 'mgr-a', password: 'not the password' } })).status, 401);
  const [first, second, known] = await auditSince(tmp.dir, before);
  t.match(first, { actor: 'anonymous', action: 'login.failed', target: 'operator:(unknown)', details: { reason: 'unknown operator', attempt: /^[0-9a-f]{16}$/ } });
  t.equal(second?.details.attempt, first?.details.attempt, 'repeated attempts with one name can be correlated');
  t.match(known, { target: 'operator:mgr-a', details: { reason: 'wrong password' } }, 'a known operator keeps the username');
  const exported = await call('GET', `${srv.base}/v1/audit?from=1&limit=1000`, { token: tokens.auditor });
  t.notOk(exported.body.includes(typed), 'the name tried is not in what auditors read');
});

t.test('login API - a username holding a lone surrogate is a 400, and the audit chain still verifies', async (t) => {
  const res = await call('POST', `${srv.base}/v1/login`, { raw: Buffer.from('{"username":"x\\ud800","password":"x"}') });
  t.equal(res.status, 400);
  t.match(res.json().error, { code: 'BAD_REQUEST', message: /not valid Unicode/ });
  t.match((await call('GET', `${srv.base}/v1/audit/verify`, { token: tokens.auditor })).json(), { ok: true });
});
