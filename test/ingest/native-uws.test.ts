import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import uws from 'uWebSockets.js';
import { isNativeUws } from '../../ingest/index.js';

t.test('uws - the native uWebSockets.js build is the one loaded', async (t) => {
  t.ok(isNativeUws(uws), 'App is native code and native-only exports exist');
  t.match(Function.prototype.toString.call(uws.App), /\[native code\]/);
});

t.test('uws - the server refuses to start on the ws-based fallback', async (t) => {
  const run = fileURLToPath(new URL('../../cli/run.js', import.meta.url));
  const res = spawnSync(process.execPath, [run, 'serve', '--port', '0', '--data', '/nonexistent/never-created'], {
    env: { ...process.env, UWS_USE_FALLBACK: '1', VIGIL_LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 20_000,
  });
  t.equal(res.status, 1, 'exits with failure');
  t.match(res.stderr, /fallback/);
  t.match(res.stderr, /refusing to start/);
});
