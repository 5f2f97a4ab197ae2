/**
 * The command line of a runnable bench/ program, handled as the `vigil` CLI handles its own (cli/run.ts): `--help`
 * (or `-h`) prints the program's usage and options and exits 0; an unknown option, a missing value or a value out of
 * range prints one line that names it and exits 2, never a stack trace. Each program declares its options once, with
 * their help and defaults, so the usage printed always lists what is parsed.
 */
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError, isUsageError } from '../core/index.js';

interface OptionHelp {
  /** What the option sets, for `--help`; the default is added to it. */
  help: string;
  /** The value's name in `--help` (default `N` for numbers, the choices or `X` for strings). */
  arg?: string;
}

/**
 * `int`: decimal digits (a leading `-` when `min` allows it); `number`: any finite number; `ints`: positive integers
 * separated by commas; `string`: any text, or one of `choices`; `flag`: present or not.
 */
export type BenchOption = OptionHelp & (
  | { kind: 'int'; default?: number; min?: number; max?: number }
  | { kind: 'number'; default?: number; min?: number; max?: number }
  | { kind: 'ints'; default?: readonly number[] }
  | { kind: 'string'; default?: string; choices?: readonly string[] }
  | { kind: 'flag' });

type Parsed<S> =
  S extends { kind: 'int' | 'number' } ? number
    : S extends { kind: 'ints' } ? number[]
      : S extends { kind: 'flag' } ? boolean
        : S extends { choices: readonly (infer C)[] } ? C : string;

/** The options' values: an option with a default (and a flag) always has one. */
export type BenchValues<O extends Record<string, BenchOption>> = {
  readonly [K in keyof O]: O[K] extends { kind: 'flag' } | { default: unknown } ? Parsed<O[K]> : Parsed<O[K]> | undefined;
};

export interface BenchCommand<O extends Record<string, BenchOption>, P extends readonly string[] = readonly string[]> {
  /** The program as it is run, e.g. `node dist/bench/ingest.js`. */
  run: string;
  /** What the program measures, a few lines. */
  summary: string;
  options: O;
  /** Positional arguments by name, all required (`<dataDir>`); none by default. */
  positionals?: P;
  /** A check across options, after each is valid alone: the message for wrong usage, or undefined. */
  check?: (values: BenchValues<O>) => string | undefined;
}

/** The text `--help` prints. */
export function benchUsage<O extends Record<string, BenchOption>, P extends readonly string[]>(command: BenchCommand<O, P>): string {
  const rows = Object.entries(command.options as Record<string, BenchOption>).map(([name, o]) => {
    const arg = o.kind === 'string' ? o.arg ?? o.choices?.join('|') ?? 'X' : o.kind === 'ints' ? o.arg ?? 'N,N,...' : o.kind === 'flag' ? '' : o.arg ?? 'N';
    const flag = o.kind === 'flag' ? `--${name}` : `--${name} ${arg}`;
    const dflt = 'default' in o && o.default !== undefined ? ` (default ${Array.isArray(o.default) ? o.default.join(',') : String(o.default)})` : '';
    return [flag, `${o.help}${dflt}`] as const;
  });
  rows.push(['-h, --help', 'print this help']);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  const positionals = (command.positionals ?? [] as readonly string[]).map((p) => ` <${p}>`).join('');
  return [
    `Usage: ${command.run} [options]${positionals}`, '', command.summary, '', 'Options:',
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`), '',
  ].join('\n');
}

function describe(o: BenchOption): string {
  switch (o.kind) {
    case 'int':
    case 'number': {
      const what = o.kind === 'int' ? 'an integer' : 'a number';
      if (o.min !== undefined && o.max !== undefined) return `${what} from ${o.min} to ${o.max}`;
      if (o.min !== undefined) return o.min === 1 && o.kind === 'int' ? 'a positive integer' : `${what}, ${o.min} or more`;
      return what;
    }
    case 'ints': return 'positive integers separated by commas';
    case 'string': return o.choices ? `one of ${o.choices.join(', ')}` : 'some text';
    case 'flag': return 'given without a value';
  }
}

function parseValue(name: string, o: BenchOption, raw: string): unknown {
  const bad = (): never => { throw new UsageError(`--${name} must be ${describe(o)}, got ${JSON.stringify(raw)}`) };
  switch (o.kind) {
    case 'int':
    case 'number': {
      // Decimal digits for integers, as the vigil CLI takes --port: Number() would also take 0x50, 1e3 and blanks.
      const n = o.kind === 'int' ? (/^-?\d{1,15}$/.test(raw) ? Number(raw) : NaN) : (raw.trim() === '' ? NaN : Number(raw));
      if (!Number.isFinite(n) || (o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) bad();
      return n;
    }
    case 'ints': {
      const xs = raw.split(',').map((s) => (/^\d{1,15}$/.test(s.trim()) ? Number(s.trim()) : NaN));
      if (xs.some((x) => !Number.isSafeInteger(x) || x < 1)) bad();
      return xs;
    }
    case 'string':
      if (o.choices && !o.choices.includes(raw)) bad();
      return raw;
    case 'flag': return true;
  }
}

/** What a command line gave: the options' values, and the positional arguments by name. */
export interface BenchArgs<O extends Record<string, BenchOption>, P extends readonly string[]> {
  values: BenchValues<O>;
  positionals: { readonly [K in P[number]]: string };
}

/** Parses `argv` (the program's arguments) against `command`; throws a `UsageError` or parseArgs's error. */
export function parseBenchArgs<const O extends Record<string, BenchOption>, const P extends readonly string[] = []>(
  command: BenchCommand<O, P>, argv: readonly string[]): BenchArgs<O, P> {
  const specs = Object.entries(command.options as Record<string, BenchOption>);
  const { values: raw, positionals } = parseArgs({
    args: [...argv], strict: true, allowPositionals: (command.positionals?.length ?? 0) > 0,
    options: Object.fromEntries(specs.map(([name, o]) => [name, { type: o.kind === 'flag' ? 'boolean' as const : 'string' as const }])),
  });
  const wanted: readonly string[] = command.positionals ?? [];
  if (positionals.length !== wanted.length) {
    throw new UsageError(positionals.length < wanted.length
      ? `missing <${wanted[positionals.length]}>`
      : `unexpected argument ${JSON.stringify(positionals[wanted.length])}`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, o] of specs) {
    const given = raw[name];
    if (o.kind === 'flag') values[name] = given === true;
    else if (typeof given === 'string') values[name] = parseValue(name, o, given);
    else values[name] = o.default === undefined ? undefined : Array.isArray(o.default) ? [...o.default] : o.default;
  }
  const result = Object.freeze(values) as BenchValues<O>;
  const problem = command.check?.(result);
  if (problem !== undefined) throw new UsageError(problem);
  return { values: result, positionals: Object.fromEntries(wanted.map((name, i) => [name, positionals[i]])) as BenchArgs<O, P>['positionals'] };
}

/**
 * The program's command line, from `process.argv`: prints the usage and exits 0 for `--help`; prints one line and
 * exits 2 for wrong usage. The name in messages is the program's file (`ingest.js: ...`).
 */
export function benchCommand<const O extends Record<string, BenchOption>, const P extends readonly string[] = []>(
  command: BenchCommand<O, P>, argv = process.argv.slice(2)): BenchArgs<O, P> {
  // Written synchronously: the process exits at once (a pipe on macOS is written asynchronously).
  if (argv.includes('--help') || argv.includes('-h')) {
    writeSync(1, benchUsage(command));
    process.exit(0);
  }
  try {
    return parseBenchArgs(command, argv);
  } catch (err) {
    if (!isUsageError(err)) throw err;
    const name = command.run.split(/[\s/]/).at(-1);
    // One line: parseArgs's message for a value that starts with a dash (`--live -1`) spans two.
    writeSync(2, `${name}: ${err.message.replace(/\s*\n\s*/g, ' ').replace(/\.$/, '')}; see --help\n`);
    process.exit(2);
  }
}
