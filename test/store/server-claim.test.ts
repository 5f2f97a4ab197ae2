import t from 'tap';
import { spawn } from 'node:child_process';
import { claimDataFolder, openDatabases } from '../../store/index.js';
import { tempDir } from '../helpers/vigil.js';

t.test('server claim - refused while its process runs; taken over when the pid is gone or now names a later process', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
  t.teardown(() => { other.kill() });
  await new Promise((r) => other.once('spawn', r));
  const claimedBy = async (startedAt: number) => db.meta.put('server', { pid: other.pid, startedAt, token: 'theirs' });

  await claimedBy(Date.now() + 5_000); // a claim made after its process started: that server runs
  await t.rejects(claimDataFolder(db, tmp.dir), { code: 'DATA_IN_USE', message: new RegExp(`pid ${other.pid}`) });

  await claimedBy(Date.now() - 3_600_000); // made an hour before this process started: the pid was reused
  const release = await claimDataFolder(db, tmp.dir);
  t.match(db.meta.get('server'), { pid: process.pid }, 'taken over');
  await release();
  t.equal(db.meta.get('server'), undefined, 'and given up');

  await claimedBy(Date.now() + 5_000);
  other.kill('SIGKILL');
  await new Promise((r) => other.once('exit', r));
  const again = await claimDataFolder(db, tmp.dir);
  t.match(db.meta.get('server'), { pid: process.pid }, 'a claim whose process is gone is taken over');
  await again();
});
