/**
 * Keeps the workers' index snapshot in step with the active list versions. It polls the list store
 * (another process may import at any time), compiles a changed list in a worker, and only when the
 * compiled index is ready swaps it into the snapshot: matching goes on against the old version
 * meanwhile, so an import never pauses it, and each batch sees one consistent snapshot.
 */
import type { Logger } from 'pino';
import type { ListInfo, ListStore } from '../store/index.js';
import type { CompiledList, IndexSnapshot, WorkerResult, WorkerTask } from './worker-messages.js';

export interface TaskRunner { run(task: WorkerTask): Promise<WorkerResult> }

export class ListWatcher {
  readonly #lists: ListStore;
  readonly #runner: TaskRunner;
  readonly #dataDir: string;
  readonly #log: Logger;
  #snapshot: IndexSnapshot = { id: 0, lists: [] };
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  readonly #failed = new Map<string, number>();

  constructor(lists: ListStore, runner: TaskRunner, dataDir: string, log: Logger) {
    this.#lists = lists;
    this.#runner = runner;
    this.#dataDir = dataDir;
    this.#log = log;
  }

  get snapshot(): IndexSnapshot { return this.#snapshot }

  /** Compiles every active list; resolves when the first snapshot is complete. */
  async start(pollMs: number): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.#log.error({ err }, 'checking the lists failed; matching goes on with those it has'));
    }, pollMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Checks for new versions once; compiles and swaps in those that changed. */
  async refresh(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const active = this.#lists.active();
      const current = new Map(this.#snapshot.lists.map((l) => [l.name, l]));
      const changed = active.filter((info) => current.get(info.name)?.version !== info.version
        && this.#failed.get(info.name) !== info.version);
      const removed = [...current.keys()].some((name) => !active.some((a) => a.name === name));
      if (changed.length === 0 && !removed) return;
      const built = new Map<string, CompiledList>();
      for (const info of changed) {
        const list = await this.#build(info, current.get(info.name)?.version);
        if (list) built.set(info.name, list);
      }
      const lists = active
        .map((info) => built.get(info.name) ?? current.get(info.name))
        .filter((l): l is CompiledList => l !== undefined);
      // What `#build` recorded as in use (the version matched before and the new one) stays right after the swap.
      this.#snapshot = { id: this.#snapshot.id + 1, lists };
    } finally {
      this.#busy = false;
    }
  }

  /** Records the versions of `name` this server may read (store/list-store.ts keeps them through imports). */
  async #markInUse(name: string, versions: number[]): Promise<void> {
    await this.#lists.markInUse(name, versions).catch((err: unknown) => {
      this.#log.warn({ err, list: name }, 'could not record the list versions in use; an import meanwhile may drop hits in flight');
    });
  }

  /**
   * Compiles `info`'s version. It is first recorded as in use, with the version matched now (`inUse`), so that an
   * import made meanwhile does not delete its entries while they are read, nor, once switched in, the previous
   * version's while batches matched against it are in flight. A compile that read fewer entries than the version
   * holds (deleted after all, before the record was seen) is not switched in.
   */
  async #build(info: ListInfo, inUse: number | undefined): Promise<CompiledList | undefined> {
    const started = Date.now();
    await this.#markInUse(info.name, inUse === undefined ? [info.version] : [inUse, info.version]);
    const result = await this.#runner.run({
      type: 'build', dataDir: this.#dataDir, name: info.name, kind: info.kind, version: info.version,
    });
    if (result.type !== 'build') {
      this.#failed.set(info.name, info.version);
      this.#log.error({ list: info.name, version: info.version, result }, 'list could not be compiled; matching goes on with the previous version');
      return undefined;
    }
    if (result.list.index.size !== info.count) {
      this.#failed.set(info.name, info.version); // compiling it again would read the same
      this.#log.warn({ list: info.name, version: info.version, entries: info.count, read: result.list.index.size },
        'list version was replaced while it was compiled; the newer one is compiled next');
      return undefined;
    }
    this.#log.info({ list: info.name, kind: info.kind, version: info.version, entries: info.count, ms: Date.now() - started },
      'list version compiled and switched in');
    return result.list;
  }
}
