/**
 * Alerts with their feed sequence. `commit` stores the alerts of a batch of matched events and
 * removes those events from the journal in one transaction. An alert's id is derived from the event
 * and what matched, and an id already stored is skipped, so replaying a batch never raises an
 * alert twice.
 */
import type { Alert, NewAlert } from '../core/alerts.js';
import type { DeviceId } from '../core/ids.js';
import type { SealedEvidence } from '../core/events.js';

/** Evidence to keep with the alerts of one event. */
export interface EvidenceRecord { id: string; deviceId: DeviceId; eventSeq: number; sealed: SealedEvidence }
import type { Databases } from './database.js';

export class AlertStore {
  readonly #db: Databases;
  #lastSeq: number;

  constructor(db: Databases) {
    this.#db = db;
    let last = 0;
    for (const key of db.alerts.getKeys({ reverse: true, limit: 1 })) last = key as number;
    this.#lastSeq = last;
  }

  /** Highest feed sequence stored. */
  get lastSeq(): number { return this.#lastSeq }

  /**
   * Stores new alerts and forgets the journal entries they came from, atomically.
   * Returns the alerts actually stored (duplicates of stored ones are left out), with their sequence.
   */
  async commit(alerts: readonly NewAlert[], processed: readonly [DeviceId, number][],
    evidence: readonly EvidenceRecord[] = []): Promise<Alert[]> {
    const stored: Alert[] = [];
    const { root, alerts: alertDb, alertIds, journal } = this.#db;
    await root.transaction(() => {
      for (const e of evidence) {
        if (this.#db.evidence.get(e.id) === undefined) this.#db.evidence.put(e.id, e);
      }
      for (const a of alerts) {
        if (alertIds.get(a.id) !== undefined) continue;
        const seq = ++this.#lastSeq;
        const alert: Alert = { ...a, seq };
        alertDb.put(seq, alert);
        alertIds.put(a.id, seq);
        stored.push(alert);
      }
      for (const key of processed) journal.remove(key);
    });
    return stored;
  }

  /** Alerts with feed sequence greater than `after`, in feed order, at most `limit`. */
  readAfter(after: number, limit: number): Alert[] {
    const out: Alert[] = [];
    for (const { value } of this.#db.alerts.getRange({ start: after + 1, limit })) out.push(value as Alert);
    return out;
  }

  get(seq: number): Alert | undefined {
    return this.#db.alerts.get(seq) as Alert | undefined;
  }

  evidence(id: string): EvidenceRecord | undefined {
    return this.#db.evidence.get(id) as EvidenceRecord | undefined;
  }

  byId(id: string): Alert | undefined {
    const seq = this.#db.alertIds.get(id);
    return seq === undefined ? undefined : this.get(seq);
  }
}
