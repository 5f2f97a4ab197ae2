/**
 * Retention: data is not kept longer than needed. A background sweep deletes, per kind of data:
 * - alerts older than `alertDays` (`dismissedAlertDays` for false positives), with their notices;
 * - evidence older than `evidenceDays` (the alert stays, marked `evidenceDeleted`);
 * - journal entries still unmatched `journalMaxAgeHours` after the sweep first saw them.
 * An alert that is held, or in review, is kept (with its evidence) until it is released or decided.
 *
 * Journal entries normally leave the journal the moment their event is matched. One that stays is
 * stuck: matching failed for it repeatedly. It is not silently lost: when it expires the sweep
 * deletes it, raises a `heartbeat` alert (rule `journal-expired`) for the device's subject, if the
 * order authorises that category, naming how many events went unprocessed, logs a warning and writes
 * a receipt to the audit log. Every sweep writes an audit entry too. Periods come from the config,
 * overridden by what an admin sets (`updateSettings`, audited).
 */
import { createHash } from 'node:crypto';
import type { Alert, NewAlert } from '../core/alerts.js';
import type { RetentionConfig } from '../core/config.js';
import type { StoredEvent } from '../core/events.js';
import { asAlertId, type DeviceId } from '../core/ids.js';
import type { AlertStore } from './alert-store.js';
import type { AuditLog } from './audit-log.js';
import type { Databases } from './database.js';
import { decodeRecord } from './journal-codec.js';
import type { OperatorStore } from './operator-store.js';
import { done, fail, type Outcome } from './outcome.js';
import { isActive, type RegistryStore } from './registry-store.js';

export type RetentionSettings = Omit<RetentionConfig, 'sweepMinutes'>;
export const RETENTION_KEYS: readonly (keyof RetentionSettings)[] = ['journalMaxAgeHours', 'alertDays', 'dismissedAlertDays', 'evidenceDays'];
const LIMITS: Readonly<Record<keyof RetentionSettings, [number, number]>> = {
  journalMaxAgeHours: [1, 24 * 365], alertDays: [1, 36_500], dismissedAlertDays: [1, 36_500], evidenceDays: [1, 36_500],
};

export interface SweepReport {
  at: number;
  settings: RetentionSettings;
  alertsDeleted: number;
  evidenceDeleted: number;
  noticesDeleted: number;
  keptHeld: number;
  keptInReview: number;
  journalExpired: number;
  sessionsPruned: number;
  scrubbed: { copies: number; bytes: number };
  auditSeq: number;
}

interface SweepLog { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }

export interface RetentionSweeperOptions {
  db: Databases;
  alerts: AlertStore;
  audit: AuditLog;
  registry: RegistryStore;
  operators?: OperatorStore;
  defaults: RetentionConfig;
  log: SweepLog;
  /** Told when the sweep stored alerts (to wake feed subscribers). */
  onAlerts?: (stored: Alert[]) => void;
  /** Told which journal pages the sweep deleted: the journal keeps each live page's size and devices. */
  journal?: { released(keys: readonly number[]): void };
}

const SETTINGS_KEY = 'retentionSettings';
const ACTOR = 'system:retention';
const BATCH = 500;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export class RetentionSweeper {
  readonly #o: RetentionSweeperOptions;
  /** Journal key -> when a sweep first saw it still unmatched. */
  readonly #firstSeen = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SweepReport> | undefined;

  constructor(options: RetentionSweeperOptions) {
    this.#o = options;
  }

  /** The periods in force: the config's, overridden by an admin's settings. */
  settings(): RetentionSettings {
    const { sweepMinutes: _, ...defaults } = this.#o.defaults;
    const stored = this.#o.db.meta.get(SETTINGS_KEY) as Partial<RetentionSettings> | undefined;
    return { ...defaults, ...stored };
  }

  async updateSettings(change: Readonly<Record<string, unknown>>, actor: string, now = Date.now()): Promise<Outcome<RetentionSettings>> {
    for (const [key, value] of Object.entries(change)) {
      // Own keys only: `toString` or `__proto__` would otherwise find a "limit" on Object.prototype.
      const limits = Object.hasOwn(LIMITS, key) ? LIMITS[key as keyof RetentionSettings] : undefined;
      if (!limits) return fail('INVALID', `unknown retention setting ${key}; known: ${RETENTION_KEYS.join(', ')}`);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < limits[0] || value > limits[1]) {
        return fail('INVALID', `${key} must be an integer ${limits[0]}..${limits[1]}`);
      }
    }
    return this.#o.db.root.childTransaction(() => {
      const before = this.settings();
      const stored = (this.#o.db.meta.get(SETTINGS_KEY) as Partial<RetentionSettings> | undefined) ?? {};
      const next = { ...stored, ...change } as Partial<RetentionSettings>;
      this.#o.db.meta.put(SETTINGS_KEY, next);
      const after = { ...before, ...next };
      this.#o.audit.appendInTxn({ actor, action: 'retention.settings', target: 'retention', details: { before: { ...before }, after: { ...after } } }, now);
      return done(after);
    });
  }

  start(sweepMinutes: number): void {
    this.#timer = setInterval(() => { void this.sweep().catch((err: unknown) => this.#o.log.warn({ err }, 'retention sweep failed')) },
      sweepMinutes * 60_000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** Runs one sweep now (one at a time: a sweep asked for while one runs waits for it). */
  async sweep(now = Date.now()): Promise<SweepReport> {
    while (this.#running) await this.#running.catch(() => undefined);
    this.#running = this.#sweep(now);
    try { return await this.#running } finally { this.#running = undefined }
  }

  async #sweep(now: number): Promise<SweepReport> {
    const settings = this.settings();
    const journal = await this.#expireJournal(now, settings.journalMaxAgeHours * HOUR);
    const cutoffs = {
      alert: now - settings.alertDays * DAY,
      dismissedAlert: now - settings.dismissedAlertDays * DAY,
      evidence: now - settings.evidenceDays * DAY,
    };
    const report: SweepReport = {
      at: now, settings, alertsDeleted: 0, evidenceDeleted: 0, noticesDeleted: 0, keptHeld: 0, keptInReview: 0,
      journalExpired: journal.expired, sessionsPruned: 0, scrubbed: { copies: 0, bytes: 0 }, auditSeq: 0,
    };
    const secrets: Uint8Array[] = [...journal.secrets];
    let after = 0;
    for (;;) {
      const batch = await this.#o.alerts.expireBatch(after, cutoffs, ACTOR, BATCH, now);
      report.alertsDeleted += batch.alertIds.length;
      report.evidenceDeleted += batch.evidenceIds.length;
      report.noticesDeleted += batch.notices;
      report.keptHeld += batch.keptHeld;
      report.keptInReview += batch.keptInReview;
      secrets.push(...batch.secrets);
      if (batch.next === null) break;
      after = batch.next;
      await new Promise((r) => setImmediate(r));
    }
    report.scrubbed = await this.#o.alerts.scrub(secrets, ACTOR, 'retention', now);
    report.sessionsPruned = (await this.#o.operators?.pruneSessions(now)) ?? 0;
    const { at: _, auditSeq: __, settings: ___, ...counts } = report;
    const entry = await this.#o.audit.append({
      actor: ACTOR, action: 'retention.sweep', target: 'retention',
      details: { ...counts, scrubbed: { ...report.scrubbed }, settings: { ...settings } },
    }, now);
    report.auditSeq = entry.seq;
    if (report.alertsDeleted + report.evidenceDeleted + report.journalExpired > 0) {
      this.#o.log.info({ ...counts }, 'retention sweep deleted expired data');
    }
    return report;
  }

  /**
   * Deletes journal pages stuck past the limit (a page holds one group commit's events, store/journal.ts): with
   * an alert per device, a warning and a receipt.
   */
  async #expireJournal(now: number, maxAgeMs: number): Promise<{ expired: number; secrets: Uint8Array[] }> {
    const { db } = this.#o;
    const present = new Set<number>();
    const due: number[] = [];
    db.root.resetReadTxn();
    for (const key of db.journal.getKeys({})) {
      present.add(key);
      const seen = this.#firstSeen.get(key);
      if (seen === undefined) { this.#firstSeen.set(key, now); continue }
      if (now - seen >= maxAgeMs) due.push(key);
    }
    for (const key of this.#firstSeen.keys()) if (!present.has(key)) this.#firstSeen.delete(key);
    if (due.length === 0) return { expired: 0, secrets: [] };

    // Inside the transaction, so that a page the pipeline matched a moment ago is not counted.
    const deleted: number[] = [];
    /** Pages that cannot be decoded (store/journal.ts, `unreadable`): deleted too, whole, with a receipt of their own. */
    const unreadable: { key: number; bytes: number }[] = [];
    const byDevice = await db.root.childTransaction(() => {
      const found = new Map<DeviceId, StoredEvent[]>();
      for (const key of due) {
        const value = db.journal.get(key);
        if (value === undefined) continue;
        deleted.push(key);
        let entries: ReturnType<typeof decodeRecord> = [];
        try {
          entries = decodeRecord(value);
        } catch {
          unreadable.push({ key, bytes: value.byteLength });
          this.#o.audit.appendInTxn({
            actor: ACTOR, action: 'retention.journal_unreadable', target: `journal-page:${key}`,
            details: { bytes: value.byteLength, maxAgeHours: Math.round(maxAgeMs / HOUR) },
          }, now);
        }
        for (const { deviceId, event } of entries) {
          const list = found.get(deviceId);
          if (list) list.push(event);
          else found.set(deviceId, [event]);
        }
        db.journal.remove(key);
      }
      for (const [deviceId, events] of found) {
        // The device's highest seq must outlive its entries (store/journal.ts), so that a resend is not taken as new.
        let highest = db.deviceSeq.get(deviceId) ?? 0;
        for (const e of events) highest = Math.max(highest, e.seq);
        db.deviceSeq.put(deviceId, highest);
        this.#o.audit.appendInTxn({
          actor: ACTOR, action: 'retention.journal_expired', target: `device:${deviceId}`,
          details: { events: events.length, firstSeq: events[0]!.seq, lastSeq: events[events.length - 1]!.seq,
            maxAgeHours: Math.round(maxAgeMs / HOUR) },
        }, now);
      }
      return found;
    });
    this.#o.journal?.released(deleted);
    for (const key of due) this.#firstSeen.delete(key);

    // Only ciphertext is scrubbed (store/disk-scrubber.ts): a sealed image in a page that cannot be read cannot be
    // found in it, and the page's own bytes are not unique enough to zero wherever they occur. What is left of it is in
    // freed pages until LMDB reuses them, as for any deleted record, and the warning says so.
    const secrets: Uint8Array[] = [];
    for (const { key, bytes } of unreadable) {
      this.#o.log.warn({ page: key, bytes },
        'a journal page that could not be read was deleted unprocessed: which devices it held is not known, and any '
        + 'sealed image in it could not be scrubbed from free pages');
    }
    let expired = 0;
    const raise: NewAlert[] = [];
    for (const [deviceId, events] of byDevice) {
      const first = events[0]!;
      const last = events[events.length - 1]!;
      for (const event of events) if (event.type === 'image' && event.evidence) secrets.push(event.evidence.ciphertext);
      expired += events.length;
      this.#o.log.warn({ deviceId, events: events.length, firstSeq: first.seq, lastSeq: last.seq },
        'journal entries were not matched in time and were deleted unprocessed');
      const scope = this.#o.registry.deviceScope(deviceId);
      if (scope && isActive(scope, now) && scope.order.categories.includes('heartbeat')) {
        const matchKey = `rule\u0000journal-expired\u0000${last.seq}`;
        raise.push({
          id: asAlertId(`al-${createHash('sha256').update(`${deviceId}\u0000${first.seq}\u0000${matchKey}`).digest('hex').slice(0, 32)}`),
          category: 'heartbeat', subjectId: scope.device.subjectId, deviceId, eventSeq: first.seq, eventAt: first.at,
          raisedAt: now, severity: 'medium', state: 'new',
          match: { kind: 'rule', rule: 'journal-expired', signal: 'unprocessed_events',
            detail: `${events.length} events (seq ${first.seq}..${last.seq}) could not be matched and were deleted unprocessed` },
        });
      }
    }
    if (raise.length > 0) {
      const stored = await this.#o.alerts.commit(raise, []);
      if (stored.length > 0) this.#o.onAlerts?.(stored);
    }
    return { expired, secrets };
  }
}
