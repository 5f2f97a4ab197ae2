/**
 * `vigil enrol`, `vigil orders vary`, `vigil tokens create|list|revoke` and `vigil devices list|revoke`: operator
 * commands that work on the data folder directly, also while a server runs on it (LMDB serialises the
 * writers; the server sees the change within seconds).
 */
import { parseArgs } from 'node:util';
import { CATEGORIES, UsageError, idFormProblem, type Category, type VigilConfig } from '../core/index.js';
import { RegistryStore, isActive, type OrderRecord, type OrderVariation } from '../store/index.js';
import { parseOrderDate } from './parse-date.js';
import { auditCli } from './cli-audit.js';
import { openDataFolder } from './data-folder.js';
import { idArgument } from './id-argument.js';
import { onlyOptions } from './command-args.js';

export interface Io { out: (line: string) => void; err: (line: string) => void; isTTY: boolean }

export function need(values: Record<string, unknown>, key: string): string {
  const v = values[key];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${key} is required`);
  return v;
}

/** A `--subject` or `--order` value in the form ids take (core/ids.ts), or a usage error naming the flag. */
function idFlag(raw: string, kind: 'subject' | 'order'): string {
  const problem = idFormProblem(kind, raw);
  if (problem !== undefined) throw new UsageError(`--${kind} ${problem}`);
  return raw;
}

/** `--categories a,b,c`: known categories, each once. */
function parseCategories(raw: string): Category[] {
  const categories = raw.split(',').map((c) => c.trim()).filter(Boolean);
  const unknown = categories.filter((c) => !(CATEGORIES as readonly string[]).includes(c));
  if (unknown.length > 0 || categories.length === 0) {
    throw new UsageError(`--categories must list some of ${CATEGORIES.join(',')}; unknown: ${unknown.join(',') || '(none given)'}`);
  }
  return [...new Set(categories)] as Category[];
}

export async function enrol(config: VigilConfig, args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args, strict: true,
    options: {
      subject: { type: 'string' }, order: { type: 'string' }, categories: { type: 'string' },
      from: { type: 'string' }, until: { type: 'string' },
    },
  });
  const categories = parseCategories(need(values, 'categories'));
  const from = parseOrderDate(need(values, 'from'), '--from', false);
  const until = parseOrderDate(need(values, 'until'), '--until', true);
  if (until <= from) throw new UsageError('--until must be after --from');
  // A device enrolled under an order already over could send nothing: its token would be refused at once.
  if (until <= Date.now()) throw new UsageError(`--until ${new Date(until).toISOString()} has passed: the order is over, and its device could send nothing`);
  const subjectId = idFlag(need(values, 'subject'), 'subject');
  const orderRef = idFlag(need(values, 'order'), 'order');
  const db = openDataFolder(config.dataDir);
  try {
    const { deviceId, token } = await new RegistryStore(db).enrol({ subjectId, orderRef, categories, from, until });
    await auditCli(db, 'device.enrol', `device:${deviceId}`, { subjectId, orderRef, categories, from, until });
    io.out(JSON.stringify({ deviceId, token }));
    io.err('The token is shown only this once: give it to the device now.');
    return 0;
  } finally {
    await db.root.close();
  }
}

const ORDERS_USAGE = 'usage: vigil orders vary --order REF [--categories LIST] [--from DATE] [--until DATE | --end-now]';

/** An order as the command line prints it: its times as ISO 8601, as they are typed (ms since the epoch are stored). */
function printedOrder(o: OrderRecord): Record<string, unknown> {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return { ...o, from: iso(o.from), until: iso(o.until), createdAt: iso(o.createdAt), ...(o.variedAt === undefined ? {} : { variedAt: iso(o.variedAt) }) };
}

/**
 * `vigil orders vary`: a court varied an order. Its new terms apply to every device on it, and a running server
 * narrows or widens the live connections' scope within seconds. Audited with the terms before and after. An
 * `--until` already past is refused, as `enrol` refuses it: it would cut every device on the order off at once, and a
 * mistyped year should not do that. A court that ends an order early is followed with `--end-now`.
 */
export async function orders(config: VigilConfig, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args, strict: true, allowPositionals: true,
    options: {
      order: { type: 'string' }, categories: { type: 'string' }, from: { type: 'string' }, until: { type: 'string' },
      'end-now': { type: 'boolean' },
    },
  });
  if (positionals[0] !== 'vary' || positionals.length !== 1) throw new UsageError(ORDERS_USAGE);
  const ref = need(values, 'order');
  const change: OrderVariation = {};
  if (values.categories !== undefined) change.categories = parseCategories(values.categories);
  if (values.from !== undefined) change.from = parseOrderDate(values.from, '--from', false);
  if (values.until !== undefined && values['end-now'] === true) throw new UsageError(`give --until DATE or --end-now, not both; ${ORDERS_USAGE}`);
  if (values.until !== undefined) {
    const until = parseOrderDate(values.until, '--until', true);
    if (until <= Date.now()) {
      throw new UsageError(`--until ${new Date(until).toISOString()} has passed: every device on the order would be cut off at once; `
        + 'to end the order now, give --end-now instead');
    }
    change.until = until;
  }
  if (values['end-now'] === true) change.until = Date.now();
  if (Object.keys(change).length === 0) throw new UsageError(`give at least one of --categories, --from, --until, --end-now; ${ORDERS_USAGE}`);
  const db = openDataFolder(config.dataDir);
  try {
    const varied = await new RegistryStore(db).varyOrder(ref, change);
    if (!varied) { io.err(`vigil: no order ${ref}`); return 1 }
    const terms = (o: OrderRecord) => ({ categories: o.categories, from: o.from, until: o.until });
    await auditCli(db, 'order.vary', `order:${ref}`, {
      subjectId: varied.after.subjectId, before: terms(varied.before), after: terms(varied.after), endedNow: values['end-now'] === true,
    });
    io.out(JSON.stringify(printedOrder(varied.after)));
    return 0;
  } finally {
    await db.root.close();
  }
}

const TOKENS_USAGE = 'usage: vigil tokens create --role consumer  |  vigil tokens list  |  vigil tokens revoke --consumer ID|TOKEN';

/**
 * `vigil tokens create|list|revoke`: feed consumers. `create` prints the token once, with its consumer id (the
 * `con-…` part of `vc1.con-….secret`), which is what `list` shows and `revoke` takes; no secret is ever listed.
 */
export async function tokens(config: VigilConfig, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args, strict: true, allowPositionals: true, options: { role: { type: 'string' }, consumer: { type: 'string' } },
  });
  const sub = positionals[0];
  if (positionals.length !== 1 || (sub !== 'create' && sub !== 'list' && sub !== 'revoke')) throw new UsageError(TOKENS_USAGE);
  if (sub === 'create' && values.role !== 'consumer') throw new UsageError('--role must be consumer (operator roles come with operator accounts)');
  if (sub !== 'create' && values.role !== undefined) throw new UsageError(`--role is for tokens create; ${TOKENS_USAGE}`);
  if (sub !== 'revoke' && values.consumer !== undefined) throw new UsageError(`--consumer is for tokens revoke; ${TOKENS_USAGE}`);
  const consumerId = sub === 'revoke' ? idArgument(need(values, 'consumer'), 'consumer') : '';
  const db = openDataFolder(config.dataDir);
  try {
    const registry = new RegistryStore(db);
    if (sub === 'list') {
      for (const c of registry.listConsumers()) io.out(JSON.stringify(c));
      return 0;
    }
    if (sub === 'revoke') {
      const asked = Date.now();
      const revoked = await registry.revokeConsumer(consumerId, asked);
      if (!revoked) { io.err(`vigil: no consumer ${consumerId} (see vigil tokens list)`); return 1 }
      // Every request is audited, a repeat marked as one: a revoke whose audit entry was lost (the process died
      // between the two writes) gets one when it is run again.
      const already = revoked.revokedAt !== asked;
      await auditCli(db, 'consumer.revoke', `consumer:${consumerId}`, { revokedAt: revoked.revokedAt ?? null, alreadyRevoked: already });
      if (already) io.err(`consumer ${consumerId} was already revoked`);
      io.out(JSON.stringify({ consumerId, revoked: true, revokedAt: revoked.revokedAt }));
      return 0;
    }
    const created = await registry.createConsumer();
    await auditCli(db, 'consumer.create', `consumer:${created.consumerId}`, { role: 'consumer' });
    io.out(JSON.stringify({ token: created.token, consumerId: created.consumerId }));
    return 0;
  } finally {
    await db.root.close();
  }
}

const DEVICES_USAGE = 'usage: vigil devices list [--subject ID] [--active]  |  vigil devices revoke --device ID|TOKEN';

/**
 * `vigil devices list|revoke`. `list` prints a JSON line per device (id, subject, order, created, revoked, active: not
 * revoked and its order not ended), without any token or hash; it reads whom the service monitors, so it is audited.
 */
export async function devices(config: VigilConfig, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args, strict: true, allowPositionals: true,
    options: { device: { type: 'string' }, subject: { type: 'string' }, active: { type: 'boolean' } },
  });
  const sub = positionals[0];
  if (positionals.length !== 1 || (sub !== 'list' && sub !== 'revoke')) throw new UsageError(DEVICES_USAGE);
  onlyOptions(values, sub === 'list' ? ['subject', 'active'] : ['device'], `devices ${sub}`, DEVICES_USAGE);
  const deviceId = sub === 'revoke' ? idArgument(need(values, 'device'), 'device') : '';
  if (values.subject !== undefined) idFlag(values.subject, 'subject');
  const db = openDataFolder(config.dataDir);
  try {
    const registry = new RegistryStore(db);
    if (sub === 'list') {
      const now = Date.now();
      let count = 0;
      for (const device of registry.devices()) {
        if (values.subject !== undefined && device.subjectId !== values.subject) continue;
        const scope = registry.deviceScope(device.deviceId);
        const active = scope !== null && isActive(scope, now);
        if (values.active === true && !active) continue;
        const { deviceId: id, subjectId, orderRef, createdAt, revokedAt } = device;
        io.out(JSON.stringify({ deviceId: id, subjectId, orderRef, createdAt, ...(revokedAt === undefined ? {} : { revokedAt }), active }));
        count++;
      }
      await auditCli(db, 'device.list', 'devices', { subjectId: values.subject ?? null, activeOnly: values.active === true, count });
      return 0;
    }
    const ok = await registry.revokeDevice(deviceId);
    if (!ok) { io.err(`vigil: no device ${deviceId} (see vigil devices list)`); return 1 }
    await auditCli(db, 'device.revoke', `device:${deviceId}`);
    io.out(JSON.stringify({ deviceId, revoked: true }));
    return 0;
  } finally {
    await db.root.close();
  }
}
