/**
 * Turns matcher hits and rule outcomes into alerts. Each hit is resolved to its list entry (the
 * worker only knows positions) and checked once more against the entry, so a stale or colliding
 * index position can never produce an alert naming the wrong entry. Alert ids are derived from the
 * device, the event and what matched, which is what makes replays idempotent.
 */
import { createHash } from 'node:crypto';
import {
  asAlertId, severityForCategory, EVENT_CATEGORY,
  type AlertMatch, type StoredEvent, type NewAlert, type Severity, type SubjectId, type DeviceId,
} from '../core/index.js';
import type { ListStore, ListEntry } from '../store/index.js';
import type { MatchHit } from './worker-messages.js';

export const EXCERPT_CHARS = 40;

export function alertId(deviceId: string, eventSeq: number, matchKey: string): string {
  const h = createHash('sha256').update(`${deviceId}\u0000${eventSeq}\u0000${matchKey}`).digest('hex');
  return `al-${h.slice(0, 32)}`;
}

function excerpt(text: string, start: number, end: number): string {
  const from = Math.max(0, start - EXCERPT_CHARS);
  const to = Math.min(text.length, end + EXCERPT_CHARS);
  return (from > 0 ? '…' : '') + text.slice(from, to) + (to < text.length ? '…' : '');
}

function isSeverity(s: string): s is Severity {
  return s === 'low' || s === 'medium' || s === 'high' || s === 'critical';
}

const TAMPER_SEVERITY: Readonly<Record<string, Severity>> = { uninstall_attempt: 'critical' };

/** Whether any rule looks at events of this type (most events have none: the matcher threads pass them over). */
export function hasRules(event: StoredEvent): boolean { return event.type === 'tamper' }

export interface AlertContext { deviceId: DeviceId; subjectId: SubjectId; event: StoredEvent; now: number }

export class AlertBuilder {
  readonly #lists: ListStore;

  constructor(lists: ListStore) {
    this.#lists = lists;
  }

  /** An alert for a list hit, or undefined when the entry is gone (a list version dropped). */
  fromHit(ctx: AlertContext, hit: MatchHit): NewAlert | undefined {
    const entry = this.#lists.entry(hit.list, hit.version, hit.entry);
    if (!entry) return undefined;
    const match = this.#match(ctx.event, hit, entry);
    if (!match) return undefined;
    const severity = match.kind === 'keyword' && isSeverity(entry.label) ? entry.label : severityForCategory(entry.label);
    return this.#alert(ctx, `${hit.list}\u0000${entry.ref}\u0000${entry.value}`, severity, match);
  }

  /** Rule-based alerts that need no list: tamper signals. */
  fromRules(ctx: AlertContext): NewAlert[] {
    const e = ctx.event;
    if (e.type !== 'tamper') return [];
    const match: AlertMatch = { kind: 'rule', rule: 'tamper', signal: e.signal };
    if (e.detail !== undefined) match.detail = e.detail;
    return [this.#alert(ctx, `rule\u0000tamper\u0000${e.signal}`, TAMPER_SEVERITY[e.signal] ?? 'high', match)];
  }

  #match(event: StoredEvent, hit: MatchHit, entry: ListEntry): AlertMatch | undefined {
    const base = { list: hit.list, version: hit.version, ref: entry.ref };
    switch (event.type) {
      case 'text':
        return { kind: 'keyword', ...base, term: entry.value, excerpt: excerpt(event.text, hit.start ?? 0, hit.end ?? 0) };
      case 'dns':
        return { kind: 'domain', ...base, pattern: entry.value, value: event.domain };
      case 'url':
        return { kind: 'url', ...base, pattern: entry.value, value: event.url };
      case 'app':
        return { kind: 'app', ...base, package: entry.value, action: event.action };
      case 'image':
        return {
          kind: 'hash', ...base, hashType: hit.hashType ?? entry.hashType ?? 'unknown',
          distance: hit.distance, threshold: hit.threshold, category: entry.label,
        };
      default:
        return undefined;
    }
  }

  #alert(ctx: AlertContext, matchKey: string, severity: Severity, match: AlertMatch): NewAlert {
    const { event } = ctx;
    const alert: NewAlert = {
      id: asAlertId(alertId(ctx.deviceId, event.seq, matchKey)),
      category: EVENT_CATEGORY[event.type],
      subjectId: ctx.subjectId,
      deviceId: ctx.deviceId,
      eventSeq: event.seq,
      eventAt: event.at,
      raisedAt: ctx.now,
      severity,
      state: 'new',
      match,
    };
    if (event.type === 'image' && event.captureId !== undefined) alert.captureId = event.captureId;
    return alert;
  }
}
