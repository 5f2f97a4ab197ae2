import t from 'tap';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { CLAIM_LAPSE_MS, claimDataFolder, claimHolds, openDatabases } from '../../store/index.js';
import { processIdentity } from '../../store/process-identity.js';
import { tempDir } from '../helpers/vigil.js';

t.test('server claim - refused while its server runs and renews it; taken over when it is gone', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
  t.teardown(() => { other.kill() });
  await new Promise((r) => other.once('spawn', r));
  const pid = other.pid!;
  const claimedBy = async (over: Record<string, unknown>) =>
    db.meta.put('server', { pid, host: hostname(), startedAt: Date.now(), aliveAt: Date.now(), token: 'theirs', ...over });

  await claimedBy({});
  await t.rejects(claimDataFolder(db, tmp.dir), { code: 'DATA_IN_USE', message: new RegExp(`pid ${pid} on ${hostname()}`) });

  await claimedBy({ host: 'another-host' }); // a pid that cannot be checked from here: the renewals decide
  await t.rejects(claimDataFolder(db, tmp.dir), { code: 'DATA_IN_USE' });
  await claimedBy({ host: 'another-host', aliveAt: Date.now() - CLAIM_LAPSE_MS - 1 });
  let held = await claimDataFolder(db, tmp.dir);
  t.match(db.meta.get('server'), { pid: process.pid }, 'a claim from elsewhere not renewed for the lapse is taken over');
  await held.release();
  t.equal(db.meta.get('server'), undefined, 'and given up on release');

  await claimedBy({ aliveAt: Date.now() - CLAIM_LAPSE_MS - 1 }); // its pid runs, but no server has renewed it: reused
  held = await claimDataFolder(db, tmp.dir);
  await held.release();

  // A claim whose pid now belongs to another process (the server died and the kernel reused its pid): taken over
  // at once, where it used to wait out the lapse.
  const theirs = processIdentity(pid);
  t.ok(theirs, 'the running process has an identity');
  await claimedBy({ process: theirs });
  await t.rejects(claimDataFolder(db, tmp.dir), { code: 'DATA_IN_USE' }, 'the same process still holds it');
  await claimedBy({ process: theirs!.replace(/:\d+$/, ':1') });
  held = await claimDataFolder(db, tmp.dir);
  t.match(db.meta.get('server'), { pid: process.pid, process: processIdentity() }, 'a claim whose pid another process took is taken over at once');
  await held.release();
  // A claim made in another PID namespace (a container sharing the host name): a pid here, running or not, says
  // nothing about that server, so its renewals decide.
  await claimedBy({ pid: 999_999, process: theirs!.replace('pid:[', 'pid:[9') });
  await t.rejects(claimDataFolder(db, tmp.dir), { code: 'DATA_IN_USE' }, 'no process 999999 here, but the claim holds');

  await claimedBy({});
  other.kill('SIGKILL');
  await new Promise((r) => other.once('exit', r));
  held = await claimDataFolder(db, tmp.dir);
  t.match(db.meta.get('server'), { pid: process.pid }, 'a claim of this host whose pid is gone is taken over at once');
  await held.release();
});

t.test('server claim - a running server renews its claim', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  let now = Date.now();
  const held = await claimDataFolder(db, tmp.dir, () => now);
  const first = (db.meta.get('server') as { aliveAt: number }).aliveAt;
  now += 60_000;
  await new Promise((r) => setTimeout(r, 5_500)); // one renewal
  const claim = db.meta.get('server') as { aliveAt: number; pid: number; host: string; startedAt: number; token: string };
  t.equal(claim.aliveAt, first + 60_000, 'renewed with the clock\'s time');
  t.ok(claimHolds({ ...claim, pid: process.pid + 1_000_000, host: 'elsewhere' }, now), 'so it holds for a server elsewhere');
  await held.release();
});
