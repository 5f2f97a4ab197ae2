/**
 * One LMDB environment per data folder, with a named database per kind of record. Several
 * processes may open it at once (a running server and `vigil enrol` or `vigil lists import`):
 * LMDB's lock file serialises writers, and readers always see a consistent snapshot.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { open, type Database as LmdbDb, type RootDatabase } from 'lmdb';
import { ConfigError, NoDatabaseError } from '../core/errors.js';
import { dataFileProblem } from './data-file-check.js';

export type Key = string | number | (string | number)[];

export interface Databases {
  root: RootDatabase;
  /** The environment's folder (`<dataDir>/db`, holding data.mdb). */
  dir: string;
  /** subjectId -> SubjectRecord */
  subjects: LmdbDb<unknown, string>;
  /** orderRef -> OrderRecord */
  orders: LmdbDb<unknown, string>;
  /** deviceId -> DeviceRecord */
  devices: LmdbDb<unknown, string>;
  /** consumerId -> ConsumerRecord */
  consumers: LmdbDb<unknown, string>;
  /** deviceId -> { at, seq, alerted }: when the device was last heard from (heartbeat deadlines) */
  deviceSeen: LmdbDb<unknown, string>;
  /** deviceId -> highest sequence stored durably */
  deviceSeq: LmdbDb<number, string>;
  /**
   * deviceId -> the device's images refused unchecked (too large, undecodable) not yet in an alert, the window they
   * wait in, and the highest seqs counted (pipeline/unchecked-image-monitor.ts)
   */
  uncheckedImages: LmdbDb<unknown, string>;
  /**
   * journal key (a positive integer, in the order events were appended) -> the bytes of `[deviceId, event]`
   * as plain MessagePack (store/journal-codec.ts), until the event has been matched. LMDB database `events`.
   */
  journal: LmdbDb<Uint8Array, number>;
  /**
   * The journal as earlier versions kept it, in LMDB database `journal` with the general encoder
   * (journal key -> [deviceId, event], or before that [deviceId, seq] -> event). The first `Journal`
   * opened on the folder moves what is left here into `journal`; nothing else reads or writes it.
   */
  legacyJournal: LmdbDb<unknown, Key>;
  /** feed sequence -> Alert */
  alerts: LmdbDb<unknown, number>;
  /** alert id -> feed sequence: one alert per event and match, whatever happens */
  alertIds: LmdbDb<number, string>;
  /** list name -> active ListInfo */
  lists: LmdbDb<unknown, string>;
  /** [list name, version, entry index] -> ListEntry */
  listEntries: LmdbDb<unknown, Key>;
  /**
   * [list name, version, chunk] -> ListValues as UTF-8 JSON: the same entries' values (and hash types), a chunk of
   * them a record, in entry order: all that compiling a list reads (store/list-store.ts).
   */
  listValues: LmdbDb<Uint8Array, Key>;
  /** evidence id -> { deviceId, eventSeq, alertIds, sealed } (encrypted image of a matching event) */
  evidence: LmdbDb<unknown, string>;
  /** small counters and settings */
  meta: LmdbDb<unknown, string>;
  /** [subjectId, feed sequence] -> 1: the alerts of a subject, for caseload listings */
  alertsBySubject: LmdbDb<number, Key>;
  /** [evidence id, feed sequence] -> 1: the alerts that share one piece of evidence */
  alertsByEvidence: LmdbDb<number, Key>;
  /** [alert feed sequence, notice feed sequence] -> 1: the review notices published about an alert */
  alertNotices: LmdbDb<number, Key>;
  /** audit sequence -> AuditEntry: the hash-chained audit log, append-only */
  audit: LmdbDb<unknown, number>;
  /** username -> OperatorRecord */
  operators: LmdbDb<unknown, string>;
  /** session id -> SessionRecord (operator bearer tokens, stored hashed) */
  sessions: LmdbDb<unknown, string>;
  /** [username, subjectId] -> CaseloadEntry: the subjects a manager may see */
  caseloads: LmdbDb<unknown, Key>;
}

/**
 * Handles already open in this thread, by folder. LMDB must not have one environment open twice in
 * one process ("closing one breaks the other's advisory locks", LMDB's caveats), so a second open of
 * the same folder — the CLI's helpers in a process that also runs the server, or tests — gets the
 * same handles, and only the last `root.close()` closes the environment.
 */
const openEnvs = new Map<string, { dbs: Databases; refs: number }>();

/**
 * Whether `dataDir` holds no Vigil database: `<dataDir>/db/data.mdb`, which a server's first start makes, is not
 * there. A folder that cannot be looked into (not a folder, no permission) does not count as empty: opening it
 * says what is wrong with it.
 */
export function missingDatabase(dataDir: string): boolean {
  try {
    statSync(join(resolve(dataDir, 'db'), 'data.mdb'));
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

export interface OpenOptions {
  /**
   * Whether to create the environment in a folder that holds none (the default, for the server). Commands that
   * work on a server's folder pass false: a mistyped folder would otherwise become a new, empty database that no
   * server reads, and what they wrote there (a device, a token) would be refused by the real one.
   */
  create?: boolean;
}

/**
 * Opens the environment under `<dataDir>/db`, or returns the handles already open on it. A folder holding none is
 * created, or with `create: false` refused with a `NoDatabaseError`, leaving the folder as it was.
 */
export function openDatabases(dataDir: string, { create = true }: OpenOptions = {}): Databases {
  const path = resolve(dataDir, 'db');
  const shared = openEnvs.get(path);
  if (shared) {
    shared.refs++;
    return shared.dbs;
  }
  if (!create && missingDatabase(dataDir)) throw new NoDatabaseError(resolve(dataDir));
  let root: RootDatabase;
  try {
    if (create) mkdirSync(path, { recursive: true, mode: 0o700 });
    // A data file cut short would kill the process with SIGBUS when LMDB reads past its end: say so instead.
    // Checked twice, in case a commit by another process was under way as the first check read the meta pages.
    const problem = dataFileProblem(join(path, 'data.mdb')) && dataFileProblem(join(path, 'data.mdb'));
    if (problem !== undefined) throw new Error(problem);
    // Every commit is synced to disk before it returns or its promise settles (overlappingSync, lmdb-js's default
    // here, would report commits before their sync): the journal's synchronous group commit is durable on return.
    root = open({ path, maxDbs: 32, compression: false, cache: false, overlappingSync: false });
  } catch (err) {
    // LMDB's own messages ("Permission denied: Attempting to setup locks") do not say which folder.
    throw new ConfigError(`cannot open the data folder ${resolve(dataDir)}: ${(err as Error).message}`, { cause: err });
  }
  const closeEnv = root.close.bind(root);
  root.close = async () => {
    const entry = openEnvs.get(path);
    if (entry && --entry.refs > 0) return;
    openEnvs.delete(path);
    await closeEnv();
  };
  const db = <V, K extends Key>(name: string, keyEncoding?: 'uint32' | 'ordered-binary') =>
    root.openDB<V, K>({ name, encoding: 'msgpack', ...(keyEncoding ? { keyEncoding } : {}) });
  const dbs: Databases = {
    root,
    dir: path,
    subjects: db('subjects'),
    orders: db('orders'),
    devices: db('devices'),
    consumers: db('consumers'),
    deviceSeq: db('deviceSeq'),
    deviceSeen: db('deviceSeen'),
    uncheckedImages: db('uncheckedImages'),
    journal: root.openDB<Uint8Array, number>({ name: 'events', encoding: 'binary' }),
    legacyJournal: db('journal'),
    alerts: db('alerts', 'uint32'),
    alertIds: db('alertIds'),
    lists: db('lists'),
    listEntries: db('listEntries'),
    listValues: root.openDB<Uint8Array, Key>({ name: 'listValues', encoding: 'binary' }),
    evidence: db('evidence'),
    meta: db('meta'),
    alertsBySubject: db('alertsBySubject'),
    alertsByEvidence: db('alertsByEvidence'),
    alertNotices: db('alertNotices'),
    audit: db('audit', 'uint32'),
    operators: db('operators'),
    sessions: db('sessions'),
    caseloads: db('caseloads'),
  };
  openEnvs.set(path, { dbs, refs: 1 });
  return dbs;
}
