import t from 'tap';
import { ListStore, openDatabases } from '../../store/index.js';
import { TestDevice, consumerToken, enrolDevice, startTestServer, tempDir, text, waitForAlerts } from '../helpers/vigil.js';

t.test('lists - new versions switch in under load without a pause in matching or a lost event', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  const lists = new ListStore(db);
  await lists.importVersion('switching', 'keywords', 'test', [{ value: 'steadyterm', label: 'low', ref: 's-1' }]);
  const srv = await startTestServer(tmp.dir);
  t.teardown(async () => { await srv.stop(); await db.root.close(); tmp.remove() });
  const consumer = await consumerToken(tmp.dir);
  const { deviceId, token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);

  let imports = 0;
  let done = false;
  const importing = (async () => {
    // Every version keeps `steadyterm` and adds filler terms, so every event below must match in any version.
    for (let v = 2; v <= 6; v++) {
      const filler = Array.from({ length: 2000 * v }, (_, i) => ({ value: `filler${v}x${i}`, label: 'low', ref: `f-${v}-${i}` }));
      await lists.importVersion('switching', 'keywords', 'test', [{ value: 'steadyterm', label: 'low', ref: 's-1' }, ...filler]);
      imports++;
      await new Promise((r) => setTimeout(r, 300));
    }
    done = true;
  })();
  // Stream for as long as the imports go on (bounded), a few events every 20 ms.
  let n = 0;
  while ((!done || n < 50) && n < 3000) {
    for (let k = 0; k < 5; k++) { n++; dev.send(text(n, `event ${n} mentions steadyterm`)) }
    await new Promise((r) => setTimeout(r, 20));
  }
  await importing;
  t.equal((await dev.waitForAck(n, 20_000)).upTo, n, 'every event acknowledged');
  const alerts = (await waitForAlerts(srv.base, consumer, n, 0, 20_000)).filter((a) => a.data.deviceId === deviceId);
  t.same(alerts.map((a) => a.data.eventSeq), Array.from({ length: n }, (_, i) => i + 1), 'every event matched exactly once, in order');
  const versions = new Set(alerts.map((a) => a.data.match.version));
  t.equal(imports, 5);
  t.ok(versions.size >= 2, `matched against ${versions.size} versions while they switched (${[...versions].join(', ')})`);
  await dev.close();
});
