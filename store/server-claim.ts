/**
 * One server per data folder. The command line's tools may open the folder beside a running server, but two
 * servers on it would each number alerts and journal pages from their own memory and write over each other's:
 * in review, two servers on one folder lost half the alerts of the events they had acknowledged.
 *
 * A server claims the folder in an LMDB write transaction (serialised across processes), renews the claim every
 * few seconds while it runs, and gives it up when it stops. A claim is taken over when its server is gone: at once
 * when it was made on this host and its process is no longer running (a killed server, its pid maybe reused by
 * another process since: `processRunning` tells them apart); otherwise once it has not been renewed for
 * `CLAIM_LAPSE_MS` (a server in another container or on another host, whose pid cannot be checked from here).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { VigilError } from '../core/errors.js';
import type { Databases } from './database.js';
import { recordedProcessRunning, thisProcess, type ProcessRecord } from './process-identity.js';

const CLAIM_KEY = 'server';
/** How often a running server renews its claim. */
const CLAIM_RENEW_MS = 5_000;
/** A claim not renewed for this long is a server that is gone. */
export const CLAIM_LAPSE_MS = 20_000;

export interface ServerClaim extends ProcessRecord {
  startedAt: number;
  aliveAt: number;
  token: string;
}

/** Whether `claim`, someone else's, still holds the folder at `now`. */
export function claimHolds(claim: ServerClaim, now: number): boolean {
  if (!(now - claim.aliveAt < CLAIM_LAPSE_MS)) return false; // also when it has no renewal time at all
  if (claim.host === hostname() && claim.pid === process.pid) return false; // this process, restarting a server it stopped
  return recordedProcessRunning(claim);
}

export interface HeldFolder {
  /** Gives the claim up (the server is stopping). */
  release(): Promise<void>;
}

/** Claims the folder for this server, or refuses if another server holds it; keeps the claim renewed. */
export async function claimDataFolder(db: Databases, dataDir: string, clock: () => number = Date.now): Promise<HeldFolder> {
  const now = clock();
  const mine: ServerClaim = { ...thisProcess(), startedAt: now, aliveAt: now, token: randomBytes(8).toString('hex') };
  const held = await db.root.transaction(() => {
    const claim = db.meta.get(CLAIM_KEY) as ServerClaim | undefined;
    if (claim && claimHolds(claim, now)) return claim;
    db.meta.put(CLAIM_KEY, mine);
    return undefined;
  });
  if (held) {
    throw new VigilError('DATA_IN_USE', `another Vigil server (pid ${held.pid} on ${held.host ?? 'this host'}, started `
      + `${new Date(held.startedAt).toISOString()}) is running on the data folder ${dataDir}; stop it first, or give this `
      + `one another --data folder. A claim that is not renewed lapses ${CLAIM_LAPSE_MS / 1000} s after its last renewal.`);
  }
  const renew = async (): Promise<void> => {
    await db.root.transaction(() => {
      const claim = db.meta.get(CLAIM_KEY) as ServerClaim | undefined;
      if (claim?.token === mine.token) db.meta.put(CLAIM_KEY, { ...mine, aliveAt: clock() });
    });
  };
  const timer = setInterval(() => { renew().catch(() => {}) }, CLAIM_RENEW_MS); // a missed renewal is retried
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await db.root.transaction(() => {
        const claim = db.meta.get(CLAIM_KEY) as ServerClaim | undefined;
        if (claim?.token === mine.token) db.meta.remove(CLAIM_KEY);
      });
    },
  };
}
