import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../core/index.js';
import { tempDir } from '../helpers/vigil.js';

const tmp = tempDir();
t.teardown(tmp.remove);

t.test('config - fills defaults and freezes the result', async (t) => {
  const c = loadConfig({ dataDir: tmp.dir }, {});
  t.equal(c.port, 8080);
  t.equal(c.host, '127.0.0.1', 'loopback: plain HTTP logins and device endpoints are not offered to the network unless asked');
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

t.test('config - an unknown key, in the file or one of its sections, is refused by name rather than ignored', async (t) => {
  const file = join(tmp.dir, 'unknown.json');
  writeFileSync(file, JSON.stringify({ policy: { heartbeatSecond: 5 } }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), { code: 'CONFIG_INVALID', message: /unknown config key "policy\.heartbeatSecond"/ });
  writeFileSync(file, JSON.stringify({ hots: '127.0.0.1' }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), /unknown config key "hots"/);
  writeFileSync(file, '{"__proto__": {"port": 1}}');
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), /unknown config key "__proto__"/);
});

t.test('config - host, logLevel and evidenceKey of another type in the file are refused, not replaced by the default', async (t) => {
  const file = join(tmp.dir, 'types.json');
  writeFileSync(file, JSON.stringify({ host: 127001 }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), { code: 'CONFIG_INVALID', message: /host \(VIGIL_HOST\) must be a string/ });
  writeFileSync(file, JSON.stringify({ logLevel: 10 }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), /logLevel \(VIGIL_LOG_LEVEL\) must be a string/);
  writeFileSync(file, JSON.stringify({ evidenceKey: 1234 }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), /evidenceKey \(VIGIL_EVIDENCE_KEY\) must be a string/);
  writeFileSync(file, JSON.stringify({ host: '' }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), /host must not be empty/, 'an empty host written in the file is refused');
  writeFileSync(file, JSON.stringify({ host: '127.0.0.1', logLevel: 'warn' }));
  t.match(loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), { host: '127.0.0.1', logLevel: 'warn' });
});

t.test('config - a file named by VIGIL_CONFIG that is missing or not a file is an error; an absent <data>/vigil.json is not', async (t) => {
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: join(tmp.dir, 'no-such.json') }), { code: 'CONFIG_INVALID', message: /no-such\.json \(VIGIL_CONFIG\) does not exist/ });
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: tmp.dir }), /cannot be read/);
  t.equal(loadConfig({ dataDir: join(tmp.dir, 'empty-folder') }, {}).port, 8080);
});

t.test('config - VIGIL_PORT and VIGIL_WORKERS are decimal digits: hex, exponents, decimals and blanks are refused', async (t) => {
  for (const raw of ['0x50', '1e3', '8080.0', ' 8080', '-1']) {
    t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_PORT: raw }), /VIGIL_PORT must be an integer in decimal digits/, raw);
  }
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_WORKERS: '0x2' }), /VIGIL_WORKERS/);
  t.equal(loadConfig({ dataDir: tmp.dir }, { VIGIL_PORT: '9300', VIGIL_WORKERS: '2' }).port, 9300);
});

t.test('config - ingest.idleTimeoutSeconds past 960 is refused: uWebSockets.js aborted the server on it', async (t) => {
  const file = join(tmp.dir, 'idle.json');
  writeFileSync(file, JSON.stringify({ ingest: { idleTimeoutSeconds: 961 } }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), { code: 'CONFIG_INVALID', message: /ingest\.idleTimeoutSeconds must be an integer 8\.\.960/ });
  writeFileSync(file, JSON.stringify({ ingest: { idleTimeoutSeconds: 960 } }));
  t.equal(loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }).ingest.idleTimeoutSeconds, 960);
});

t.test('config - policy.uncheckedImageWindowSeconds is an hour unless set, and 1..86400', async (t) => {
  t.equal(loadConfig({ dataDir: tmp.dir }, {}).policy.uncheckedImageWindowSeconds, 3600);
  const file = join(tmp.dir, 'unchecked.json');
  writeFileSync(file, JSON.stringify({ policy: { uncheckedImageWindowSeconds: 600 } }));
  t.equal(loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }).policy.uncheckedImageWindowSeconds, 600);
  writeFileSync(file, JSON.stringify({ policy: { uncheckedImageWindowSeconds: 0 } }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), { code: 'CONFIG_INVALID', message: /policy\.uncheckedImageWindowSeconds must be an integer 1\.\.86400/ });
});

t.test('config - an empty VIGIL_* variable counts as unset, every one alike: the file or the default applies (an empty VIGIL_HOST was refused)', async (t) => {
  const empty = {
    VIGIL_DATA: '', VIGIL_CONFIG: '', VIGIL_PORT: '', VIGIL_HOST: '', VIGIL_LOG_LEVEL: '', VIGIL_WORKERS: '', VIGIL_EVIDENCE_KEY: '',
  };
  const key = 'ab'.repeat(32);
  const data = join(tmp.dir, 'empty-env');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, 'vigil.json'), JSON.stringify({ port: 9400, host: '127.0.0.2', logLevel: 'warn', evidenceKey: key, pipeline: { workers: 3 } }));
  t.match(loadConfig({ dataDir: data }, empty), { port: 9400, host: '127.0.0.2', logLevel: 'warn', evidenceKey: key, pipeline: { workers: 3 } },
    'each empty variable leaves the file\'s value (an empty VIGIL_CONFIG, the data folder\'s vigil.json)');
  t.match(loadConfig({ dataDir: join(tmp.dir, 'no-file') }, empty), { port: 8080, host: '127.0.0.1', logLevel: 'info', evidenceKey: undefined },
    'and with no file, the default');
  const named = { ...empty, VIGIL_CONFIG: join(data, 'vigil.json') }; // not ./var/vigil/vigil.json, if there is one
  t.equal(loadConfig({}, named).dataDir, resolve('./var/vigil'), 'an empty VIGIL_DATA is the default folder, not the current one');
});

t.test('config - ingest.maxImageDecodeSeconds bounds one image\'s decode: 5 s unless set, 1..3600', async (t) => {
  t.equal(loadConfig({ dataDir: tmp.dir }, {}).ingest.maxImageDecodeSeconds, 5);
  const file = join(tmp.dir, 'decode-seconds.json');
  writeFileSync(file, JSON.stringify({ ingest: { maxImageDecodeSeconds: 2 } }));
  t.equal(loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }).ingest.maxImageDecodeSeconds, 2);
  for (const bad of [0, 3601, 1.5]) {
    writeFileSync(file, JSON.stringify({ ingest: { maxImageDecodeSeconds: bad } }));
    t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), { code: 'CONFIG_INVALID', message: /ingest\.maxImageDecodeSeconds must be an integer 1\.\.3600/ });
  }
});

t.test('config - pipeline.imageThreads leaves one matcher thread to journal pages unless set: workers - 1, at least 1, at most workers', async (t) => {
  t.equal(loadConfig({ dataDir: tmp.dir }, { VIGIL_WORKERS: '4' }).pipeline.imageThreads, 3);
  t.equal(loadConfig({ dataDir: tmp.dir }, { VIGIL_WORKERS: '2' }).pipeline.imageThreads, 1);
  t.equal(loadConfig({ dataDir: tmp.dir }, { VIGIL_WORKERS: '1' }).pipeline.imageThreads, 1, 'one thread: images and pages share it');
  const file = join(tmp.dir, 'image-threads.json');
  writeFileSync(file, JSON.stringify({ pipeline: { workers: 4, imageThreads: 4 } }));
  t.equal(loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }).pipeline.imageThreads, 4, 'every thread, if the operator says so');
  writeFileSync(file, JSON.stringify({ pipeline: { workers: 2, imageThreads: 3 } }));
  t.throws(() => loadConfig({ dataDir: tmp.dir }, { VIGIL_CONFIG: file }), { code: 'CONFIG_INVALID', message: /pipeline\.imageThreads must be an integer 1\.\.2/ });
});
