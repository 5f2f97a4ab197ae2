/**
 * Alerts with their feed sequence. `commit` stores the alerts of a batch of matched events and
 * removes those events from the journal in one transaction (an LMDB batch). An alert's id is derived from the event
 * and what matched, and an id already stored is skipped, so replaying a batch never raises an
 * alert twice.
 *
 * The feed (the `alerts` database, by feed sequence) also holds notices about alerts: a review
 * change or a deletion is appended with a sequence of its own, after the alert, so consumers see
 * decisions in feed order. Review, hold and deletion write their audit entry in the same
 * transaction as the change; deleted evidence is then scrubbed from the data file (disk-scrubber.ts).
 */
import {
  REVIEW_TRANSITIONS, isDecision, withoutContent,
  type Alert, type AlertNotice, type NewAlert, type ReviewState,
} from '../core/alerts.js';
import type { DeviceId } from '../core/ids.js';
import type { SealedEvidence } from '../core/events.js';
import { AuditLog, type AuditEntry } from './audit-log.js';
import type { Databases } from './database.js';
import { queryAlerts, type AlertPage, type AlertQuery } from './alert-query.js';
import { done, fail, type Outcome } from './outcome.js';
import { scrubDeleted, type ScrubResult } from './disk-scrubber.js';

/** Evidence to keep with the alerts of one event. */
export interface EvidenceRecord { id: string; deviceId: DeviceId; eventSeq: number; sealed: SealedEvidence }

/** What a change to an alert produced: the alert after it, the notice published, the audit entry. */
export interface AlertChange { alert: Alert; notices: Alert[]; audit: AuditEntry }

/** What a deletion produced, including how many bytes of evidence were scrubbed from the data file. */
export interface DeletionReceipt extends AlertChange { scrubbed: ScrubResult }

/** Alert retention periods as cut-off times (ms since the epoch): older than these goes. */
export interface RetentionCutoffs { alert: number; dismissedAlert: number; evidence: number }

export interface ExpiryBatch {
  alertIds: string[];
  evidenceIds: string[];
  notices: number;
  keptHeld: number;
  keptInReview: number;
  /** The feed sequence to continue from, or null when the sweep reached data younger than every cut-off. */
  next: number | null;
  audit: AuditEntry | undefined;
}

const HIGH_WATER_KEY = 'feedHighWater';
/** Longest id kept in a key (LMDB's keys are at most 1,978 bytes here, and some hold an id and a number). */
const MAX_ID_BYTES = 1024;
const INDEX_VERSION_KEY = 'alertIndexes';

function checkKeyPart(id: string): void {
  const bytes = Buffer.byteLength(id);
  if (bytes > MAX_ID_BYTES) throw new RangeError(`an id of ${bytes} bytes cannot be stored (limit ${MAX_ID_BYTES})`);
}

export class AlertStore {
  readonly #db: Databases;
  readonly #audit: AuditLog;
  #lastSeq: number;
  #committedSeq: number;
  /** Alert and evidence ids written by a `commit` whose batch is not yet committed. */
  readonly #pending = new Set<string>();

  constructor(db: Databases, audit: AuditLog = new AuditLog(db)) {
    this.#db = db;
    this.#audit = audit;
    let last = 0;
    for (const key of db.alerts.getKeys({ reverse: true, limit: 1 })) last = key as number;
    // Deleting the newest entries must never let their sequence numbers be handed out again.
    this.#lastSeq = Math.max(last, (db.meta.get(HIGH_WATER_KEY) as number | undefined) ?? 0);
    this.#committedSeq = this.#lastSeq;
    if (db.meta.get(INDEX_VERSION_KEY) !== 1) this.#buildIndexes();
  }

  /** Highest feed sequence handed out: its entry may still be on its way to disk (see `committedSeq`). */
  get lastSeq(): number { return this.#lastSeq }

  /**
   * Highest feed sequence whose entry a reader can see now. `lastSeq` runs ahead of it while a commit is on its
   * way, and the feed must not promise a consumer what `readAfter` cannot yet return. Never goes back, even when
   * the newest entries are deleted.
   */
  committedSeq(): number {
    for (const key of this.#db.alerts.getKeys({ reverse: true, limit: 1 })) {
      if ((key as number) > this.#committedSeq) this.#committedSeq = key as number;
    }
    return this.#committedSeq;
  }

  /**
   * Stores new alerts and forgets the journal pages they came from (by journal key), atomically, with what the
   * journal says `deviceSeq` must record once those pages are gone (`Journal.releasing`).
   * Returns the alerts actually stored (duplicates of stored ones are left out), with their sequence.
   */
  async commit(alerts: readonly NewAlert[], processed: readonly number[],
    evidence: readonly EvidenceRecord[] = [], deviceSeqs: ReadonlyMap<DeviceId, number> = new Map()): Promise<Alert[]> {
    const stored: Alert[] = [];
    const { root, alerts: alertDb, alertIds, journal } = this.#db;
    // A batch rather than a transaction callback: the puts go to LMDB's write thread as they are made, and the
    // write thread never waits for this (busy) thread to come round and run a callback. Its reads see what is
    // committed, so the ids and evidence of batches still on their way are remembered here until they are.
    const ids: string[] = [];
    const evidenceIds: string[] = [];
    // Ids go into LMDB keys, which have a size limit: refuse the whole commit before anything is written, rather
    // than have it throw half-way (lmdb-js would still commit the first half).
    for (const a of alerts) {
      checkKeyPart(a.id);
      checkKeyPart(a.subjectId);
      if (a.evidenceId !== undefined) checkKeyPart(a.evidenceId);
    }
    for (const e of evidence) checkKeyPart(e.id);
    let thrown: { err: unknown } | undefined;
    let written: PromiseLike<unknown>;
    try {
      written = root.batch(() => {
        for (const e of evidence) {
          if (this.#pending.has(e.id) || this.#db.evidence.get(e.id) !== undefined) continue;
          this.#db.evidence.put(e.id, e);
          this.#pending.add(e.id);
          evidenceIds.push(e.id);
        }
        for (const a of alerts) {
          if (this.#pending.has(a.id) || alertIds.get(a.id) !== undefined) continue;
          const seq = ++this.#lastSeq;
          const alert: Alert = { ...a, seq };
          alertDb.put(seq, alert);
          alertIds.put(a.id, seq);
          this.#pending.add(a.id);
          ids.push(a.id);
          this.#index(alert);
          stored.push(alert);
        }
        for (const key of processed) journal.remove(key);
        for (const [deviceId, seq] of deviceSeqs) this.#db.deviceSeq.put(deviceId, seq);
      });
    } catch (err) {
      // Thrown while writing: lmdb-js still commits what was written before the throw (as a transaction callback
      // that throws did before), so its ids stay on their way until that commit lands.
      thrown = { err };
      written = root.committed;
    }
    try {
      await written;
    } finally {
      for (const id of ids) this.#pending.delete(id);
      for (const id of evidenceIds) this.#pending.delete(id);
    }
    if (thrown) throw thrown.err;
    return stored;
  }

  /** Feed entries (alerts and notices) with feed sequence greater than `after`, in feed order, at most `limit`. */
  readAfter(after: number, limit: number): Alert[] {
    const out: Alert[] = [];
    // Sequences are uint32 keys: a start past the largest one wraps round, and the feed would answer a cursor of
    // 2^32 - 1 or more (a consumer's `after`) with its oldest alerts.
    if (after >= 0xffffffff) return out;
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

  /** Alerts (never notices) matching the filters, in feed order, with a cursor to continue. */
  list(query: AlertQuery): AlertPage {
    return queryAlerts(this.#db, query);
  }

  /**
   * Moves an alert along the review workflow (new -> in_review -> confirmed | dismissed), publishing
   * the change as a notice on the feed. Confirming or dismissing needs a written rationale.
   */
  async review(id: string, to: ReviewState, actor: { username: string; label: string }, rationale: string | undefined,
    now = Date.now()): Promise<Outcome<AlertChange>> {
    if (isDecision(to) && (rationale === undefined || rationale.trim() === '')) {
      return fail('INVALID', `moving an alert to ${to} needs a written rationale`);
    }
    return this.#db.root.childTransaction((): Outcome<AlertChange> => {
      const found = this.#find(id);
      if (!found.ok) return found;
      const alert = found.value;
      if (!REVIEW_TRANSITIONS[alert.state].includes(to)) {
        return fail('CONFLICT', `an alert in state ${alert.state} cannot move to ${to}`
          + (REVIEW_TRANSITIONS[alert.state].length ? ` (allowed: ${REVIEW_TRANSITIONS[alert.state].join(', ')})` : ' (the decision is final)'));
      }
      const review = { from: alert.state, to, by: actor.username, at: now, ...(rationale !== undefined ? { rationale } : {}) };
      const updated: Alert = { ...alert, state: to, review };
      this.#db.alerts.put(alert.seq, updated);
      const notice = this.#publish(updated, { kind: 'review', alertSeq: alert.seq, ...review });
      this.#db.alertNotices.put([alert.seq, notice.seq], 1);
      const audit = this.#audit.appendInTxn({
        actor: actor.label, action: 'review.change', target: `alert:${id}`,
        details: { subjectId: alert.subjectId, from: alert.state, to, rationale: rationale ?? null, feedSequence: notice.seq },
      }, now);
      return done({ alert: updated, notices: [notice], audit });
    });
  }

  /** Holds an alert past its retention period, or releases it. Holding twice changes nothing. */
  async setHold(id: string, held: boolean, actor: { username: string; label: string }, reason: string,
    now = Date.now()): Promise<Outcome<{ alert: Alert; audit: AuditEntry | undefined }>> {
    return this.#db.root.childTransaction((): Outcome<{ alert: Alert; audit: AuditEntry | undefined }> => {
      const found = this.#find(id);
      if (!found.ok) return found;
      const alert = found.value;
      if ((alert.hold !== undefined) === held) return done({ alert, audit: undefined });
      const updated: Alert = { ...alert };
      if (held) updated.hold = { by: actor.username, at: now, reason };
      else delete updated.hold;
      this.#db.alerts.put(alert.seq, updated);
      const audit = this.#audit.appendInTxn({
        actor: actor.label, action: held ? 'alert.hold' : 'alert.release', target: `alert:${id}`,
        details: { subjectId: alert.subjectId, reason },
      }, now);
      return done({ alert: updated, audit });
    });
  }

  /**
   * Deletes an alert: its record, its review notices, and its evidence unless another alert of the
   * same event still needs it. A deletion notice goes on the feed and a receipt (who, when, what, why,
   * no content) into the audit log; then the evidence bytes are scrubbed from the data file.
   */
  async deleteAlert(id: string, actor: { username: string; label: string }, reason: string,
    now = Date.now()): Promise<Outcome<DeletionReceipt>> {
    const result = await this.#db.root.childTransaction((): Outcome<AlertChange & { secrets: Uint8Array[] }> => {
      const found = this.#find(id);
      if (!found.ok) return found;
      const alert = found.value;
      if (alert.hold !== undefined) return fail('CONFLICT', `alert ${id} is held (${alert.hold.reason}); release it first`);
      const { secrets, evidenceId } = this.#removeAlert(alert);
      const notice = this.#publish(alert, { kind: 'deletion', alertSeq: alert.seq, at: now, by: actor.username, what: 'alert' });
      this.#db.meta.put(HIGH_WATER_KEY, this.#lastSeq);
      const audit = this.#audit.appendInTxn({
        actor: actor.label, action: 'alert.delete', target: `alert:${id}`,
        details: { subjectId: alert.subjectId, category: alert.category, reason, evidenceDeleted: evidenceId ?? null, feedSequence: notice.seq },
      }, now);
      return done({ alert, notices: [notice], audit, secrets });
    });
    return this.#scrub(result, actor.label, now);
  }

  /**
   * Deletes an alert's evidence (the sealed image), for every alert of the event that shares it; the
   * alerts stay, marked `evidenceDeleted`. Refused while any of those alerts is held.
   */
  async deleteEvidence(id: string, actor: { username: string; label: string }, reason: string,
    now = Date.now()): Promise<Outcome<DeletionReceipt>> {
    const result = await this.#db.root.childTransaction((): Outcome<AlertChange & { secrets: Uint8Array[] }> => {
      const found = this.#find(id);
      if (!found.ok) return found;
      const alert = found.value;
      if (alert.evidenceId === undefined) {
        return alert.evidenceDeleted ? fail('GONE', `the evidence of alert ${id} was deleted already`) : fail('NOT_FOUND', `alert ${id} has no evidence`);
      }
      const sharing = this.#sharing(alert.evidenceId);
      const held = sharing.find((a) => a.hold !== undefined);
      if (held) return fail('CONFLICT', `the evidence is part of held alert ${held.id}; release it first`);
      const secrets = this.#removeEvidence(alert.evidenceId, sharing, actor.username, now);
      const notices = sharing.map((a) => this.#publish(a, { kind: 'deletion', alertSeq: a.seq, at: now, by: actor.username, what: 'evidence' }));
      const audit = this.#audit.appendInTxn({
        actor: actor.label, action: 'evidence.delete', target: `alert:${id}`,
        details: { subjectId: alert.subjectId, evidenceId: alert.evidenceId, alerts: sharing.map((a) => a.id), reason,
          feedSequences: notices.map((n) => n.seq) },
      }, now);
      return done({ alert: this.get(alert.seq) as Alert, notices, audit, secrets });
    });
    return this.#scrub(result, actor.label, now);
  }

  /**
   * One batch of the retention sweep: examines up to `size` feed entries after sequence `after` and
   * deletes alerts, notices and evidence past their cut-offs, except alerts that are held or in review, and writes one audit entry
   * for the batch. No notices are published: retention is policy, not a decision about an alert.
   */
  async expireBatch(after: number, cutoffs: RetentionCutoffs, actor: string, size: number,
    now = Date.now()): Promise<ExpiryBatch & { secrets: Uint8Array[] }> {
    return this.#db.root.childTransaction(() => {
      const newest = Math.max(cutoffs.alert, cutoffs.dismissedAlert, cutoffs.evidence);
      const out: ExpiryBatch & { secrets: Uint8Array[] } = {
        alertIds: [], evidenceIds: [], notices: 0, keptHeld: 0, keptInReview: 0, next: null, audit: undefined, secrets: [],
      };
      // Read first, then delete: removing an alert also removes later entries (its notices).
      const window: Alert[] = [];
      for (const { value } of this.#db.alerts.getRange({ start: after + 1, limit: size + 1 })) window.push(value as Alert);
      if (window.length > size) out.next = window[size - 1]!.seq;
      for (const entry of window.slice(0, size)) {
        const at = entry.notice?.at ?? entry.raisedAt;
        if (at >= newest) { out.next = null; break }
        if (this.#db.alerts.get(entry.seq) === undefined) continue; // went with its alert earlier in this batch
        if (entry.notice !== undefined) {
          if (at < cutoffs.alert) { this.#removeNotice(entry); out.notices++ }
          continue;
        }
        const alertExpired = at < (entry.state === 'dismissed' ? cutoffs.dismissedAlert : cutoffs.alert);
        const evidenceExpired = entry.evidenceId !== undefined && at < cutoffs.evidence;
        if (!alertExpired && !evidenceExpired) continue;
        if (entry.hold !== undefined) { out.keptHeld++; continue }
        if (entry.state === 'in_review') { out.keptInReview++; continue }
        if (alertExpired) {
          const removed = this.#removeAlert(entry);
          out.alertIds.push(entry.id);
          if (removed.evidenceId !== undefined) out.evidenceIds.push(removed.evidenceId);
          out.secrets.push(...removed.secrets);
        } else if (entry.evidenceId !== undefined) {
          const sharing = this.#sharing(entry.evidenceId);
          if (sharing.some((a) => a.hold !== undefined || a.state === 'in_review')) continue;
          out.evidenceIds.push(entry.evidenceId);
          out.secrets.push(...this.#removeEvidence(entry.evidenceId, sharing, actor, now));
        }
      }
      if (out.alertIds.length + out.evidenceIds.length + out.notices > 0) {
        this.#db.meta.put(HIGH_WATER_KEY, this.#lastSeq);
        out.audit = this.#audit.appendInTxn({
          actor, action: 'retention.delete', target: 'alerts',
          details: { alerts: out.alertIds, evidence: out.evidenceIds, notices: out.notices },
        }, now);
      }
      return out;
    });
  }

  /** Scrubs the evidence bytes of a deletion from the data file and records how many were found. */
  async scrub(secrets: readonly Uint8Array[], actor: string, target: string, now = Date.now()): Promise<ScrubResult> {
    const scrubbed = await scrubDeleted(this.#db, secrets);
    if (secrets.length > 0) {
      await this.#audit.append({ actor, action: 'evidence.scrub', target, details: { copies: scrubbed.copies, bytes: scrubbed.bytes } }, now);
    }
    return scrubbed;
  }

  async #scrub(result: Outcome<AlertChange & { secrets: Uint8Array[] }>, actor: string, now: number): Promise<Outcome<DeletionReceipt>> {
    if (!result.ok) return result;
    const { secrets, ...change } = result.value;
    const scrubbed = await this.scrub(secrets, actor, `alert:${change.alert.id}`, now);
    return done({ ...change, scrubbed });
  }

  #find(id: string): Outcome<Alert> {
    const seq = this.#db.alertIds.get(id);
    const alert = seq === undefined ? undefined : this.get(seq);
    return alert && alert.notice === undefined ? done(alert) : fail('NOT_FOUND', `no alert ${id}`);
  }

  /** Appends a notice about `alert` to the feed; call inside a write transaction. */
  #publish(alert: Alert, notice: AlertNotice): Alert {
    const entry: Alert = {
      id: alert.id, seq: ++this.#lastSeq, category: alert.category, subjectId: alert.subjectId, deviceId: alert.deviceId,
      eventSeq: alert.eventSeq, eventAt: alert.eventAt, raisedAt: alert.raisedAt, severity: alert.severity,
      state: notice.kind === 'review' ? notice.to : alert.state,
      match: notice.kind === 'deletion' ? { kind: 'rule', rule: 'deleted', signal: notice.what } : withoutContent(alert.match),
      notice,
    };
    this.#db.alerts.put(entry.seq, entry);
    return entry;
  }

  #index(alert: Alert): void {
    this.#db.alertsBySubject.put([alert.subjectId, alert.seq], 1);
    if (alert.evidenceId !== undefined) this.#db.alertsByEvidence.put([alert.evidenceId, alert.seq], 1);
  }

  /** The alerts that point at one piece of evidence. */
  #sharing(evidenceId: string): Alert[] {
    const out: Alert[] = [];
    for (const key of this.#db.alertsByEvidence.getKeys({ start: [evidenceId, 0], end: [evidenceId, 0xffffffff] })) {
      const a = this.get((key as [string, number])[1]);
      if (a) out.push(a);
    }
    return out;
  }

  /** Removes an alert with its indexes and review notices; its evidence too if no other alert uses it. */
  #removeAlert(alert: Alert): { secrets: Uint8Array[]; evidenceId: string | undefined } {
    const secrets: Uint8Array[] = [];
    let evidenceId: string | undefined;
    if (alert.evidenceId !== undefined) {
      this.#db.alertsByEvidence.remove([alert.evidenceId, alert.seq]);
      if (this.#sharing(alert.evidenceId).length === 0) {
        const record = this.evidence(alert.evidenceId);
        if (record) secrets.push(record.sealed.ciphertext);
        this.#db.evidence.remove(alert.evidenceId);
        evidenceId = alert.evidenceId;
      }
    }
    for (const key of [...this.#db.alertNotices.getKeys({ start: [alert.seq, 0], end: [alert.seq, 0xffffffff] })]) {
      this.#db.alerts.remove((key as [number, number])[1]);
      this.#db.alertNotices.remove(key);
    }
    this.#db.alerts.remove(alert.seq);
    this.#db.alertIds.remove(alert.id);
    this.#db.alertsBySubject.remove([alert.subjectId, alert.seq]);
    return { secrets, evidenceId };
  }

  #removeNotice(entry: Alert): void {
    this.#db.alerts.remove(entry.seq);
    if (entry.notice !== undefined) this.#db.alertNotices.remove([entry.notice.alertSeq, entry.seq]);
  }

  /** Removes a piece of evidence and marks every alert that pointed at it. */
  #removeEvidence(evidenceId: string, sharing: readonly Alert[], by: string, now: number): Uint8Array[] {
    const record = this.evidence(evidenceId);
    this.#db.evidence.remove(evidenceId);
    for (const a of sharing) {
      const updated: Alert = { ...a, evidenceDeleted: { at: now, by } };
      delete updated.evidenceId;
      this.#db.alerts.put(a.seq, updated);
      this.#db.alertsByEvidence.remove([evidenceId, a.seq]);
    }
    return record ? [record.sealed.ciphertext] : [];
  }

  /** Builds the subject and evidence indexes for alerts stored before they existed (once per data folder). */
  #buildIndexes(): void {
    this.#db.root.transactionSync(() => {
      for (const { value } of this.#db.alerts.getRange({})) {
        const a = value as Alert;
        if (a.notice === undefined) this.#index(a);
      }
      this.#db.meta.put(INDEX_VERSION_KEY, 1);
    });
  }
}
