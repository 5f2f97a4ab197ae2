/**
 * The devices and feed consumer a load run makes for itself in a running server's data folder (`vigil simulate`, and
 * `vigil bench --url --data`), and their retirement when the run ends. Devices left enrolled would each raise a
 * `heartbeat-missed` alert on the real feed a period after the run, and again after every silence, for as long as
 * their orders run; so a run revokes what it enrolled (never devices given to it by token). Revoked, a device owes
 * no heartbeat and its token is refused; its subject and order stay in the registry (it offers no removal), inert.
 * Both are audited as `vigil enrol`, `tokens create` and their revocations are, one entry per device.
 */
import { randomBytes } from 'node:crypto';
import { asDeviceId, type Category } from '../core/index.js';
import { RegistryStore, openDatabases, type Databases } from '../store/index.js';
import { auditCli } from './cli-audit.js';
import { requireDataFolder as requireServerFolder } from './data-folder.js';

/** Enrolments (and revocations) in flight at once: lmdb-js commits concurrent transactions together. */
const CHUNK = 100;
const DAY_MS = 86_400_000;

/** What a run's subjects and orders are called, and the `via` of its audit entries. */
export interface SwarmNames {
  /** The command, and how it is given tokens instead, for messages. */
  command: string;
  tokenFlags: string;
  /** Subjects `<subject>-0..n-1`, the same for every run. */
  subject: string;
  /** Orders `<order>-<run>-<i>`, new for each run. */
  order: string;
  via: string;
}

export const SIMULATED: SwarmNames = {
  command: 'simulate', tokenFlags: '--token/--tokens-file', subject: 'sim-subject', order: 'SIM-ORDER', via: 'simulate',
};

export interface Swarm {
  devices: { deviceId: string; token: string }[];
  consumer: { consumerId: string; token: string };
}

/** What a run enrolled, by id: what its retirement needs. */
export interface Enrolled {
  devices: readonly { deviceId: string }[];
  consumer?: { consumerId: string } | undefined;
}

/**
 * Refuses a folder that holds no Vigil database: opening one would create it, and the server (on another folder)
 * would then refuse every device with 401.
 */
export function requireDataFolder(dataDir: string, names: SwarmNames = SIMULATED): void {
  requireServerFolder(dataDir, `${names.command} enrols its devices in the running server's data folder; name it with `
    + `--data DIR (or VIGIL_DATA), or give device tokens with ${names.tokenFlags}`);
}

/**
 * Enrols `n` devices (one subject and one order for this run each) and a feed consumer. Stops enrolling once
 * `stopped()` says so, and gives what it enrolled by then.
 */
export async function enrolSwarm(dataDir: string, n: number, categories: Category[], stopped: () => boolean,
  names: SwarmNames = SIMULATED): Promise<Swarm> {
  requireDataFolder(dataDir, names);
  const db = openDatabases(dataDir, { create: false });
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
          const subjectId = `${names.subject}-${start + k}`;
          const orderRef = `${names.order}-${run}-${start + k}`;
          const enrolled = await registry.enrol({ subjectId, orderRef, categories, from, until });
          devices.push(enrolled);
          await auditCli(db, 'device.enrol', `device:${enrolled.deviceId}`, { subjectId, orderRef, categories, from, until, via: names.via });
          return enrolled;
        }));
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
      const consumer = await registry.createConsumer();
      await auditCli(db, 'consumer.create', `consumer:${consumer.consumerId}`, { role: 'consumer', via: names.via });
      return { devices, consumer };
    } catch (err) {
      // Enrolment failed part-way: the devices already enrolled would owe heartbeats nobody sends.
      await revokeDevices(db, registry, devices, names.via).catch(() => {});
      throw err;
    }
  } finally {
    await db.root.close();
  }
}

/**
 * Revokes a run's devices and consumer: they owe no heartbeat and read no feed once the run is over. Gives how many
 * devices were revoked now (one revoked already, or unknown, is not counted) and whether the consumer was.
 */
export async function retireSwarm(dataDir: string, swarm: Enrolled, via = SIMULATED.via): Promise<{ devices: number; consumer: boolean }> {
  const db = openDatabases(dataDir, { create: false });
  try {
    const registry = new RegistryStore(db);
    const devices = await revokeDevices(db, registry, swarm.devices, via);
    if (!swarm.consumer) return { devices, consumer: false };
    const { consumerId } = swarm.consumer;
    const active = registry.consumerActive(consumerId);
    const revoked = await registry.revokeConsumer(consumerId);
    if (revoked && active) await auditCli(db, 'consumer.revoke', `consumer:${consumerId}`, { revokedAt: revoked.revokedAt ?? null, via });
    return { devices, consumer: revoked !== null && active };
  } finally {
    await db.root.close();
  }
}

async function revokeDevices(db: Databases, registry: RegistryStore, devices: readonly { deviceId: string }[], via: string): Promise<number> {
  let revoked = 0;
  for (let start = 0; start < devices.length; start += CHUNK) {
    await Promise.all(devices.slice(start, start + CHUNK).map(async ({ deviceId }) => {
      if (registry.deviceScope(asDeviceId(deviceId))?.device.revokedAt !== undefined) return; // by an operator, say
      if (!await registry.revokeDevice(deviceId)) return;
      revoked++;
      await auditCli(db, 'device.revoke', `device:${deviceId}`, { via });
    }));
  }
  return revoked;
}
