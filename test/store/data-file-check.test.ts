import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from 'lmdb';
import { dataFileProblem } from '../../store/data-file-check.js';
import { openDatabases } from '../../store/index.js';
import { tempDir } from '../helpers/vigil.js';

const run = fileURLToPath(new URL('../../cli/run.js', import.meta.url));
const lmdbUrl = import.meta.resolve('lmdb');
const tmp = tempDir();
t.teardown(tmp.remove);

/** An environment with named databases, trees of several levels, values on overflow pages, and free pages. */
async function fill(path: string): Promise<void> {
  const root = open({ path, maxDbs: 8, compression: false });
  const small = root.openDB<string, number>({ name: 'small' });
  const big = root.openDB<Uint8Array, number>({ name: 'big', encoding: 'binary' });
  const other = root.openDB<unknown, string>({ name: 'other' });
  for (let batch = 0; batch < 10; batch++) {
    await root.transaction(() => {
      for (let i = 0; i < 2000; i++) void small.put(batch * 2000 + i, `value ${i} `.repeat(4));
      for (let i = 0; i < 20; i++) void big.put(batch * 20 + i, new Uint8Array(9000 + i).fill(i));
      void other.put(`k${batch}`, { batch });
    });
  }
  // Deletions leave free pages behind, so that the freelist's tree has something in it.
  await root.transaction(() => {
    for (let i = 0; i < 5000; i++) void small.remove(i);
    for (let i = 0; i < 50; i++) void big.remove(i);
  });
  await root.close();
}

/**
 * Opens the environment in a child, reads every value and writes as a server would (a write takes pages from
 * the freelist, which reads its tree); the child's exit status (null when a signal killed it).
 */
function useAll(path: string): { status: number | null; signal: NodeJS.Signals | null } {
  const code = `
    const { open } = await import(${JSON.stringify(lmdbUrl)});
    const root = open({ path: ${JSON.stringify(path)}, maxDbs: 8, compression: false });
    let n = 0;
    for (const [name, encoding] of [['small', 'msgpack'], ['big', 'binary'], ['other', 'msgpack']]) {
      for (const { value } of root.openDB({ name, encoding }).getRange({})) n += value ? 1 : 0;
    }
    const small = root.openDB({ name: 'small' });
    await root.transaction(() => { for (let i = 0; i < 3000; i++) small.put(100000 + i, 'more '.repeat(8)) });
    await root.close();
    process.exit(n > 0 ? 0 : 3);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal };
}

t.test('data file - a whole file passes, following every tree', async (t) => {
  const dir = join(tmp.dir, 'whole');
  await fill(dir);
  t.equal(dataFileProblem(join(dir, 'data.mdb')), undefined);
  t.equal(dataFileProblem(join(dir, 'data.mdb'), true), undefined, 'no page the trees use is missing');
  t.equal(dataFileProblem(join(tmp.dir, 'absent.mdb')), undefined, 'an absent file is LMDB\'s to make');
});

t.test('data file - a file cut short is named exactly when LMDB would fault on it (it died with SIGBUS)', async (t) => {
  const dir = join(tmp.dir, 'source');
  await fill(dir);
  const file = join(dir, 'data.mdb');
  const pages = statSync(file).size / 4096;
  let faults = 0;
  // Cut at a spread of points, from just past the meta pages to one page short.
  const cuts = [2, 3, Math.floor(pages / 4), Math.floor(pages / 2), Math.floor((pages * 3) / 4), pages - 8, pages - 2, pages - 1];
  for (const cut of cuts) {
    const copy = join(tmp.dir, `cut-${cut}`);
    mkdirSync(copy);
    copyFileSync(file, join(copy, 'data.mdb'));
    truncateSync(join(copy, 'data.mdb'), cut * 4096);
    const problem = dataFileProblem(join(copy, 'data.mdb'));
    const read = useAll(copy);
    if (read.signal !== null) faults++;
    if (problem === undefined) t.equal(read.status, 0, `cut to ${cut} of ${pages} pages: not named, and LMDB reads and writes it`);
    else {
      t.match(problem, new RegExp(`is cut short: it has ${cut * 4096} bytes \\(${cut} pages of 4096\\) but its last commit \\(transaction \\d+\\) uses page \\d+; restore`));
      t.not(read.status, 0, `cut to ${cut} of ${pages} pages: named, and LMDB could not use it (${read.signal ?? read.status})`);
    }
  }
  t.ok(faults >= 4, `most cuts made LMDB fault (${faults} of ${cuts.length}): the check is what stands between them and the server`);
});

t.test('data file - openDatabases and the command line refuse a cut file with a one-line error', async (t) => {
  const dir = join(tmp.dir, 'data');
  openDatabases(dir).root.close();
  await fill(join(dir, 'db'));
  const file = join(dir, 'db', 'data.mdb');
  truncateSync(file, Math.floor(statSync(file).size / 4096 / 2) * 4096);
  t.throws(() => openDatabases(dir), { code: 'CONFIG_INVALID', message: /^cannot open the data folder .*data: .*data\.mdb is cut short/ });
  for (const args of [['tokens', 'list'], ['serve', '--port', '0', '--host', '127.0.0.1']]) {
    const r = spawnSync(process.execPath, [run, ...args, '--data', dir],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, VIGIL_LOG_LEVEL: 'silent', VIGIL_EVIDENCE_KEY: 'a'.repeat(64) } });
    t.equal(r.signal, null, `${args[0]}: no signal`);
    t.equal(r.status, 1, `${args[0]}: exit status 1`);
    t.match(r.stderr, /^vigil: cannot open the data folder .*: .*data\.mdb is cut short: .*restore the data folder from a backup\n$/, `${args[0]}: says what is wrong`);
  }
});
