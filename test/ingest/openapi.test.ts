import t from 'tap';
import { pino } from 'pino';
import { loadConfig } from '../../core/index.js';
import {
  AlertStore, AuditLog, ListStore, OperatorStore, RegistryStore, RetentionSweeper, openDatabases,
} from '../../store/index.js';
import { OPENAPI_DOCUMENT, OperatorApi } from '../../ingest/index.js';
import { tempDir } from '../helpers/vigil.js';
import { checkSchema } from '../helpers/operators.js';

const doc = OPENAPI_DOCUMENT as Record<string, any>;

t.test('openapi - documents exactly the routes the operator API registers, with their roles', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const config = loadConfig({ dataDir: tmp.dir }, {});
  const audit = new AuditLog(db);
  const alerts = new AlertStore(db, audit);
  const registry = new RegistryStore(db);
  const operators = new OperatorStore(db, audit, config.operators);
  const log = pino({ level: 'silent' });
  const api = new OperatorApi({
    operators, registry, alerts, audit, lists: new ListStore(db), published: () => {},
    retention: new RetentionSweeper({ db, alerts, audit, registry, defaults: config.retention, log }),
    evidenceKey: Buffer.alloc(32), config: config.operators, dataDir: tmp.dir, log,
  });
  const method = (m: string) => (m === 'del' ? 'delete' : m);
  const registered = api.routes.map((r) => `${method(r.method)} ${r.path.replace(/:(\w+)/g, '{$1}')}`).sort();
  const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
    .filter((op) => op !== 'get /v1/alerts' && op !== 'get /v1/feed') // the feed gateway's (PROTOCOL.md §4)
    .sort();
  t.same(registered, documented);
  for (const r of api.routes) {
    const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')][method(r.method)];
    t.same(op['x-vigil-roles'], r.roles === 'public' ? ['public'] : r.roles, `${r.method} ${r.path}: roles as documented`);
  }
});

t.test('openapi - every $ref resolves and the checker refuses bodies that do not match', async (t) => {
  const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
  for (const ref of new Set(refs)) t.ok(doc.components.schemas[ref.split('/').at(-1)!], ref);
  const alertSchema = { $ref: '#/components/schemas/Alert' };
  t.not(checkSchema({ id: 'x' }, alertSchema, doc).length, 0, 'missing fields');
  t.not(checkSchema({ error: { code: 1, message: 'm' } }, { $ref: '#/components/schemas/Error' }, doc).length, 0, 'a wrong type');
  t.not(checkSchema({ ok: true, count: 1, seq: 2, reason: 'r' }, { $ref: '#/components/schemas/ChainCheck' }, doc).length, 0, 'neither oneOf branch');
  t.same(checkSchema({ error: { code: 'X', message: 'm' } }, { $ref: '#/components/schemas/Error' }, doc), []);
});
