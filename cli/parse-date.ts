/**
 * Order dates on the command line: `YYYY-MM-DD` (UTC; an end date includes the whole day) or an ISO 8601
 * timestamp with a zone (`Z` or `±hh:mm`). Date.parse alone is not enough: it rolls 2026-02-30 over to 2 March,
 * and reads a timestamp without a zone as the local time of whichever machine runs the command.
 */
import { UsageError } from '../core/index.js';

const DAY_MS = 86_400_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/;

/** Ms since the epoch of a calendar day in UTC, or undefined when there is no such day (2026-02-30). */
function utcDay(y: string, m: string, d: string): number | undefined {
  const t = Date.UTC(Number(y), Number(m) - 1, Number(d));
  const back = new Date(t);
  const same = back.getUTCFullYear() === Number(y) && back.getUTCMonth() === Number(m) - 1 && back.getUTCDate() === Number(d);
  return same ? t : undefined;
}

export function parseOrderDate(raw: string, flag: string, endOfDay: boolean): number {
  const day = DAY.exec(raw);
  if (day) {
    const t = utcDay(day[1]!, day[2]!, day[3]!);
    if (t === undefined) throw new UsageError(`${flag} ${raw} is not a day of the calendar`);
    return endOfDay ? t + DAY_MS - 1 : t;
  }
  const ts = TIMESTAMP.exec(raw);
  if (!ts) {
    throw new UsageError(`${flag} must be a date (YYYY-MM-DD) or an ISO 8601 timestamp with a zone (2026-01-01T09:00Z, 2026-01-01T09:00+01:00), got ${JSON.stringify(raw)}`);
  }
  const [, y, mo, d, h, mi, s, , zone] = ts;
  if (zone === undefined) {
    throw new UsageError(`${flag} ${raw} has no time zone: add Z for UTC or an offset such as +01:00`);
  }
  const t = utcDay(y!, mo!, d!);
  if (t === undefined) throw new UsageError(`${flag} ${raw}: ${y}-${mo}-${d} is not a day of the calendar`);
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) throw new UsageError(`${flag} ${raw} is not a time of day`);
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4)) > 59)) throw new UsageError(`${flag} ${raw}: ${zone} is not a zone offset`);
  // The day and time are checked above; Date.parse applies the fraction and the offset as ISO 8601 says.
  return Date.parse(raw);
}
