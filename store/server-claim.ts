/**
 * One server per data folder. The command line's tools may open the folder beside a running server, but two
 * servers on it would each number alerts and journal pages from their own memory and write over each other's:
 * in review, two servers on one folder lost half the alerts of the events they had acknowledged. A server
 * claims the folder in an LMDB write transaction (serialised across processes) and gives the claim up when it
 * stops; a claim whose process is gone (the server was killed), or whose pid now belongs to a process started
 * after the claim, is taken over.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { VigilError } from '../core/errors.js';
import type { Databases } from './database.js';

const CLAIM_KEY = 'server';
/** USER_HZ: /proc counts process times in these (100 on Linux's every common platform). */
const CLOCK_TICKS = 100;

export interface ServerClaim { pid: number; startedAt: number; token: string }

/** Whether the claim's server still runs: its pid is alive and (where /proc says) started before the claim. */
function running(claim: ServerClaim): boolean {
  try {
    process.kill(claim.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false; // EPERM: alive, someone else's
  }
  // A pid is reused once its process is gone: one started after the claim was made is another process.
  const started = processStart(claim.pid);
  return started === undefined || started <= claim.startedAt + 1000;
}

/** When a process started (ms since the epoch) from Linux's /proc, or undefined where that cannot be read. */
function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]); // field 22, starttime
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(boot)) return undefined;
    return boot * 1000 + (ticks / CLOCK_TICKS) * 1000;
  } catch {
    return undefined;
  }
}

/** Claims the folder for this server, or refuses if another live process holds it; resolves to the release. */
export async function claimDataFolder(db: Databases, dataDir: string, now = Date.now()): Promise<() => Promise<void>> {
  const mine: ServerClaim = { pid: process.pid, startedAt: now, token: randomBytes(8).toString('hex') };
  const held = await db.root.transaction(() => {
    const claim = db.meta.get(CLAIM_KEY) as ServerClaim | undefined;
    if (claim && claim.pid !== process.pid && running(claim)) return claim;
    db.meta.put(CLAIM_KEY, mine);
    return undefined;
  });
  if (held) {
    throw new VigilError('DATA_IN_USE', `another Vigil server (pid ${held.pid}, started ${new Date(held.startedAt).toISOString()}) `
      + `is running on the data folder ${dataDir}; stop it first, or give this one another --data folder`);
  }
  return async () => {
    await db.root.transaction(() => {
      const claim = db.meta.get(CLAIM_KEY) as ServerClaim | undefined;
      if (claim?.token === mine.token) db.meta.remove(CLAIM_KEY);
    });
  };
}
