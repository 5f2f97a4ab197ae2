import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { HASH_EXIT, runHash } from '../../cli/hash-command.js';

const PDQ_DATA = fileURLToPath(new URL('../../../../shared/data/pdq/', import.meta.url));
const BLOCKHASH_DATA = fileURLToPath(new URL('../../../../shared/data/blockhash/', import.meta.url));

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runHash(args, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

function csvRows(path: string): string[][] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split(','));
}

t.test('hash command - prints hash,quality,filename exactly as pdq-photo-hasher does', async (t) => {
  // Not exif-rotn 3, 6, 8: the reference tool ignores EXIF orientation, and we apply it.
  const rows = csvRows(`${PDQ_DATA}reference-cpp-jpeg.csv`).filter((r) => !/exif-rotn-[368]/.test(r[2]!));
  const files = rows.map((r) => `${PDQ_DATA}${r[2]}`);
  const { code, out, err } = await run(files);
  t.equal(code, HASH_EXIT.OK);
  t.same(err, []);
  t.same(out, rows.map((r, i) => `${r[0]},${r[1]},${files[i]}`), 'same lines, same order');
});

t.test('hash command - --as-stored ignores EXIF orientation, as pdq-photo-hasher does, so photos stored turned get its lines too', async (t) => {
  const rows = csvRows(`${PDQ_DATA}reference-cpp-jpeg.csv`).filter((r) => /exif-rotn-/.test(r[2]!));
  t.equal(rows.length, 4, 'orientations 1, 3, 6 and 8');
  const files = rows.map((r) => `${PDQ_DATA}${r[2]}`);
  const stored = await run(['--as-stored', ...files]);
  t.equal(stored.code, HASH_EXIT.OK);
  t.same(stored.out, rows.map((r, i) => `${r[0]},${r[1]},${files[i]}`), 'the reference tool\'s lines');
  const upright = await run(files);
  t.same(upright.out.map((l, i) => l === stored.out[i]), [true, false, false, false], 'without it, those stored turned hash upright');
});

t.test('hash command - --dihedral prints the line of pdq-photo-hasher --pdqdih-across', async (t) => {
  const rows = csvRows(`${PDQ_DATA}lossless/reference-cpp-dih.csv`);
  const files = rows.map((r) => `${PDQ_DATA}lossless/${r[9]}`);
  const { code, out } = await run(['--dihedral', ...files]);
  t.equal(code, HASH_EXIT.OK);
  t.same(out, rows.map((r, i) => [...r.slice(0, 9), files[i]].join(',')));
});

t.test('hash command - --all prints one JSON line per file with every hash', async (t) => {
  const files = [`${PDQ_DATA}dih/bridge-1-original.jpg`, `${BLOCKHASH_DATA}emptyBasket.png`];
  const { code, out } = await run(['--all', ...files]);
  t.equal(code, HASH_EXIT.OK);
  t.equal(out.length, 2);
  const plain = await run(files);
  const blockhashRef = new Map(
    readFileSync(`${BLOCKHASH_DATA}exact-hashes.txt`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/))
      .map(([h, f]) => [f!, h!]),
  );
  out.forEach((line, i) => {
    const record = JSON.parse(line) as Record<string, unknown>;
    const file = files[i]!;
    const bytes = readFileSync(file);
    t.equal(record.file, file);
    t.equal(`${record.pdq},${record.quality},${file}`, plain.out[i], 'pdq and quality as in the plain mode');
    t.same(Object.keys(record.dihedral as object), ['original', 'rot90', 'rot180', 'rot270', 'flipX', 'flipY', 'flipPlus1', 'flipMinus1']);
    for (const h of Object.values(record.dihedral as object)) t.match(h, /^[0-9a-f]{64}$/);
    t.match(record.blockhash, /^[0-9a-f]{64}$/);
    for (const type of ['md5', 'sha1', 'sha256'] as const) {
      t.equal(record[type], createHash(type).update(bytes).digest('hex'), type);
    }
    t.match(record.blake3, /^[0-9a-f]{64}$/);
  });
  const basket = JSON.parse(out[1]!) as { blockhash: string };
  t.equal(basket.blockhash, blockhashRef.get('emptyBasket.png'), 'blockhash as the reference');
});

t.test('hash command - reports unreadable and undecodable files on stderr by name and hashes the others', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-hash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const notImage = join(dir, 'notes.jpg');
  writeFileSync(notImage, 'not an image at all');
  const empty = join(dir, 'empty.png');
  writeFileSync(empty, '');
  const missing = join(dir, 'missing.jpg');
  const good = `${PDQ_DATA}labelme-subset/q0122.jpg`;
  const { code, out, err } = await run([notImage, good, missing, empty, dir]);
  t.equal(code, HASH_EXIT.FILE_FAILED, 'non-zero exit');
  t.equal(out.length, 1, 'the good file is still hashed');
  t.match(out[0], /^[0-9a-f]{64},100,.*q0122\.jpg$/);
  t.equal(err.length, 4);
  t.match(err[0], `could not decode ${JSON.stringify(notImage)}`);
  t.match(err[0], 'IMAGE_UNDECODABLE');
  t.match(err[1], `cannot read ${JSON.stringify(missing)}`);
  t.match(err[1], 'ENOENT');
  t.match(err[2], `could not decode ${JSON.stringify(empty)}`);
  t.match(err[3], `cannot read ${JSON.stringify(dir)}`);
  for (const line of err) t.notMatch(line, /\n\s+at /, 'no stack trace');
});

t.test('hash command - --help prints usage; wrong arguments exit 2 with a message', async (t) => {
  for (const flag of ['--help', '-h']) {
    const help = await run([flag]);
    t.equal(help.code, HASH_EXIT.OK);
    t.match(help.out.join('\n'), /^Usage: vigil hash \[--dihedral \| --all\] \[--as-stored\] FILE\.\.\./);
  }
  const cases: [string[], RegExp][] = [
    [[], /no image files/],
    [['--bogus', 'a.jpg'], /unknown option --bogus/],
    [['--all', '--dihedral', 'a.jpg'], /cannot be combined/],
    [['--data'], /--data needs a folder/],
  ];
  for (const [args, message] of cases) {
    const r = await run(args);
    t.equal(r.code, HASH_EXIT.USAGE, `${args.join(' ') || '(nothing)'}: exit 2`);
    t.match(r.err[0], message);
    t.same(r.out, []);
  }
  const withData = await run(['--data', '/nonexistent', `${PDQ_DATA}labelme-subset/q0122.jpg`]);
  t.equal(withData.code, HASH_EXIT.OK, '--data DIR is accepted');
  const dashDash = await run(['--', `${PDQ_DATA}labelme-subset/q0122.jpg`]);
  t.equal(dashDash.out.length, 1, '-- ends the options');
});
