/**
 * The devices and feed consumer `vigil simulate` makes for itself in the running server's data folder, and their
 * retirement when the run ends. Simulated devices left enrolled would each raise a `heartbeat-missed` alert on the
 * real feed a few minutes after the run, so the run revokes what it enrolled (never devices given to it by token).
 * Both are audited as `vigil enrol`, `tokens create` and their revocations are, one entry per device.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, type Category } from '../core/index.js';
import { RegistryStore, openDatabases, type Databases } from '../store/index.js';
import { auditCli } from './cli-audit.js';

/** Enrolments (and revocations) in flight at once: lmdb-js commits concurrent transactions together. */
const CHUNK = 100;
const DAY_MS = 86_400_000;

export interface Swarm {
  devices: { deviceId: string; token: string }[];
  consumer: { consumerId: string; token: string };
}

/**
 * Refuses a folder that holds no Vigil database: opening one would create it, and the server (on another folder)
 * would then refuse every device with 401.
 */
export function requireDataFolder(dataDir: string): void {
  if (!existsSync(join(dataDir, 'db', 'data.mdb'))) {
    throw new UsageError(`no Vigil data folder at ${dataDir}: simulate enrols its devices in the running server's data `
      + 'folder; name it with --data DIR (or VIGIL_DATA), or give device tokens with --token/--tokens-file');
  }
}

/** Enrols `n` devices (subjects sim-subject-0..n-1, one order each for this run) and a feed consumer. */
export async function enrolSwarm(dataDir: string, n: number, categories: Category[], stopped: () => boolean): Promise<Swarm> {
  requireDataFolder(dataDir);
  const db = openDatabases(dataDir);
  try {
    const registry = new RegistryStore(db);
    const now = Date.now();
    const from = now - DAY_MS;
    const until = now + 30 * DAY_MS;
    // Each run's orders have their own terms (dates from now), and an order is never re-used with other terms.
    const run = randomBytes(4).toString('hex');
    const devices: Swarm['devices'] = [];
    try {
      for (let start = 0; start < n && !stopped(); start += CHUNK) {
        const count = Math.min(CHUNK, n - start);
        const settled = await Promise.allSettled(Array.from({ length: count }, async (_, k) => {
          const subjectId = `sim-subject-${start + k}`;
          const orderRef = `SIM-ORDER-${run}-${start + k}`;
          const enrolled = await registry.enrol({ subjectId, orderRef, categories, from, until });
          devices.push(enrolled);
          await auditCli(db, 'device.enrol', `device:${enrolled.deviceId}`, { subjectId, orderRef, categories, from, until, via: 'simulate' });
          return enrolled;
        }));
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
      const consumer = await registry.createConsumer();
      await auditCli(db, 'consumer.create', `consumer:${consumer.consumerId}`, { role: 'consumer', via: 'simulate' });
      return { devices, consumer };
    } catch (err) {
      // Enrolment failed part-way: the devices already enrolled would owe heartbeats nobody sends.
      await revokeDevices(db, registry, devices).catch(() => {});
      throw err;
    }
  } finally {
    await db.root.close();
  }
}

/** Revokes the swarm's devices and consumer: they owe no heartbeat and read no feed once the run is over. */
export async function retireSwarm(dataDir: string, swarm: Swarm): Promise<void> {
  const db = openDatabases(dataDir);
  try {
    const registry = new RegistryStore(db);
    await revokeDevices(db, registry, swarm.devices);
    const { consumerId } = swarm.consumer;
    const revoked = await registry.revokeConsumer(consumerId);
    if (revoked) await auditCli(db, 'consumer.revoke', `consumer:${consumerId}`, { revokedAt: revoked.revokedAt ?? null, via: 'simulate' });
  } finally {
    await db.root.close();
  }
}

async function revokeDevices(db: Databases, registry: RegistryStore, devices: readonly { deviceId: string }[]): Promise<void> {
  for (let start = 0; start < devices.length; start += CHUNK) {
    await Promise.all(devices.slice(start, start + CHUNK).map(async ({ deviceId }) => {
      if (await registry.revokeDevice(deviceId)) await auditCli(db, 'device.revoke', `device:${deviceId}`, { via: 'simulate' });
    }));
  }
}
