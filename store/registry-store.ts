/**
 * Subjects, their orders (the lawful scope), their devices, and feed consumers. Tokens are shown
 * once at creation and stored only as SHA-256 hashes of their secret part; a token names its owner
 * (`vd1.<deviceId>.<secret>`), so checking one is a key lookup followed by a constant-time compare.
 */
import { randomBytes } from 'node:crypto';
import type { Category } from '../core/events.js';
import { asDeviceId, asOrderRef, asSubjectId, type DeviceId, type OrderRef, type SubjectId } from '../core/ids.js';
import { VigilError } from '../core/errors.js';
import { secretMatches, splitToken, tokenHash } from './bearer-token.js';
import type { Databases } from './database.js';

export interface SubjectRecord { subjectId: SubjectId; createdAt: number }
export interface OrderRecord {
  ref: OrderRef;
  subjectId: SubjectId;
  categories: Category[];
  /** Order start and end, ms since the epoch (end inclusive). */
  from: number;
  until: number;
  createdAt: number;
  /** When the terms were last changed by `varyOrder` (absent: as enrolled). */
  variedAt?: number;
}
export interface DeviceRecord {
  deviceId: DeviceId;
  subjectId: SubjectId;
  orderRef: OrderRef;
  tokenHash: string;
  createdAt: number;
  revokedAt?: number;
}
export interface ConsumerRecord { consumerId: string; tokenHash: string; createdAt: number; revokedAt?: number }

/** What ingest needs to know about an authenticated device. */
export interface DeviceScope { device: DeviceRecord; order: OrderRecord }

export interface EnrolRequest {
  subjectId: string;
  orderRef: string;
  categories: Category[];
  from: number;
  until: number;
}

/** New terms for an order; what is absent stays. */
export interface OrderVariation { categories?: Category[]; from?: number; until?: number }

/** Same categories (as a set), start and end. */
function sameTerms(order: OrderRecord, req: EnrolRequest): boolean {
  const a = new Set(order.categories);
  const b = new Set(req.categories);
  return order.from === req.from && order.until === req.until && a.size === b.size && [...a].every((c) => b.has(c));
}

const iso = (ms: number): string => new Date(ms).toISOString();
/** As it would be typed on the command line: a whole UTC day as `YYYY-MM-DD` (an end date includes its day). */
const asTyped = (ms: number, end: boolean): string => {
  const s = iso(ms);
  return s.endsWith(end ? 'T23:59:59.999Z' : 'T00:00:00.000Z') ? s.slice(0, 10) : s;
};
const describeTerms = (t: { categories: readonly string[]; from: number; until: number }): string =>
  `categories ${[...new Set(t.categories)].sort().join(',')} from ${asTyped(t.from, false)} until ${asTyped(t.until, true)}`;

/**
 * In `meta`: a number bumped in every transaction that writes a device or an order, so that a server holding
 * live connections re-reads their scopes only after something changed (another process may have changed it).
 */
const GENERATION_KEY = 'registryGeneration';

/**
 * In `meta`: bumped when a consumer is revoked, so the feed re-checks its open sockets only then. Kept apart from
 * the registry generation so that revoking a consumer does not make ingest re-read every device's scope.
 */
const CONSUMER_GENERATION_KEY = 'consumerGeneration';

const DEVICE_PREFIX = 'vd1';
const CONSUMER_PREFIX = 'vc1';

/** Whose a token is, by its prefix and id (`vd1.<deviceId>.…`: a device's; `vc1.<consumerId>.…`: a consumer's), unchecked. */
export function tokenOwner(token: string): { kind: 'device' | 'consumer'; id: string } | null {
  const device = splitToken(token, DEVICE_PREFIX);
  if (device) return { kind: 'device', id: device.id };
  const consumer = splitToken(token, CONSUMER_PREFIX);
  return consumer && { kind: 'consumer', id: consumer.id };
}

const newSecret = (): string => randomBytes(32).toString('base64url');
const newId = (prefix: string): string => `${prefix}-${randomBytes(8).toString('hex')}`;


export class RegistryStore {
  readonly #db: Databases;

  constructor(db: Databases) {
    this.#db = db;
  }

  /**
   * Creates (or reuses) the subject and the order, and a new device under them.
   * An order reference already used for another subject, or with other terms, is refused: the terms are the
   * court's, shared by every device on the order, so a typo while enrolling one more device must not change what
   * may be processed from the others. Terms change only through `varyOrder`.
   */
  async enrol(req: EnrolRequest, now = Date.now()): Promise<{ deviceId: DeviceId; token: string }> {
    const subjectId = asSubjectId(req.subjectId);
    const orderRef = asOrderRef(req.orderRef);
    const deviceId = asDeviceId(newId('dev'));
    const secret = newSecret();
    await this.#db.root.transaction(() => {
      const existing = this.#db.orders.get(orderRef) as OrderRecord | undefined;
      if (existing && existing.subjectId !== subjectId) {
        throw new VigilError('USAGE', `order ${orderRef} belongs to subject ${existing.subjectId}, not ${subjectId}`);
      }
      if (existing && !sameTerms(existing, req)) {
        throw new VigilError('USAGE', `order ${orderRef} is stored with ${describeTerms(existing)}, not ${describeTerms(req)}; `
          + `enrol under it with those terms, or change them for every device on it with `
          + `vigil orders vary --order ${orderRef} [--categories ...] [--from DATE] [--until DATE]`);
      }
      if (!this.#db.subjects.get(subjectId)) {
        this.#db.subjects.put(subjectId, { subjectId, createdAt: now } satisfies SubjectRecord);
      }
      if (!existing) {
        const order: OrderRecord = {
          ref: orderRef, subjectId, categories: [...new Set(req.categories)], from: req.from, until: req.until, createdAt: now,
        };
        this.#db.orders.put(orderRef, order);
      }
      const device: DeviceRecord = {
        deviceId, subjectId, orderRef, tokenHash: tokenHash(secret), createdAt: now,
      };
      this.#db.devices.put(deviceId, device);
      this.#bump();
    });
    return { deviceId, token: `${DEVICE_PREFIX}.${deviceId}.${secret}` };
  }

  /**
   * Changes an order's terms (a court varied the order) for every device on it; terms not given stay. Live
   * connections take the new scope within seconds (the generation moves). Gives the terms before and after, or
   * null for an unknown order. A variation that would leave the order ending before it starts is refused.
   */
  async varyOrder(ref: string, change: OrderVariation, now = Date.now()): Promise<{ before: OrderRecord; after: OrderRecord } | null> {
    return this.#db.root.transaction(() => {
      const before = this.#db.orders.get(ref) as OrderRecord | undefined;
      if (!before) return null;
      const after: OrderRecord = {
        ...before,
        categories: change.categories ? [...new Set(change.categories)] : before.categories,
        from: change.from ?? before.from,
        until: change.until ?? before.until,
        variedAt: now,
      };
      if (after.until <= after.from) {
        throw new VigilError('USAGE', `order ${ref} would end (${iso(after.until)}) before it starts (${iso(after.from)})`);
      }
      this.#db.orders.put(ref, after);
      this.#bump();
      return { before, after };
    });
  }

  /**
   * Moves whenever a device or an order is written, by this process or another: while it stands still, scopes
   * read earlier are still what is stored (only the clock can end an order meanwhile).
   */
  generation(): number {
    return (this.#db.meta.get(GENERATION_KEY) as number | undefined) ?? 0;
  }

  /** Inside the transaction that writes a device or an order. */
  #bump(): void {
    this.#db.meta.put(GENERATION_KEY, this.generation() + 1);
  }

  /** Creates a feed consumer; the token is returned once and never stored. */
  async createConsumer(now = Date.now()): Promise<{ consumerId: string; token: string }> {
    const consumerId = newId('con');
    const secret = newSecret();
    await this.#db.consumers.put(consumerId, { consumerId, tokenHash: tokenHash(secret), createdAt: now });
    return { consumerId, token: `${CONSUMER_PREFIX}.${consumerId}.${secret}` };
  }

  /** Moves whenever a consumer is revoked, by this process or another. */
  consumerGeneration(): number {
    return (this.#db.meta.get(CONSUMER_GENERATION_KEY) as number | undefined) ?? 0;
  }

  /**
   * Revokes a feed consumer: its token stops working at once, and open feed sockets close within seconds.
   * Gives the record (revoked earlier: unchanged, with its first revocation time), or null for an unknown consumer.
   */
  async revokeConsumer(consumerId: string, now = Date.now()): Promise<ConsumerRecord | null> {
    return this.#db.root.transaction(() => {
      const c = this.#db.consumers.get(consumerId) as ConsumerRecord | undefined;
      if (!c) return null;
      if (c.revokedAt !== undefined) return c;
      const revoked: ConsumerRecord = { ...c, revokedAt: now };
      this.#db.consumers.put(consumerId, revoked);
      this.#db.meta.put(CONSUMER_GENERATION_KEY, this.consumerGeneration() + 1);
      return revoked;
    });
  }

  /** Every feed consumer, without its token hash. */
  listConsumers(): Omit<ConsumerRecord, 'tokenHash'>[] {
    return [...this.#db.consumers.getRange({})].map(({ value }) => {
      const { tokenHash: _hash, ...rest } = value as ConsumerRecord;
      return rest;
    });
  }

  /** Whether a consumer exists and is not revoked, as stored now (re-checked for open feed sockets). */
  consumerActive(consumerId: string): boolean {
    const c = this.#db.consumers.get(consumerId) as ConsumerRecord | undefined;
    return c !== undefined && c.revokedAt === undefined;
  }

  /** Revokes a device: its token stops working at once, and live connections close within seconds. */
  async revokeDevice(deviceId: string, now = Date.now()): Promise<boolean> {
    return this.#db.root.transaction(() => {
      const d = this.#db.devices.get(deviceId) as DeviceRecord | undefined;
      if (!d) return false;
      this.#db.devices.put(deviceId, { ...d, revokedAt: now });
      this.#bump();
      return true;
    });
  }

  /**
   * Checks a device token. Unknown, malformed, revoked and expired (order ended) tokens all give
   * null: the caller answers 401 without saying which, so tokens cannot be probed.
   */
  authenticateDevice(token: string, now = Date.now()): DeviceScope | null {
    const parts = splitToken(token, DEVICE_PREFIX);
    if (!parts) return null;
    const device = this.#fresh(() => this.#db.devices.get(parts.id) as DeviceRecord | undefined);
    if (!device || !secretMatches(parts.secret, device.tokenHash)) return null;
    const scope = this.deviceScope(device.deviceId);
    if (!scope || !isActive(scope, now)) return null;
    return scope;
  }

  /**
   * Enrolled devices, revoked ones included, in id order from this process's current read snapshot: all of them, or
   * at most `limit` after the id `after`, so that a caller on a busy thread can read them a slice at a time.
   */
  *devices(after?: DeviceId, limit?: number): Iterable<DeviceRecord> {
    const range = this.#db.devices.getRange(after === undefined ? {} : { start: after, exclusiveStart: true } as { start: string });
    let n = 0;
    for (const { value } of range) {
      if (limit !== undefined && n++ >= limit) return;
      yield value as DeviceRecord;
    }
  }

  /** The device with its order as stored now (re-read periodically by live connections). */
  deviceScope(deviceId: DeviceId): DeviceScope | null {
    const device = this.#db.devices.get(deviceId) as DeviceRecord | undefined;
    if (!device) return null;
    const order = this.#db.orders.get(device.orderRef) as OrderRecord | undefined;
    if (!order) return null;
    return { device, order };
  }

  /**
   * Reads, and on a miss reads again from the newest snapshot: a record written a moment ago by
   * another process (`vigil enrol`) may not be in this process's current read transaction yet.
   */
  #fresh<T>(read: () => T | undefined): T | undefined {
    const first = read();
    if (first !== undefined) return first;
    this.#db.root.resetReadTxn();
    return read();
  }

  authenticateConsumer(token: string): ConsumerRecord | null {
    const parts = splitToken(token, CONSUMER_PREFIX);
    if (!parts) return null;
    const consumer = this.#fresh(() => this.#db.consumers.get(parts.id) as ConsumerRecord | undefined);
    if (!consumer || consumer.revokedAt !== undefined || !secretMatches(parts.secret, consumer.tokenHash)) return null;
    return consumer;
  }
}

/** A device may connect while it is not revoked and its order has not ended. */
export function isActive(scope: DeviceScope, now: number): boolean {
  return scope.device.revokedAt === undefined && now <= scope.order.until;
}
