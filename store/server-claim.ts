/**
 * One server per data folder. The command line's tools may open the folder beside a running server, but two
 * servers on it would each number alerts and journal pages from their own memory and write over each other's:
 * in review, two servers on one folder lost half the alerts of the events they had acknowledged. A server
 * claims the folder in an LMDB write transaction (serialised across processes) and gives the claim up when it
 * stops; a claim whose process is gone (the server was killed) is taken over.
 */
import { randomBytes } from 'node:crypto';
import { VigilError } from '../core/errors.js';
import type { Databases } from './database.js';

const CLAIM_KEY = 'server';

export interface ServerClaim { pid: number; startedAt: number; token: string }

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/** Claims the folder for this server, or refuses if another live process holds it; resolves to the release. */
export async function claimDataFolder(db: Databases, dataDir: string, now = Date.now()): Promise<() => Promise<void>> {
  const mine: ServerClaim = { pid: process.pid, startedAt: now, token: randomBytes(8).toString('hex') };
  const held = await db.root.transaction(() => {
    const claim = db.meta.get(CLAIM_KEY) as ServerClaim | undefined;
    if (claim && claim.pid !== process.pid && running(claim.pid)) return claim;
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
