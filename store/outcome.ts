/**
 * Expected outcomes of operator actions as values, not exceptions (STYLE.md): an action on an alert
 * that does not exist, a review move the workflow does not allow, a username already taken. Each
 * failure has a stable `code` that the HTTP layer maps to a status and callers branch on.
 */
export type FailureCode = 'NOT_FOUND' | 'CONFLICT' | 'INVALID' | 'GONE';

export type Outcome<T> = { ok: true; value: T } | { ok: false; code: FailureCode; message: string };

export const done = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = (code: FailureCode, message: string): { ok: false; code: FailureCode; message: string } =>
  ({ ok: false, code, message });
