import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVE_NODE_FLAGS, missingServeFlags } from '../../cli/node-flags.js';
import { tempDir } from '../helpers/vigil.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = fileURLToPath(new URL('../../cli/run.js', import.meta.url));
const bin = `${root}bin/vigil.js`;
const WARNING = 'started without the Node options';

t.test('node flags - which of the serve options a process lacks, on its command line or in NODE_OPTIONS', async (t) => {
  t.same(SERVE_NODE_FLAGS, ['--max-semi-space-size=64']);
  t.same(missingServeFlags([], ''), ['--max-semi-space-size=64'], 'none given');
  t.same(missingServeFlags(['--max-semi-space-size=64'], ''), [], 'on the command line');
  t.same(missingServeFlags(['--max-semi-space-size=128'], ''), [], 'another size is the operator\'s choice');
  t.same(missingServeFlags(['--max_semi_space_size=32'], ''), [], 'V8 takes underscores too');
  t.same(missingServeFlags([], '--enable-source-maps --max-semi-space-size=64'), [], 'in NODE_OPTIONS');
  t.same(missingServeFlags(['--max-old-space-size=4096'], ''), ['--max-semi-space-size=64'], 'a different option does not count');
});

t.test('node flags - npm start and bin/vigil.js pass them', async (t) => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
  const shebang = readFileSync(bin, 'utf8').split('\n')[0]!;
  for (const flag of SERVE_NODE_FLAGS) {
    t.match(pkg.scripts.start, flag, `npm start passes ${flag}`);
    t.match(shebang, flag, `bin/vigil.js's #! line passes ${flag}`);
  }
});

/** Starts `vigil serve` with `argv` (the program first) and resolves with its log once it listens; then stops it. */
async function serveLog(argv: string[]): Promise<string> {
  const tmp = tempDir();
  const server = spawn(argv[0]!, [...argv.slice(1), 'serve', '--port', '0', '--host', '127.0.0.1'], {
    env: { ...process.env, VIGIL_DATA: tmp.dir, VIGIL_LOG_LEVEL: 'info', VIGIL_EVIDENCE_KEY: 'a'.repeat(64), VIGIL_WORKERS: '1', NODE_OPTIONS: '' },
  });
  try {
    return await new Promise<string>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`no "vigil is listening" within 30 s: ${buf}`)), 30_000);
      server.stdout.on('data', (d) => {
        buf += String(d);
        if (buf.includes('vigil is listening')) { clearTimeout(timer); resolve(buf) }
      });
      server.stderr.on('data', (d) => { buf += String(d) });
      server.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${buf}`)) });
    });
  } finally {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
    tmp.remove();
  }
}

t.test('node flags - vigil serve warns when started without them, and not when started through bin/vigil.js', async (t) => {
  const bare = await serveLog([process.execPath, run]);
  t.match(bare, WARNING, 'node dist/cli/run.js serve: warned');
  t.match(bare, '--max-semi-space-size=64', 'naming the option');
  const viaBin = await serveLog([bin]); // executed through its #! line, as npx runs it
  t.notMatch(viaBin, WARNING, 'bin/vigil.js serve: no warning');
  t.match(viaBin, 'vigil is listening');
});
