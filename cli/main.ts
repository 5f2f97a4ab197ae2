/**
 * `vigil <command>`: the program's entry point (PROTOCOL.md §6). Global flags `--data DIR` and
 * `--help` are taken here; each command parses the rest of its arguments itself.
 */
import { pino } from 'pino';
import { UsageError, loadConfig, type ConfigOverrides } from '../core/index.js';
import { devices, enrol, orders, tokens, type Io } from './commands.js';
import { lists } from './list-commands.js';
import { audit, operators } from './operator-commands.js';
import { startServer } from './vigil-server.js';
import { missingServeFlags } from './node-flags.js';
import { USAGE, commandUsage } from './usage.js';

/**
 * Takes --data, --port, --host and --help out of argv wherever they stand (before or after the command), leaving
 * the command's own arguments. --port and --host belong to serve: `main` refuses them for other commands.
 */
function globals(argv: string[]): { rest: string[]; overrides: ConfigOverrides; help: boolean } {
  const rest: string[] = [];
  const overrides: ConfigOverrides = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--help' || flag === '-h') help = true;
    else if (flag === '--data') overrides.dataDir = value();
    else if (flag === '--port') {
      const raw = value();
      const p = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN; // decimal digits only: Number() takes 0x50 and 1e3 too
      if (!(p <= 65535)) throw new UsageError('--port must be 0..65535');
      overrides.port = p;
    } else if (flag === '--host') overrides.host = value();
    else rest.push(a);
  }
  return { rest, overrides, help };
}

async function serve(overrides: ConfigOverrides, args: string[]): Promise<number> {
  // A flag serve does not know is refused, not ignored: a server started without what was asked of it is worse.
  const newEvidenceKey = args.includes('--new-evidence-key');
  const unknown = args.filter((a) => a !== '--new-evidence-key');
  if (unknown.length > 0) {
    throw new UsageError(`serve takes only --port N, --host H, --data DIR and --new-evidence-key; not ${unknown.map((a) => JSON.stringify(a)).join(' ')}`);
  }
  const config = loadConfig(overrides);
  const log = pino({ level: config.logLevel, base: { app: 'vigil' } });
  const missing = missingServeFlags();
  if (missing.length > 0) {
    log.warn({ missing }, 'started without the Node options vigil serve runs with (npm start and npx vigil pass them): '
      + 'young-generation collections will pause ingest more often');
  }
  const server = await startServer(config, log, { newEvidenceKey });
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping');
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close().then(resolve, (err: unknown) => { log.error({ err }, 'error while stopping'); resolve() });
      // Idle keep-alive HTTP connections would hold the process open for uWS's 10 s idle timeout.
      setTimeout(() => process.exit(), 2000).unref();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const { rest, overrides, help } = globals(argv);
  const [command, ...args] = rest;
  if (command === undefined || (help && command === undefined)) { io.out(USAGE); return command === undefined && !help ? 2 : 0 }
  if (help) { io.out(await commandUsage(command)); return 0 }
  if (command !== 'serve' && (overrides.port !== undefined || overrides.host !== undefined)) {
    throw new UsageError(`--port and --host are options of vigil serve, not of ${command}`);
  }
  switch (command) {
    case 'serve': return serve(overrides, args);
    case 'enrol': return enrol(loadConfig(overrides), args, io);
    case 'orders': return orders(loadConfig(overrides), args, io);
    case 'tokens': return tokens(loadConfig(overrides), args, io);
    case 'devices': return devices(loadConfig(overrides), args, io);
    case 'lists': return lists(loadConfig(overrides), args, io);
    case 'operators': return operators(loadConfig(overrides), args, io);
    case 'audit': return audit(loadConfig(overrides), args, io);
    case 'hash': {
      const { runHash } = await import('./hash-command.js');
      return runHash(args, io.out);
    }
    case 'simulate': {
      const { simulate } = await import('./simulate.js');
      return simulate(args, io, overrides);
    }
    case 'bench': {
      const { runSuite } = await import('../bench/suite.js');
      return runSuite(args, io, overrides.dataDir);
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}; see vigil --help`);
  }
}

