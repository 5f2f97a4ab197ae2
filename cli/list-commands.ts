/**
 * `vigil lists import|list`: list files imported as new versions, which a running server switches to within seconds.
 * An import interrupted (Ctrl-C, SIGTERM) while its rows are written stops, deletes them, and says that nothing of it
 * was applied; a second Ctrl-C quits at once, leaving the rows to be deleted by the next import or the server's start.
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, VigilError, type VigilConfig } from '../core/index.js';
import { AuditLog, ListStore, LIST_KINDS, type ListInfo, type ListKind } from '../store/index.js';
import { importListFile } from '../pipeline/index.js';
import { cliActor } from './cli-audit.js';
import { onlyOptions } from './command-args.js';
import { need, type Io } from './commands.js';
import { openDataFolder } from './data-folder.js';

/**
 * Ctrl-C and SIGTERM during an import: the first aborts it (taken only while rows are written, so what is said
 * about it stays true), a second quits at once.
 */
class Interruption {
  readonly #abort = new AbortController();
  readonly #io: Io;
  readonly #onSignal = (): void => this.#interrupted();
  /** Set once the version is being activated: from then an interruption cannot stop the import. */
  applying = false;

  constructor(io: Io) {
    this.#io = io;
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
  }

  get signal(): AbortSignal { return this.#abort.signal }

  #interrupted(): void {
    if (!this.#abort.signal.aborted) {
      this.#abort.abort();
      this.#io.err('interrupted: stopping the import (Ctrl-C again to quit at once)');
      return;
    }
    this.#io.err(this.applying
      ? 'vigil: quit while the import was being applied: it may have been; see vigil lists list'
      : 'vigil: quit: nothing of this import was applied; the rows it had written are deleted by the next import of any list, or when the server starts');
    process.exit(130);
  }

  dispose(): void {
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }
}

const PROGRESS_EVERY_MS = 1000;
/** Keyword lists at least this long take a second or more to compile at import: say so. */
const CHECK_SHOWN_FROM = 50_000;

const LISTS_USAGE = 'usage: vigil lists import --kind hashes|urls|keywords|apps --name NAME [--allow-empty] FILE  |  vigil lists list';

export async function lists(config: VigilConfig, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args, strict: true, allowPositionals: true,
    options: { kind: { type: 'string' }, name: { type: 'string' }, 'allow-empty': { type: 'boolean' } },
  });
  const sub = positionals[0];
  if (!(sub === 'list' && positionals.length === 1) && !(sub === 'import' && positionals.length === 2)) throw new UsageError(LISTS_USAGE);
  onlyOptions(values, sub === 'list' ? [] : ['kind', 'name', 'allow-empty'], `lists ${sub}`, LISTS_USAGE);
  const db = openDataFolder(config.dataDir);
  try {
    const store = new ListStore(db);
    if (sub === 'list') {
      for (const l of store.active()) io.out(JSON.stringify(l));
      return 0;
    }
    const kind = need(values, 'kind');
    if (!(LIST_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be one of ${LIST_KINDS.join(', ')}`);
    const name = need(values, 'name');
    const file = positionals[1] as string;
    const started = Date.now();
    let lastShown = started;
    const interrupt = new Interruption(io);
    let info: ListInfo;
    try {
      info = await importListFile(store, kind as ListKind, name, file, {
        onProgress: (rows) => {
          const now = Date.now();
          if (now - lastShown < PROGRESS_EVERY_MS) return;
          lastShown = now;
          const rate = Math.round(rows / ((now - started) / 1000));
          io.err(`${name}: ${rows.toLocaleString('en-GB')} rows written (${rate.toLocaleString('en-GB')} rows/s)`);
        },
        onCheck: (rows) => {
          if (rows >= CHECK_SHOWN_FROM) io.err(`${name}: ${rows.toLocaleString('en-GB')} rows read; compiling the terms to check that the matcher can hold them`);
        },
        allowEmpty: values['allow-empty'] === true,
        signal: interrupt.signal,
        // Audited in the transaction that makes the version active: no import goes unrecorded.
        onApplied: (applied) => {
          interrupt.applying = true;
          new AuditLog(db).appendInTxn({ actor: cliActor(), action: 'list.import', target: `list:${name}`,
            details: { kind, version: applied.version, rows: applied.count, file: basename(file), via: 'cli' } });
        },
      });
    } catch (err) {
      if (err instanceof VigilError && err.code === 'INTERRUPTED') {
        io.err('vigil: interrupted: nothing of this import was applied; the rows it had written are deleted');
        return 130;
      }
      throw err;
    } finally {
      interrupt.dispose();
    }
    if (interrupt.signal.aborted) io.err(`${name}: interrupted as the import was being applied, too late to stop it`);
    io.err(`${name}: imported ${info.count.toLocaleString('en-GB')} rows as version ${info.version} in ${((Date.now() - started) / 1000).toFixed(1)} s; a running server switches to it within seconds`);
    io.out(JSON.stringify(info));
    return 0;
  } finally {
    await db.root.close();
  }
}
