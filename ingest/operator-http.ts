/**
 * Plumbing for the operator API on uWS: a route reads everything it needs from the request before
 * its first `await` (uWS invalidates the request when the handler returns), registers `onAborted`
 * before any asynchronous work, reads bodies with `onData` up to a limit (413 beyond), and writes
 * its answer corked, once, and only if the client is still there. Errors go out as
 * `{ "error": { "code", "message" } }`, never as a stack trace.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

const STATUS: Readonly<Record<number, string>> = {
  200: '200 OK', 201: '201 Created', 400: '400 Bad Request', 401: '401 Unauthorized', 403: '403 Forbidden',
  404: '404 Not Found', 409: '409 Conflict', 410: '410 Gone', 413: '413 Payload Too Large',
  415: '415 Unsupported Media Type', 429: '429 Too Many Requests', 500: '500 Internal Server Error',
};

/** The error codes the operator API answers with, by HTTP status. */
export type ApiErrorCode =
  | 'BAD_REQUEST' | 'RATIONALE_REQUIRED' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'GONE'
  | 'PAYLOAD_TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE' | 'RATE_LIMITED' | 'INTERNAL';

/** One HTTP exchange: answers at most once, and not at all after the client went away. */
export class Exchange {
  readonly #res: HttpResponse;
  #aborted = false;
  #answered = false;

  constructor(res: HttpResponse) {
    this.#res = res;
    res.onAborted(() => { this.#aborted = true });
  }

  get open(): boolean { return !this.#aborted && !this.#answered }

  send(status: number, contentType: string, body: string | Uint8Array, headers: Readonly<Record<string, string>> = {}): void {
    if (!this.open) return;
    this.#answered = true;
    this.#res.cork(() => {
      this.#res.writeStatus(STATUS[status] ?? String(status)).writeHeader('content-type', contentType)
        .writeHeader('cache-control', 'no-store');
      for (const [k, v] of Object.entries(headers)) this.#res.writeHeader(k, v);
      this.#res.end(body);
    });
  }

  json(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
    this.send(status, 'application/json', JSON.stringify(body), headers);
  }

  error(status: number, code: ApiErrorCode, message: string): void {
    this.json(status, { error: { code, message } });
  }

  /**
   * The request body, or undefined if it passed `maxBytes` (the 413 is then already sent) or the
   * client went away. Must be called before the handler first awaits.
   */
  body(maxBytes: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      this.#res.onData((chunk, isLast) => {
        if (refused) return;
        size += chunk.byteLength;
        if (size > maxBytes) {
          refused = true;
          this.error(413, 'PAYLOAD_TOO_LARGE', `the request body is over ${maxBytes} bytes`);
          resolve(undefined);
          return;
        }
        chunks.push(Buffer.from(chunk.slice(0))); // uWS reuses the chunk's memory after this call
        if (isLast) resolve(this.#aborted ? undefined : Buffer.concat(chunks, size));
      });
    });
  }
}

/** What a route handler gets: the request's facts, read up front, and the exchange to answer on. */
export interface RequestFacts {
  method: string;
  url: string;
  params: string[];
  query: URLSearchParams;
  authorization: string;
  contentType: string;
  remote: string;
}

/**
 * Longer than any id, username, subject or list name a path names (subjects, the longest, are at most 128). Each is
 * looked up as an LMDB key, and a key over 1978 bytes makes the lookup throw (a 500 for the caller's mistake).
 */
const MAX_PATH_PARAM = 256;

/**
 * The request's facts, or what is wrong with its path: a path parameter's percent-encoding is malformed (`%zz`;
 * `decodeURIComponent` throws on it, and a throw in a uWS handler ends the process), or a parameter is too long.
 */
export function requestFacts(res: HttpResponse, req: HttpRequest, paramCount: number): RequestFacts | string {
  const params: string[] = [];
  for (let i = 0; i < paramCount; i++) {
    let param: string;
    try {
      param = decodeURIComponent(req.getParameter(i) ?? '');
    } catch {
      return 'the path holds a malformed percent-encoding';
    }
    if (param.length > MAX_PATH_PARAM) return `a path segment is longer than ${MAX_PATH_PARAM} characters`;
    params.push(param);
  }
  return {
    method: req.getMethod().toUpperCase(),
    url: req.getUrl(),
    params,
    query: new URLSearchParams(req.getQuery() ?? ''),
    authorization: req.getHeader('authorization'),
    contentType: req.getHeader('content-type'),
    remote: Buffer.from(res.getRemoteAddressAsText()).toString(),
  };
}

/** A lone surrogate (UTF-16 half of a pair, alone): JSON can write one (`"\ud800"`), UTF-8 cannot. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Parses a JSON object body; a string is the message for a 400. A string in it (key or value) holding a lone
 * surrogate is refused: it is not text, no name or reason holds one, and the audit log cannot store one unchanged.
 */
export function jsonObject(body: Buffer): Record<string, unknown> | string {
  if (body.length === 0) return 'a JSON object body is required';
  let parsed: unknown;
  let illFormed = false;
  try {
    parsed = JSON.parse(body.toString('utf8'), (key, value: unknown) => {
      if (LONE_SURROGATE.test(key) || (typeof value === 'string' && LONE_SURROGATE.test(value))) illFormed = true;
      return value;
    });
  } catch {
    return 'the request body is not valid JSON';
  }
  if (illFormed) return 'the request body holds a string that is not valid Unicode (a lone surrogate escape such as \\ud800)';
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'the request body must be a JSON object';
  return parsed as Record<string, unknown>;
}

/** A non-empty string field of at most `max` characters, undefined when absent, or a message. */
export function stringField(obj: Record<string, unknown>, key: string, max: number): string | undefined | { problem: string } {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return { problem: `${key} must be a string` };
  if (v.length > max) return { problem: `${key} is longer than ${max} characters` };
  return v;
}

/** A time query parameter: ms since the epoch, or an ISO 8601 date or timestamp. */
export function timeParam(query: URLSearchParams, name: string): number | undefined | { problem: string } {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const t = Date.parse(raw);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(raw)) return { problem: `${name} must be ms since the epoch or an ISO 8601 time` };
  return t;
}
