/**
 * Order dates on the command line: `YYYY-MM-DD` (UTC; an end date includes the whole day) or a full
 * ISO 8601 timestamp.
 */
import { UsageError } from '../core/index.js';

const DAY_MS = 86_400_000;

export function parseOrderDate(raw: string, flag: string, endOfDay: boolean): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const t = Date.parse(`${raw}T00:00:00Z`);
    if (Number.isNaN(t)) throw new UsageError(`${flag} ${raw} is not a valid date`);
    return endOfDay ? t + DAY_MS - 1 : t;
  }
  const t = Date.parse(raw);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(raw)) {
    throw new UsageError(`${flag} must be a date (YYYY-MM-DD) or an ISO 8601 timestamp, got ${JSON.stringify(raw)}`);
  }
  return t;
}
