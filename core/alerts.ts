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

/** What matched: a list entry (keyword, URL, app, hash) or a rule (tamper, heartbeat). */
export type AlertMatch =
  | { kind: 'keyword'; list: string; version: number; ref: string; term: string; excerpt: string }
  | { kind: 'domain' | 'url'; list: string; version: number; ref: string; pattern: string; value: string }
  | { kind: 'app'; list: string; version: number; ref: string; package: string; action: string }
  | {
      kind: 'hash'; list: string; version: number; ref: string;
      hashType: string; distance: number; threshold: number; category: string;
    }
  | { kind: 'rule'; rule: string; signal: string; detail?: string };

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

/** Renders an alert as a CloudEvents 1.0 event in JSON structured mode. */
export function toCloudEvent(alert: Alert): CloudEvent {
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
