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
    await enrol(new RegistryStore(other), ['keyboard']);
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
