/**
 * `vigil operators ...` (accounts, roles, caseloads) and `vigil audit verify|export`. Passwords are
 * read from `--password-file` or standard input, never from a flag value (flags end up in shell
 * history and process listings). Every command is audited as `cli:<os user>`.
 */
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { FileError, UsageError, type VigilConfig } from '../core/index.js';
import {
  AuditLog, OPERATOR_ROLES, OperatorStore, canonicalJson, checkChain, isOperatorRole,
  type AuditEntry, type ChainCheck, type OperatorChange, type Outcome,
} from '../store/index.js';
import { auditCli, cliActor } from './cli-audit.js';
import type { Io } from './commands.js';
import { openDataFolder } from './data-folder.js';
import { onlyOptions } from './command-args.js';

export const EXPORT_FORMAT = 'vigil-audit-export/1';

const OPERATORS_USAGE = `usage:
  vigil operators create --username U --role ${OPERATOR_ROLES.join('|')} [--password-file F]   (else the password is read from stdin)
  vigil operators list
  vigil operators caseload --username U [--add SUBJECT] [--remove SUBJECT]
  vigil operators role --username U --role ${OPERATOR_ROLES.join('|')}
  vigil operators password --username U [--password-file F]
  vigil operators unlock|disable|enable --username U`;

/** The options each `vigil operators` subcommand takes. */
const OPERATOR_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  create: ['username', 'role', 'password-file'],
  list: [],
  caseload: ['username', 'add', 'remove'],
  role: ['username', 'role'],
  password: ['username', 'password-file'],
  unlock: ['username'], disable: ['username'], enable: ['username'],
};

/**
 * The password: the first line of the file, or of standard input (without echo on a terminal), without its line
 * ending (LF, CRLF or CR). Spaces or tabs before or after it are refused rather than kept: nobody types them back at
 * login, which would then fail; an editor's stray space in a file is the usual source.
 */
async function readPassword(file: string | undefined, io: Io): Promise<string> {
  const password = await readPasswordLine(file, io);
  const where = file === undefined ? 'the password given' : `the password in ${file}`;
  if (password.trim() === '') return password; // refused by the store: a password cannot be only spaces
  if (/^[ \t]/.test(password)) throw new UsageError(`${where} begins with a space or tab; remove it (a password cannot begin or end with one)`);
  if (/[ \t]$/.test(password)) throw new UsageError(`${where} ends with a space or tab; remove it (a password cannot begin or end with one)`);
  return password;
}

async function readPasswordLine(file: string | undefined, io: Io): Promise<string> {
  if (file !== undefined) {
    let text: string;
    try { text = readFileSync(file, 'utf8') } catch (cause) { throw new FileError('read', file, cause) }
    return text.split(/\r\n|\n|\r/)[0] ?? '';
  }
  const stdin = process.stdin;
  if (stdin.isTTY) {
    io.err('Password (not shown): ');
    stdin.setRawMode(true);
    return new Promise((resolve) => {
      let pw = '';
      const onData = (d: Buffer): void => {
        for (const ch of d.toString('utf8')) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') { stdin.setRawMode(false); stdin.pause(); stdin.off('data', onData); resolve(pw); return }
          if (ch === '\u0003') process.exit(130);
          pw = ch === '\u007f' ? pw.slice(0, -1) : pw + ch;
        }
      };
      stdin.on('data', onData);
    });
  }
  const rl = createInterface({ input: stdin });
  for await (const line of rl) { rl.close(); return line }
  return '';
}

function report<T>(r: Outcome<T>, io: Io, show: (v: T) => unknown): number {
  if (!r.ok) { io.err(`vigil: ${r.message}`); return r.code === 'INVALID' ? 2 : 1 }
  io.out(JSON.stringify(show(r.value)));
  return 0;
}

export async function operators(config: VigilConfig, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args, strict: true, allowPositionals: true,
    options: {
      username: { type: 'string' }, role: { type: 'string' }, 'password-file': { type: 'string' },
      add: { type: 'string', multiple: true }, remove: { type: 'string', multiple: true },
    },
  });
  const sub = positionals[0];
  if (positionals.length > 1) throw new UsageError(`unexpected ${JSON.stringify(positionals[1])}\n${OPERATORS_USAGE}`);
  const allowed = sub === undefined ? undefined : OPERATOR_OPTIONS[sub];
  if (allowed === undefined) throw new UsageError(OPERATORS_USAGE);
  onlyOptions(values, allowed, `operators ${sub}`, OPERATORS_USAGE);
  const username = values.username;
  if (sub !== 'list' && (typeof username !== 'string' || username === '')) throw new UsageError(`--username is required\n${OPERATORS_USAGE}`);
  const user = username ?? '';
  const db = openDataFolder(config.dataDir);
  try {
    const store = new OperatorStore(db, new AuditLog(db), config.operators);
    const actor = cliActor();
    switch (sub) {
      case 'create': {
        if (!isOperatorRole(values.role)) throw new UsageError(`--role must be one of ${OPERATOR_ROLES.join(', ')}`);
        const password = await readPassword(values['password-file'], io);
        return report(await store.create({ username: user, role: values.role, password }, actor), io, (op) => ({ operator: op }));
      }
      case 'list':
        await auditCli(db, 'operator.list', 'operators');
        for (const op of store.list()) io.out(JSON.stringify(op));
        return 0;
      case 'caseload': {
        // Applied adds first, then removes, a subject in both would end up removed whatever order they were typed in.
        const both = [...new Set(values.add ?? [])].filter((subject) => (values.remove ?? []).includes(subject));
        if (both.length > 0) throw new UsageError(`${both.join(', ')} ${both.length > 1 ? 'are' : 'is'} both in --add and in --remove: give each subject once`);
        for (const subject of values.add ?? []) {
          const r = await store.addToCaseload(user, subject, actor);
          if (!r.ok) return report(r, io, () => null);
        }
        for (const subject of values.remove ?? []) {
          const r = await store.removeFromCaseload(user, subject, actor);
          if (!r.ok) return report(r, io, () => null);
        }
        io.out(JSON.stringify({ username: user, subjects: store.caseload(user).map((e) => e.subjectId) }));
        return 0;
      }
      case 'role': case 'password': case 'unlock': case 'disable': case 'enable': {
        const change: OperatorChange = {};
        if (sub === 'role') {
          if (!isOperatorRole(values.role)) throw new UsageError(`--role must be one of ${OPERATOR_ROLES.join(', ')}`);
          change.role = values.role;
        } else if (sub === 'password') change.password = await readPassword(values['password-file'], io);
        else if (sub === 'unlock') change.unlock = true;
        else change.disabled = sub === 'disable';
        return report(await store.update(user, change, actor), io, (op) => ({ operator: op }));
      }
      default:
        throw new UsageError(OPERATORS_USAGE);
    }
  } finally {
    await db.root.close();
  }
}

/** The header line of an export: where the range starts in the chain, and the head when it was taken. */
export interface ExportHeader {
  format: typeof EXPORT_FORMAT; from: number; to: number; count: number; prevHash: string;
  head: { seq: number; hash: string }; exportedAt: number;
}

async function readExport(file: string): Promise<{ header: ExportHeader; entries: AuditEntry[] }> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let header: ExportHeader | undefined;
  const entries: AuditEntry[] = [];
  let lineNo = 0;
  // A file that cannot be opened or read (missing, a folder) fails the loop with the stream's error.
  try {
    for await (const line of rl) {
      lineNo++;
      if (line.trim() === '') continue;
      let v: unknown;
      try { v = JSON.parse(line) } catch { throw new UsageError(`${file} is not a Vigil audit export: line ${lineNo} is not JSON`) }
      if (header === undefined) {
        header = v as ExportHeader;
        if ((v as Partial<ExportHeader> | null)?.format !== EXPORT_FORMAT) throw new UsageError(`${file} is not a Vigil audit export (format ${EXPORT_FORMAT})`);
      } else entries.push(v as AuditEntry);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new FileError('read', file, err);
  }
  if (!header) throw new UsageError(`${file} is empty`);
  return { header, entries };
}

function show(result: ChainCheck, io: Io, what: string): number {
  io.out(JSON.stringify(result));
  if (result.ok) { io.err(`${what}: ${result.count} entries, chain intact; head ${result.head.seq} ${result.head.hash}`); return 0 }
  io.err(`${what}: broken at entry ${result.seq}: ${result.reason}`);
  return 1;
}

const AUDIT_USAGE = 'usage: vigil audit verify [--file EXPORT] | vigil audit export [--from N] [--to M] [--out FILE]';

export async function audit(config: VigilConfig, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args, strict: true, allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' }, file: { type: 'string' } },
  });
  const sub = positionals[0];
  if (positionals.length > 1) throw new UsageError(`unexpected ${JSON.stringify(positionals[1])}; ${AUDIT_USAGE}`);
  if (sub !== 'verify' && sub !== 'export') throw new UsageError(AUDIT_USAGE);
  onlyOptions(values, sub === 'verify' ? ['file'] : ['from', 'to', 'out'], `audit ${sub}`, AUDIT_USAGE);
  if (sub === 'verify' && values.file !== undefined) {
    // An export is checked on its own: no data folder needed.
    const { header, entries } = await readExport(values.file);
    const result = checkChain(entries, header.prevHash, header.from);
    if (result.ok && result.count !== header.count) {
      return show({ ok: false, count: result.count, seq: header.from + result.count, reason: `the export says ${header.count} entries, it holds ${result.count}` }, io, values.file);
    }
    return show(result, io, values.file);
  }
  const db = openDataFolder(config.dataDir);
  try {
    const log = new AuditLog(db);
    if (sub === 'verify') {
      const result = log.verify();
      await auditCli(db, 'audit.verify', 'audit', result.ok ? { ok: true, count: result.count } : { ok: false, seq: result.seq });
      return show(result, io, 'audit log');
    }
    const num = (v: string | undefined, flag: string, dflt: number): number => {
      if (v === undefined) return dflt;
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${flag} must be a positive integer`);
      return Number(v);
    };
    const head = log.head();
    const from = num(values.from, '--from', 1);
    const to = Math.min(num(values.to, '--to', head.seq), head.seq);
    if (to < from) throw new UsageError(`nothing to export: --from ${from} is after --to ${to} (the log has ${head.seq} entries)`);
    const entries = log.read(from, to);
    const header: ExportHeader = {
      format: EXPORT_FORMAT, from, to, count: entries.length, prevHash: log.prevHashOf(from), head, exportedAt: Date.now(),
    };
    const lines = [JSON.stringify(header), ...entries.map((e) => canonicalJson(e))];
    if (values.out !== undefined) {
      try { writeFileSync(values.out, lines.join('\n') + '\n', { mode: 0o600 }) } catch (cause) { throw new FileError('write', values.out, cause) }
    }
    else for (const line of lines) io.out(line);
    await auditCli(db, 'audit.export', 'audit', { from, to, count: entries.length, file: values.out ?? null });
    io.err(`exported entries ${from}..${to} (${entries.length}); the range links to ${header.prevHash}`);
    return 0;
  } finally {
    await db.root.close();
  }
}
