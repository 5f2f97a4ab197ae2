/**
 * Small helpers for uWS HTTP responses: JSON bodies, bearer tokens, integer query parameters.
 * Errors go out as `{ "error": { "code", "message" } }`, never as a stack trace.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

const STATUS: Readonly<Record<number, string>> = {
  200: '200 OK', 400: '400 Bad Request', 401: '401 Unauthorized', 404: '404 Not Found',
  405: '405 Method Not Allowed', 409: '409 Conflict', 503: '503 Service Unavailable',
};

export function sendJson(res: HttpResponse, status: number, body: unknown): void {
  res.cork(() => {
    res.writeStatus(STATUS[status] ?? `${status}`).writeHeader('content-type', 'application/json').end(JSON.stringify(body));
  });
}

export function sendError(res: HttpResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearer(req: HttpRequest): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.getHeader('authorization'));
  return m?.[1];
}

/** An integer query parameter within bounds, its default when absent, or an error message. */
export function intParam(req: HttpRequest, name: string, dflt: number, min: number, max: number): number | string {
  const raw = req.getQuery(name);
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) return `${name} must be a non-negative integer`;
  const n = Number(raw);
  if (n < min || n > max) return `${name} must be between ${min} and ${max}`;
  return n;
}
