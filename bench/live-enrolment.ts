/**
 * The devices `vigil bench --url URL --data DIR` enrols in a running server's data folder, and their retirement.
 * A bench device left enrolled would raise a `heartbeat-missed` alert ("no event ever received", or a silence) on
 * that server's feed a period after the run, and again after each silence, for the 30 days its order runs. So the
 * suite revokes what it enrolled as it ends, done, failed or interrupted, as `vigil simulate` does and with the same
 * code (cli/swarm-enrolment.ts): each enrolment and revocation audited (`via: "bench"`). Subjects `bench-subject-N`
 * and the run's orders stay in the registry, which offers no removal; with their devices revoked they are inert.
 *
 * Until they are retired, the run's device and consumer ids are kept in `<data>/bench-enrolled.json`, so that a run
 * that could not retire them (killed outright, or a second Ctrl-C) has them retired by the next run on that folder.
 * The next run also retires what `<data>/bench-tokens.json` lists: earlier versions kept their devices there, for
 * reuse, and left them enrolled.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATEGORIES, UsageError } from '../core/index.js';
import { openDatabases } from '../store/index.js';
import { enrolSwarm, requireDataFolder, retireSwarm, type Enrolled, type SwarmNames } from '../cli/swarm-enrolment.js';
import { importHashes, type Credentials } from './suite-data.js';

export const BENCH_NAMES: SwarmNames = {
  command: 'vigil bench --url', tokenFlags: '--tokens-file F and --consumer-token T',
  subject: 'bench-subject', order: 'BENCH-ORDER', via: 'bench',
};
/** What a run enrolled and has not retired yet. */
export const LEDGER_FILE = 'bench-enrolled.json';
/** Where earlier versions kept the tokens of the devices they left enrolled. */
export const LEGACY_TOKENS_FILE = 'bench-tokens.json';

interface Ledger { pid: number; startedAt: string; devices: string[]; consumer: string }

/** Whether process `pid` runs on this machine (one of another user's counts). */
function running(pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

/** The id part of a token `vd1.<id>.<secret>` or `vc1.<id>.<secret>`. */
const tokenId = (token: string): string => token.split('.')[1] ?? '';

/**
 * Retires what an earlier run left enrolled in `dir`; gives a sentence saying what, or undefined for nothing.
 * Refuses to start beside a run still going on the same folder: each would retire the other's devices.
 */
async function retireLeftovers(dir: string): Promise<string | undefined> {
  const left: { file: string; enrolled: Enrolled }[] = [];
  const ledger = join(dir, LEDGER_FILE);
  if (existsSync(ledger)) {
    const l = JSON.parse(readFileSync(ledger, 'utf8')) as Ledger;
    if (l.pid !== process.pid && running(l.pid)) {
      throw new UsageError(`another vigil bench (pid ${l.pid}, started ${l.startedAt}) has devices enrolled in ${dir}; wait for it `
        + `to end, or, if no such run is going, remove ${ledger}`);
    }
    left.push({ file: ledger, enrolled: { devices: l.devices.map((deviceId) => ({ deviceId })), consumer: { consumerId: l.consumer } } });
  }
  const legacy = join(dir, LEGACY_TOKENS_FILE);
  if (existsSync(legacy)) {
    const kept = JSON.parse(readFileSync(legacy, 'utf8')) as { tokens?: string[]; consumerToken?: string };
    left.push({ file: legacy, enrolled: {
      devices: (kept.tokens ?? []).map((t) => ({ deviceId: tokenId(t) })),
      consumer: kept.consumerToken === undefined ? undefined : { consumerId: tokenId(kept.consumerToken) },
    } });
  }
  if (left.length === 0) return undefined;
  let devices = 0;
  let consumers = 0;
  for (const { file, enrolled } of left) {
    const retired = await retireSwarm(dir, enrolled, BENCH_NAMES.via);
    devices += retired.devices;
    consumers += retired.consumer ? 1 : 0;
    rmSync(file, { force: true });
  }
  return `revoked ${devices} devices and ${consumers} consumer tokens an earlier run left enrolled (${left.map((l) => l.file).join(', ')})`;
}

/** The devices and consumer one run enrolled in a running server's data folder. */
export class LiveEnrolment {
  readonly dir: string;
  readonly creds: Credentials;
  /** What was retired of an earlier run's, as the run began. */
  readonly leftovers: string | undefined;
  readonly #enrolled: Enrolled;
  #retired: { devices: number; consumer: boolean } | undefined;

  private constructor(dir: string, creds: Credentials, enrolled: Enrolled, leftovers: string | undefined) {
    this.dir = dir;
    this.creds = creds;
    this.#enrolled = enrolled;
    this.leftovers = leftovers;
  }

  /**
   * Enrols `devices` devices and a consumer in `dir` (the running server's data folder), after retiring what an
   * earlier run left there, and imports the bench's hashes list. Stops enrolling once `stopped()` says so.
   */
  static async enrol(dir: string, devices: number, hashesCsv: string | undefined, stopped: () => boolean): Promise<LiveEnrolment> {
    requireDataFolder(dir, BENCH_NAMES);
    const leftovers = await retireLeftovers(dir);
    const swarm = await enrolSwarm(dir, devices, [...CATEGORIES], stopped, BENCH_NAMES);
    const ledger: Ledger = {
      pid: process.pid, startedAt: new Date().toISOString(),
      devices: swarm.devices.map((d) => d.deviceId), consumer: swarm.consumer.consumerId,
    };
    writeFileSync(join(dir, LEDGER_FILE), JSON.stringify(ledger), { mode: 0o600 });
    const enrolment = new LiveEnrolment(dir, { tokens: swarm.devices.map((d) => d.token), consumerToken: swarm.consumer.token }, swarm, leftovers);
    if (hashesCsv === undefined || stopped()) return enrolment;
    try {
      const db = openDatabases(dir);
      try { await importHashes(db, hashesCsv) } finally { await db.root.close() }
    } catch (err) {
      await enrolment.retire().catch(() => {}); // the caller never gets them to retire
      throw err;
    }
    return enrolment;
  }

  /** How many devices this run enrolled. */
  get devices(): number { return this.#enrolled.devices.length }

  /** Revokes the run's devices and consumer (once; later calls give the first's result) and forgets them. */
  async retire(): Promise<{ devices: number; consumer: boolean }> {
    this.#retired ??= await retireSwarm(this.dir, this.#enrolled, BENCH_NAMES.via);
    rmSync(join(this.dir, LEDGER_FILE), { force: true });
    return this.#retired;
  }
}
