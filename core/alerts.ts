/**
 * Alerts as stored and as published. An alert is indicative only: it carries what matched and
 * where, never the content that was matched beyond a short excerpt, and starts in review state `new`.
 * `toCloudEvent` renders the feed's CloudEvents 1.0 JSON form (PROTOCOL.md §4).
 */
import type { AlertId, DeviceId, SubjectId } from './ids.js';
import type { Category } from './events.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export type ReviewState = 'new' | 'in_review' | 'confirmed' | 'dismissed';
export const REVIEW_STATES: readonly ReviewState[] = ['new', 'in_review', 'confirmed', 'dismissed'];

/**
 * The review workflow: a trained offender manager takes a `new` alert into review, then confirms it
 * or dismisses it as a false positive. Decisions are final; any other move is refused.
 */
export const REVIEW_TRANSITIONS: Readonly<Record<ReviewState, readonly ReviewState[]>> = Object.freeze({
  new: ['in_review'],
  in_review: ['confirmed', 'dismissed'],
  confirmed: [],
  dismissed: [],
});

/** True for the states that end a review: they need a written rationale. */
export const isDecision = (s: ReviewState): boolean => s === 'confirmed' || s === 'dismissed';

/** The latest change of an alert's review state. */
export interface ReviewRecord { from: ReviewState; to: ReviewState; by: string; at: number; rationale?: string }

/** An alert marked as held is kept past its retention period until it is released. */
export interface HoldRecord { by: string; at: number; reason: string }

/**
 * A feed entry that is not an alert but news about one (docs/protocol.md, "Review and deletion
 * events"): a review change, or the deletion of the alert or its evidence. It has a feed sequence of
 * its own, after the alert's, and never carries observed content.
 */
export type AlertNotice =
  | { kind: 'review'; alertSeq: number; at: number; by: string; from: ReviewState; to: ReviewState; rationale?: string }
  | { kind: 'deletion'; alertSeq: number; at: number; by: string; what: 'alert' | 'evidence' };

/**
 * Images of a device refused without being matched (rule `unchecked-images`), by why: over `ingest.maxImageBytes`,
 * over `ingest.maxImagePixels` or too large to decode shrunk (both IMAGE_TOO_LARGE), or IMAGE_UNDECODABLE.
 */
export interface UncheckedImageCounts { tooLargeBytes: number; tooLargePixels: number; undecodable: number }

/** What matched: a list entry (keyword, URL, app, hash) or a rule (tamper, heartbeat). */
export type AlertMatch =
  | { kind: 'keyword'; list: string; version: number; ref: string; term: string; excerpt: string }
  | { kind: 'domain' | 'url'; list: string; version: number; ref: string; pattern: string; value: string }
  | { kind: 'app'; list: string; version: number; ref: string; package: string; action: string }
  | {
      kind: 'hash'; list: string; version: number; ref: string;
      hashType: string; distance: number; threshold: number; category: string;
    }
  | { kind: 'rule'; rule: string; signal: string; detail?: string; refused?: UncheckedImageCounts };

export interface Alert {
  id: AlertId;
  /** Feed sequence: assigned when stored, strictly increasing. */
  seq: number;
  category: Category;
  subjectId: SubjectId;
  deviceId: DeviceId;
  eventSeq: number;
  eventAt: number;
  /** When the alert was raised, ms since the epoch. */
  raisedAt: number;
  severity: Severity;
  state: ReviewState;
  match: AlertMatch;
  captureId?: string;
  /** Set when the event's content is kept as encrypted evidence (matching images). */
  evidenceId?: string;
  /** The latest review change, once there has been one. */
  review?: ReviewRecord;
  /** Present while the alert is held past retention. */
  hold?: HoldRecord;
  /** Set when the evidence was deleted (by an operator or by retention); `evidenceId` is then gone. */
  evidenceDeleted?: { at: number; by: string };
  /**
   * Present only on feed entries that are notices about an alert (review changes, deletions); the
   * other fields then describe that alert, with observed content (excerpts, URLs, details) removed.
   */
  notice?: AlertNotice;
}

/** An alert before the store gives it a feed sequence. */
export type NewAlert = Omit<Alert, 'seq'>;

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  subject: string;
  sequence: string;
  datacontenttype: 'application/json';
  data: Record<string, unknown>;
}

export const ALERT_SOURCE = '/vigil/alerts';
export const REVIEW_SOURCE = '/vigil/reviews';
export const DELETION_SOURCE = '/vigil/deletions';

/** The match of an alert without what was observed: notices repeat the list reference, not content. */
export function withoutContent(match: AlertMatch): AlertMatch {
  switch (match.kind) {
    case 'keyword': return { ...match, excerpt: '' };
    case 'domain': case 'url': return { ...match, value: '' };
    case 'rule': return { kind: 'rule', rule: match.rule, signal: match.signal };
    default: return match;
  }
}

function noticeEvent(entry: Alert, notice: AlertNotice): CloudEvent {
  const data: Record<string, unknown> = {
    alertId: entry.id,
    alertSequence: String(notice.alertSeq),
    deviceId: entry.deviceId,
    category: entry.category,
    severity: entry.severity,
  };
  const base = {
    specversion: '1.0' as const,
    id: `${entry.id}.${entry.seq}`,
    time: new Date(notice.at).toISOString(),
    subject: entry.subjectId,
    sequence: String(entry.seq),
    datacontenttype: 'application/json' as const,
  };
  if (notice.kind === 'review') {
    Object.assign(data, { state: notice.to, previousState: notice.from, reviewer: notice.by });
    if (notice.rationale !== undefined) data.rationale = notice.rationale;
    return { ...base, source: REVIEW_SOURCE, type: `vigil.review.${notice.to}`, data };
  }
  Object.assign(data, { deleted: notice.what, deletedBy: notice.by });
  return { ...base, source: DELETION_SOURCE, type: `vigil.deletion.${notice.what}`, data };
}

/**
 * Renders a feed entry as a CloudEvents 1.0 event in JSON structured mode: an alert as
 * `vigil.alert.<category>`, a notice as `vigil.review.<state>` or `vigil.deletion.<alert|evidence>`.
 */
export function toCloudEvent(alert: Alert): CloudEvent {
  if (alert.notice !== undefined) return noticeEvent(alert, alert.notice);
  const data: Record<string, unknown> = {
    deviceId: alert.deviceId,
    eventSeq: alert.eventSeq,
    eventAt: alert.eventAt,
    severity: alert.severity,
    state: alert.state,
    match: alert.match,
  };
  if (alert.captureId !== undefined) data.captureId = alert.captureId;
  if (alert.evidenceId !== undefined) data.evidenceId = alert.evidenceId;
  return {
    specversion: '1.0',
    id: alert.id,
    source: ALERT_SOURCE,
    type: `vigil.alert.${alert.category}`,
    time: new Date(alert.raisedAt).toISOString(),
    subject: alert.subjectId,
    sequence: String(alert.seq),
    datacontenttype: 'application/json',
    data,
  };
}

/** Maps a hash or URL list's category (UK image category A/B/C, or another label) to a severity. */
export function severityForCategory(category: string): Severity {
  switch (category.toUpperCase()) {
    case 'A': return 'critical';
    case 'B': return 'high';
    case 'C': return 'medium';
    default: return 'medium';
  }
}
