import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchUsage, parseBenchArgs } from '../../bench/bench-command.js';

const sources = fileURLToPath(new URL('../../../bench/', import.meta.url));
const compiled = fileURLToPath(new URL('../../bench/', import.meta.url));

/**
 * The runnable programs of bench/: the files no other bench file imports (the rest are their parts), each with
 * arguments that are wrong for it. A new program must be added here.
 */
const BAD_VALUES: Record<string, string[]> = {
  'ack-send': ['--devices', '0'],
  'baseline-ws-server': [], // no <dataDir>
  domains: ['--entries', 'abc'],
  'floor-uws-server': [],
  gateway: ['--turns', '1.5'],
  'hash-index': ['--sizes', '10,x'],
  'image-time-limit': ['--runs', '0'],
  ingest: ['--generator', 'rust'],
  'journal-keys': ['--live', '-1'],
  keywords: ['--reps', '0'],
  'large-images': ['--seed', '0x10'],
  'lookalike-words': ['--languages', 'ru'],
  pdq: ['--reps', ''],
  screenshots: ['--workers', 'many'],
  suite: ['--seconds', 'abc'],
  'swarm-load': [], // started by hand, with no IPC channel to bench/swarm.ts
  'text-behind-images': ['--rate', 'fast'],
};

function programs(): string[] {
  const files = readdirSync(sources).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  const imported = new Set<string>();
  for (const f of files) {
    for (const m of readFileSync(sources + f, 'utf8').matchAll(/from '\.\/([\w-]+)\.js'/g)) imported.add(m[1]!);
  }
  return files.map((f) => f.slice(0, -3)).filter((name) => !imported.has(name)).sort();
}

/** Runs a compiled bench program; each must answer before doing any work, so a minute is plenty. */
function run(name: string, args: string[]) {
  const r = spawnSync(process.execPath, [`${compiled}${name}.js`, ...args], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

t.test('bench command line - the test knows every runnable program of bench/', async (t) => {
  t.same(programs(), Object.keys(BAD_VALUES).sort());
});

t.test('bench command line - every runnable program answers --help with its usage and options, exit 0 (ingest.js died with a parseArgs stack trace)', async (t) => {
  for (const name of Object.keys(BAD_VALUES)) {
    const r = run(name, ['--help']);
    t.equal(r.status, 0, `${name} --help: exit 0 ${r.stderr}`);
    t.match(r.stdout, /^Usage: /, `${name}: usage first`);
    t.notMatch(r.stdout + r.stderr, /\n\s+at /, `${name}: no stack trace`);
  }
});

t.test('bench command line - an unknown option or a bad value is one line naming it, exit 2, never a stack trace', async (t) => {
  for (const [name, bad] of Object.entries(BAD_VALUES)) {
    for (const args of [['--no-such-option'], bad]) {
      const r = run(name, args);
      t.equal(r.status, 2, `${name} ${args.join(' ')}: exit 2 (${r.signal ?? ''}${r.stderr})`);
      t.equal(r.stderr.trimEnd().split('\n').length, 1, `${name} ${args.join(' ')}: one line: ${r.stderr}`);
      t.notMatch(r.stderr, /\n\s+at |Error \[ERR_/, `${name}: no stack trace`);
    }
  }
});

t.test('bench command line - parseBenchArgs reads kinds, defaults, ranges, choices, positionals and a check across options', async (t) => {
  const command = {
    run: 'node dist/bench/example.js', summary: 'An example.', positionals: ['dataDir'],
    options: {
      devices: { kind: 'int', default: 1000, min: 1, help: 'devices' },
      rate: { kind: 'number', default: 0.5, min: 0, help: 'events/s' },
      sizes: { kind: 'ints', default: [1, 2], help: 'sizes' },
      only: { kind: 'string', choices: ['vigil', 'baseline'], help: 'one server' },
      quick: { kind: 'flag', help: 'shorter' },
    },
    check: (o: { devices: number; quick: boolean }) => (o.quick && o.devices > 10 ? '--quick takes at most 10 devices' : undefined),
  } as const;
  const { values, positionals } = parseBenchArgs(command, ['dir', '--devices', '7', '--rate=2.5', '--sizes', '3,4', '--only', 'baseline']);
  t.same(values, { devices: 7, rate: 2.5, sizes: [3, 4], only: 'baseline', quick: false });
  t.same(positionals, { dataDir: 'dir' });
  t.same(parseBenchArgs(command, ['dir']).values, { devices: 1000, rate: 0.5, sizes: [1, 2], only: undefined, quick: false }, 'defaults');
  for (const [args, message] of [
    [['dir', '--devices', '0x10'], /--devices must be a positive integer, got "0x10"/],
    [['dir', '--devices', ''], /--devices must be a positive integer, got ""/],
    [['dir', '--rate=-1'], /--rate must be a number, 0 or more, got "-1"/],
    [['dir', '--sizes', '1,,2'], /--sizes must be positive integers separated by commas/],
    [['dir', '--only', 'floor'], /--only must be one of vigil, baseline, got "floor"/],
    [[], /missing <dataDir>/],
    [['dir', 'more'], /unexpected argument "more"/],
    [['dir', '--quick'], /--quick takes at most 10 devices/],
  ] as const) {
    t.throws(() => parseBenchArgs(command, args), { code: 'USAGE', message }, args.join(' '));
  }
  t.throws(() => parseBenchArgs(command, ['dir', '--bogus']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  const usage = benchUsage(command);
  t.match(usage, /^Usage: node dist\/bench\/example\.js \[options\] <dataDir>\n\nAn example\.\n\nOptions:\n/);
  t.match(usage, /\n {2}--devices N +devices \(default 1000\)\n/);
  t.match(usage, /\n {2}--sizes N,N,\.\.\. +sizes \(default 1,2\)\n/);
  t.match(usage, /\n {2}--quick +shorter\n/);
  t.match(usage, /\n {2}-h, --help +print this help\n/);
});
