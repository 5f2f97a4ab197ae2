/**
 * The HTTP side of the suite, with autocannon: page reads of `/v1/alerts`, long-polls that follow
 * the feed the way a consumer does (each poll asks for what came after the newest alert any poll
 * has seen, and waits for it), and `/metrics` scrapes.
 */
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';
import { ConnectError } from '../core/index.js';

export interface HttpFigures {
  name: string;
  path: string;
  connections: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  bytesPerSecond: number;
}

export interface HttpTarget { base: string; consumerToken: string | undefined }

const LONG_POLL_WAIT_MS = 1000;
const READ_PAGE = 100;

function figures(name: string, path: string, connections: number, r: AutocannonResult): HttpFigures {
  return {
    name, path, connections, seconds: r.duration, requestsPerSecond: Math.round(r.requests.total / Math.max(0.001, r.duration)),
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, bytesPerSecond: Math.round(r.throughput.average),
  };
}

/**
 * GET `path` of the server at `base`; a server that cannot be reached is a `ConnectError` saying so (fetch says only
 * "fetch failed"; the reason, ECONNREFUSED or ENOTFOUND, is in its cause).
 */
export async function fetchFrom(base: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
  try {
    return await fetch(`${base}${path}`, { headers });
  } catch (err) {
    const reason = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    throw new ConnectError(`could not reach ${base}: ${reason}; check --url and that the server is running`, { cause: err });
  }
}

/** The feed's newest sequence now (`head`), so that a watcher sees only alerts raised after it. */
export async function feedHead(base: string, consumerToken: string): Promise<number> {
  const res = await fetchFrom(base, '/v1/alerts?limit=1', { authorization: `Bearer ${consumerToken}` });
  if (!res.ok) {
    throw new ConnectError(`the feed at ${base} refused the consumer token (HTTP ${res.status}): check that --data names the data folder `
      + 'of the server at --url (or --consumer-token)');
  }
  return ((await res.json()) as { head: number }).head;
}

const head = (t: HttpTarget): Promise<number> => (t.consumerToken === undefined ? Promise.resolve(0) : feedHead(t.base, t.consumerToken));

const auth = (t: HttpTarget): Record<string, string> => (t.consumerToken ? { authorization: `Bearer ${t.consumerToken}` } : {});

/** Page reads: the last `READ_PAGE` alerts before the head, again and again. */
export async function alertReads(t: HttpTarget, connections: number, seconds: number): Promise<HttpFigures> {
  const after = Math.max(0, (await head(t)) - READ_PAGE);
  const path = `/v1/alerts?after=${after}&limit=${READ_PAGE}`;
  const r = await autocannon({ url: t.base + path, connections, duration: seconds, headers: auth(t) });
  return figures('alerts: page reads', path, connections, r);
}

/** Long-polls following the head; their latency is mostly the wait for the next alert. */
export async function alertLongPolls(t: HttpTarget, connections: number, seconds: number): Promise<HttpFigures> {
  const state = { next: await head(t) };
  const request: AutocannonRequest = {
    method: 'GET',
    setupRequest: (req) => ({ ...req, path: `/v1/alerts?after=${state.next}&limit=${READ_PAGE}&waitMs=${LONG_POLL_WAIT_MS}` }),
    onResponse: (status, body) => {
      if (status !== 200) return;
      const next = (JSON.parse(body) as { next?: number }).next;
      if (typeof next === 'number' && next > state.next) state.next = next;
    },
  };
  const r = await autocannon({ url: t.base, connections, duration: seconds, headers: auth(t), requests: [request], timeout: 10 });
  return figures('alerts: long-polls', `/v1/alerts?after=<newest seen>&limit=${READ_PAGE}&waitMs=${LONG_POLL_WAIT_MS}`, connections, r);
}

export async function metricsScrapes(t: HttpTarget, connections: number, seconds: number): Promise<HttpFigures> {
  const r = await autocannon({ url: `${t.base}/metrics`, connections, duration: seconds });
  return figures('metrics scrapes', '/metrics', connections, r);
}
