/**
 * Listing alerts for review with filters. A manager sees only the subjects on their caseload, so a
 * listing walks the per-subject index (`alertsBySubject`) of those subjects and merges them in feed
 * order; without a subject restriction it walks the feed itself, skipping notices. Each listing
 * examines a bounded number of records and returns a cursor to go on from, so a filter that matches
 * little never turns one request into a scan of everything.
 */
import type { Alert, ReviewState, Severity } from '../core/alerts.js';
import type { Category } from '../core/events.js';
import type { Databases } from './database.js';

export interface AlertQuery {
  /** Only these subjects (a caseload, possibly narrowed by a filter); undefined means every subject. */
  subjects?: readonly string[];
  category?: Category;
  severity?: Severity;
  state?: ReviewState;
  held?: boolean;
  /** raisedAt bounds, ms since the epoch, inclusive */
  from?: number;
  to?: number;
  /** Feed sequence to continue from (exclusive); 0 starts at the oldest, or the newest with `newestFirst`. */
  cursor?: number;
  newestFirst?: boolean;
  limit: number;
}

export interface AlertPage {
  alerts: Alert[];
  /** Pass as `cursor` to continue; null when there is nothing more. */
  next: number | null;
}

/** Most records one listing examines before it returns what it has with a cursor. */
export const MAX_EXAMINED = 20_000;
const MAX_SEQ = 0xffffffff;

function matches(a: Alert, q: AlertQuery): boolean {
  return (q.category === undefined || a.category === q.category)
    && (q.severity === undefined || a.severity === q.severity)
    && (q.state === undefined || a.state === q.state)
    && (q.held === undefined || (a.hold !== undefined) === q.held)
    && (q.from === undefined || a.raisedAt >= q.from)
    && (q.to === undefined || a.raisedAt <= q.to);
}

/** Feed sequences of one source (a subject's index, or the whole feed) past the cursor, in order. */
function* sequences(db: Databases, subject: string | undefined, cursor: number, desc: boolean): Generator<number> {
  if (subject === undefined) {
    const range = desc
      ? { start: cursor > 0 ? cursor - 1 : MAX_SEQ, reverse: true }
      : { start: cursor + 1 };
    for (const key of db.alerts.getKeys(range)) yield key as number;
    return;
  }
  const range = desc
    ? { start: [subject, cursor > 0 ? cursor - 1 : MAX_SEQ], end: [subject, -1], reverse: true }
    : { start: [subject, cursor + 1], end: [subject, MAX_SEQ + 1] };
  for (const key of db.alertsBySubject.getKeys(range)) yield (key as [string, number])[1];
}

export function queryAlerts(db: Databases, q: AlertQuery): AlertPage {
  const desc = q.newestFirst === true;
  const cursor = q.cursor ?? 0;
  const sources = q.subjects === undefined ? [undefined] : [...new Set(q.subjects)];
  const budget = Math.max(q.limit, Math.ceil(MAX_EXAMINED / Math.max(1, sources.length)));
  const before = (a: number, b: number): boolean => (desc ? a > b : a < b);
  const found: Alert[] = [];
  // The furthest point up to which every source has been read completely.
  let complete: number | undefined;
  for (const subject of sources) {
    let taken = 0;
    let examined = 0;
    let last: number | undefined;
    let exhausted = true;
    for (const seq of sequences(db, subject, cursor, desc)) {
      if (taken >= q.limit || examined >= budget) { exhausted = false; break }
      examined++;
      last = seq;
      const a = db.alerts.get(seq) as Alert | undefined;
      if (!a || a.notice !== undefined || !matches(a, q)) continue;
      found.push(a);
      taken++;
    }
    // A source cut short by its budget is known only up to its last examined sequence.
    if (!exhausted && last !== undefined && (complete === undefined || before(last, complete))) complete = last;
  }
  found.sort((x, y) => (desc ? y.seq - x.seq : x.seq - y.seq));
  const within = complete === undefined ? found : found.filter((a) => !before(complete as number, a.seq));
  const alerts = within.slice(0, q.limit);
  const lastReturned = alerts[alerts.length - 1]?.seq;
  let next: number | null;
  if (complete === undefined) next = within.length > q.limit ? (lastReturned ?? null) : null;
  else next = alerts.length === q.limit ? (lastReturned ?? complete) : complete;
  return { alerts, next };
}
