import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../core/index.js';
import { tempDir } from '../helpers/vigil.js';

const tmp = tempDir();
t.teardown(tmp.remove);

t.test('config - fills defaults and freezes the result', async (t) => {
  const c = loadConfig({ dataDir: tmp.dir }, {});
  t.equal(c.port, 8080);
  t.equal(c.ingest.maxFrameBytes, 16 * 1024 * 1024);
  t.equal(c.evidenceKey, undefined, 'no default secret');
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.ingest));
});

t.test('config - environment beats the file, and overrides beat both', async (t) => {
  const file = join(tmp.dir, 'c.json');
  writeFileSync(file, JSON.stringify({ port: 9000, ingest: { maxFrameBytes: 4096 } }));
  t.equal(loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }).port, 9000);
  t.equal(loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file, VIGIL_PORT: '9100' }).port, 9100);
  t.equal(loadConfig({ dataDir: tmp.dir, port: 9200 }, { VIGIL_CONFIG: file, VIGIL_PORT: '9100' }).port, 9200);
  t.equal(loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }).ingest.maxFrameBytes, 4096);
});

t.test('config - invalid values are refused with a message naming the key', async (t) => {
  const file = join(tmp.dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ ingest: { maxFrameBytes: 0 } }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), { code: 'CONFIG_INVALID', message: /ingest\.maxFrameBytes must be an integer 1024\.\.67108864/ });
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_EVIDENCE_KEY: 'abc' }), /64 hex digits/);
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_PORT: 'eighty' }), /VIGIL_PORT/);
  writeFileSync(file, '{not json');
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), /not valid JSON/);
});

t.test('config - a key the file does not know, or a value of the wrong type, is refused with the key named', async (t) => {
  const file = join(tmp.dir, 'typo.json');
  writeFileSync(file, JSON.stringify({ retention: { alertday: 30 } }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), { code: 'CONFIG_INVALID', message: /unknown key retention\.alertday; known: retention\.journalMaxAgeHours, retention\.alertDays/ });
  writeFileSync(file, JSON.stringify({ prot: 9000 }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), { code: 'CONFIG_INVALID', message: /unknown key prot/ });
  for (const [key, value] of [['host', 5], ['logLevel', false], ['evidenceKey', 12]] as const) {
    writeFileSync(file, JSON.stringify({ [key]: value }));
    t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), { code: 'CONFIG_INVALID', message: new RegExp(`${key} must be a string`) }, key);
  }
  writeFileSync(join(tmp.dir, 'vigil.json'), JSON.stringify({ ingest: { idleTimeoutSecond: 5 } }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, {}), { code: 'CONFIG_INVALID', message: /unknown key ingest\.idleTimeoutSecond/ }, 'so is <data>/vigil.json');
  writeFileSync(join(tmp.dir, 'vigil.json'), JSON.stringify({ port: 9001, ingest: { idleTimeoutSeconds: 60 } }));
  t.equal(loadConfig({ dataDir: tmp.dir }, {}).port, 9001, 'known keys are read');
});

t.test('config - a config file named by VIGIL_CONFIG must exist', async (t) => {
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: join(tmp.dir, 'no-such.json') }), { code: 'CONFIG_INVALID', message: /VIGIL_CONFIG names .*no-such\.json, which does not exist/ });
});
