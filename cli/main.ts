/**
 * `vigil <command>`: the program's entry point (PROTOCOL.md §6). Global flags `--data DIR` and
 * `--help` are taken here; each command parses the rest of its arguments itself.
 */
import { pino } from 'pino';
import { UsageError, loadConfig, type ConfigOverrides } from '../core/index.js';
import { devices, enrol, lists, orders, tokens, type Io } from './commands.js';
import { audit, operators } from './operator-commands.js';
import { startServer } from './vigil-server.js';
import { missingServeFlags } from './node-flags.js';

const USAGE = `Usage: vigil <command> [options]

Commands:
  serve [--port N] [--host H]        run ingest, matching and the alert feed in one process
  enrol --subject ID --order REF --categories keyboard,web,image,heartbeat,location
        --from DATE --until DATE     create a subject's order and a device; prints {deviceId, token}
                                     (a second device on an order needs the order's exact terms)
  orders vary --order REF [--categories LIST] [--from DATE] [--until DATE]
                                     change an order's terms for all its devices (a court varied it);
                                     prints the order
  tokens create --role consumer      create an alert-feed consumer token; prints {token, consumerId}
  tokens list                        feed consumers: consumerId, createdAt, revokedAt (never secrets)
  tokens revoke --consumer ID        revoke a consumer token (ID: the con-… part of vc1.con-….secret);
                                     open feed sockets close within seconds (code 4401)
  devices revoke --device ID         revoke a device's token (live connections close within seconds)
  lists import --kind hashes|urls|keywords|apps --name NAME [--allow-empty] FILE
                                     import a CSV list as a new version (the server switches to it)
  lists list                         the active version of every list
  operators create --username U --role admin|manager|auditor [--password-file F]
                                     create an operator account (password from the file, else stdin)
  operators list                     operator accounts
  operators role --username U --role R | password --username U [--password-file F]
  operators unlock | disable | enable --username U
                                     change an operator's role, password, lock or access
  operators caseload --username U [--add SUBJECT] [--remove SUBJECT]
                                     assign subjects to a manager's caseload
  audit verify [--file EXPORT]       check the audit log's hash chain (or an export); reports the first broken link
  audit export [--from N] [--to M] [--out FILE]
                                     write audit entries with the hashes needed to verify them elsewhere
  hash [--dihedral|--all] FILE...    PDQ hashes as Meta's pdq-photo-hasher prints them
  simulate --url URL [--devices N] [--rate R] [--seconds S] [--tokens-file F] [--token T]... [--consumer-token T]
                                     a swarm of simulated devices against a running server: N devices
                                     (default 10) sending R events/s each (default 5; 0 = as fast as acks
                                     allow) for S seconds (default 10). Without tokens it enrols its own
                                     devices and a consumer in --data (the server's data folder, audited)
                                     and revokes them when the run ends or on Ctrl-C. --tokens-file F: a
                                     file of device tokens (whitespace-separated) to use instead, left active
  bench [--quick] [--check] [--url URL --data DIR]
                                     load benchmarks against the latency budgets (bench/budgets.json);
                                     with --url, the devices and consumer it enrols in --data (audited)
                                     are revoked when the run ends, fails or on Ctrl-C

DATE is YYYY-MM-DD (a day in UTC; an --until day is included whole) or an ISO 8601 timestamp with a
zone, e.g. 2026-01-01T09:00Z or 2026-01-01T09:00+01:00.
Every command takes --data DIR (default ./var/vigil of the current folder, or VIGIL_DATA) and --help, before or
after the command; --port and --host are serve's alone. Only serve creates a data folder (on its first start): the
other commands refuse a folder holding no Vigil database. Arguments a command does not know are refused (exit 2).
Environment: VIGIL_DATA, VIGIL_PORT, VIGIL_HOST, VIGIL_LOG_LEVEL, VIGIL_WORKERS, VIGIL_EVIDENCE_KEY, VIGIL_CONFIG;
one set but empty counts as unset.
`;

/**
 * `vigil <command> --help`: that command's lines of USAGE and the notes after the list of commands, or the whole
 * text for a command it does not list.
 */
function commandUsage(command: string): string {
  const [head, rest] = USAGE.split('\nCommands:\n') as [string, string];
  const [list, notes] = rest.split('\n\n') as [string, string];
  const blocks: string[][] = [];
  for (const line of list.split('\n')) {
    if (/^ {2}\S/.test(line)) blocks.push([line]);
    else blocks.at(-1)?.push(line);
  }
  const mine = blocks.filter((b) => b[0]!.trim().split(/\s/)[0] === command);
  if (mine.length === 0) return USAGE;
  return `${head.replace('<command> [options]', `${command} …`)}\n${mine.flat().join('\n')}\n\n${notes}`;
}

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
  if (args.length > 0) throw new UsageError(`serve takes only --port N, --host H and --data DIR; not ${args.map((a) => JSON.stringify(a)).join(' ')}`);
  const config = loadConfig(overrides);
  const log = pino({ level: config.logLevel, base: { app: 'vigil' } });
  const missing = missingServeFlags();
  if (missing.length > 0) {
    log.warn({ missing }, 'started without the Node options vigil serve runs with (npm start and npx vigil pass them): '
      + 'young-generation collections will pause ingest more often');
  }
  const server = await startServer(config, log);
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
  if (help) { io.out(commandUsage(command)); return 0 }
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

