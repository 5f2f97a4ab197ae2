import t from 'tap';
import { existsSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../core/index.js';
import { openDatabases } from '../../store/index.js';
import { startServer } from '../../cli/vigil-server.js';
import { tempDir } from '../helpers/vigil.js';

const log = pino({ level: 'silent' });
const configFor = (dataDir: string) => loadConfig({ dataDir, port: 0, host: '127.0.0.1' }, {});

t.test('evidence key - made on first start; a folder holding sealed evidence whose key file is gone refuses to start', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  const first = await startServer(configFor(tmp.dir), log);
  await first.close();
  const keyFile = join(tmp.dir, 'evidence.key');
  t.ok(existsSync(keyFile), 'a key file is made on first start');
  t.equal(statSync(keyFile).mode & 0o777, 0o600, 'readable by its owner only');

  const db = openDatabases(tmp.dir);
  await db.evidence.put('ev-1', { deviceId: 'dev-x', eventSeq: 1, alertIds: [], sealed: new Uint8Array(8) });
  await db.root.close();
  renameSync(keyFile, `${keyFile}.lost`);
  await t.rejects(startServer(configFor(tmp.dir), log), { code: 'CONFIG_INVALID', message: /evidence\.key is missing, but the data folder holds sealed evidence/ });
  t.notOk(existsSync(keyFile), 'and no new key is made');

  renameSync(`${keyFile}.lost`, keyFile);
  const restored = await startServer(configFor(tmp.dir), log);
  await restored.close();
  t.pass('with the key file back it starts');
});
