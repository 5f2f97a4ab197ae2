import t from 'tap';
import { RegistryStore, openDatabases } from '../../store/index.js';
import { DAY, tempDir } from '../helpers/vigil.js';

t.test('registry - the generation moves with every device or order written, by any handle on the folder', async (t) => {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  const db = openDatabases(tmp.dir);
  t.teardown(() => db.root.close());
  const registry = new RegistryStore(db);
  const now = Date.now();
  const enrol = (r: RegistryStore, categories: ('keyboard' | 'web')[]) =>
    r.enrol({ subjectId: 'subject-1', orderRef: 'ORDER-1', categories, from: now - DAY, until: now + DAY });
  t.equal(registry.generation(), 0, 'an empty registry');
  const { deviceId } = await enrol(registry, ['keyboard', 'web']);
  t.equal(registry.generation(), 1, 'enrolling writes an order and a device');
  await registry.createConsumer();
  t.equal(registry.generation(), 1, 'a consumer is neither');
  t.equal(await registry.revokeDevice('dev-no-such'), false);
  t.equal(registry.generation(), 1, 'revoking an unknown device writes nothing');

  // Another process (the command line) changes the order and revokes the device.
  const other = openDatabases(tmp.dir);
  try {
    t.ok(await new RegistryStore(other).varyOrder('ORDER-1', { categories: ['keyboard'] }));
    await new RegistryStore(other).revokeDevice(deviceId);
  } finally {
    await other.root.close();
  }
  await new Promise((r) => setTimeout(r, 10)); // reads in a later turn see the other process's commits
  t.equal(registry.generation(), 3, 'seen here, as the scopes are');
  const scope = registry.deviceScope(deviceId as never)!;
  t.same(scope.order.categories, ['keyboard'], 'the order as the other handle left it');
  t.type(scope.device.revokedAt, 'number', 'and the device revoked');
});

t.test('registry - enrolling under an existing order with other terms is refused and changes nothing', async (t) => {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  const db = openDatabases(tmp.dir);
  t.teardown(() => db.root.close());
  const registry = new RegistryStore(db);
  const from = Date.UTC(2026, 0, 1);
  const until = Date.UTC(2027, 0, 1) - 1;
  const terms = { subjectId: 'subject-1', orderRef: 'ORDER-1', categories: ['keyboard', 'web'] as ('keyboard' | 'web' | 'image')[], from, until };
  const { deviceId } = await registry.enrol(terms);
  const generation = registry.generation();
  for (const other of [
    { categories: ['keyboard', 'web', 'image'] as ('keyboard' | 'web' | 'image')[] },
    { categories: ['keyboard'] as ('keyboard' | 'web' | 'image')[] },
    { from: from + DAY },
    { until: until + DAY },
  ]) {
    await t.rejects(registry.enrol({ ...terms, ...other }), {
      code: 'USAGE', message: /order ORDER-1 is stored with categories keyboard,web from 2026-01-01 until 2026-12-31.*vigil orders vary --order ORDER-1/,
    }, JSON.stringify(other));
  }
  t.equal(registry.generation(), generation, 'nothing written');
  t.same(registry.deviceScope(deviceId)!.order.categories, ['keyboard', 'web'], 'the first device keeps its scope');
  const second = await registry.enrol({ ...terms, categories: ['web', 'keyboard', 'web'] });
  t.same(registry.deviceScope(second.deviceId)!.order, registry.deviceScope(deviceId)!.order, 'the same terms, categories in any order: enrolled');

  const varied = await registry.varyOrder('ORDER-1', { until: until + DAY });
  t.equal(varied!.before.until, until);
  t.equal(varied!.after.until, until + DAY);
  t.same(varied!.after.categories, ['keyboard', 'web'], 'terms not given stay');
  t.equal(registry.generation(), generation + 2, 'a variation moves the generation, so live connections re-read their scope');
  t.equal(await registry.varyOrder('ORDER-NONE', { from }), null, 'an unknown order');
  await t.rejects(registry.varyOrder('ORDER-1', { from: until + 2 * DAY }), { code: 'USAGE', message: /would end/ });
});
