/**
 * The alert feed for downstream systems (PROTOCOL.md §4): `GET /v1/alerts` with long-poll, and the
 * `/v1/feed` WebSocket. Both read from the alert store by cursor, so a consumer that falls behind
 * only falls behind: nothing is queued for it in memory, and ingest never waits for it. The socket is
 * filled while its send buffer is below the limit and resumes on `drain`.
 */
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_socket_context_t } from 'uWebSockets.js';
import { toCloudEvent, type Alert, type FeedConfig, type Metrics } from '../core/index.js';
import type { RegistryStore } from '../store/index.js';
import type { AlertFeed } from '../pipeline/index.js';
import { bearer, intParam, sendError, sendJson } from './http-util.js';
import { CLOSE_REVOKED } from './device-gateway.js';

interface FeedConn { consumerId: string; cursor: number; closed: boolean }

const SOCKET_READ_CHUNK = 100;
/** How often open sockets' consumers are re-checked; a read of one counter when nothing was revoked. */
const CONSUMER_REFRESH_MS = 2000;
const DEFAULT_LIMIT = 100;
/**
 * Close code for a feed socket opened with a cursor beyond the feed's head (4000 + HTTP 409, as 4401 is for a
 * revoked token). Such a cursor is not from this feed: the consumer was pointed at another server, or this one was
 * restored from an older backup. Waiting for alerts after it would wait in silence for ever, or skip those between.
 */
export const CLOSE_CURSOR_AHEAD = 4409;

export interface FeedGatewayOptions {
  feed: AlertFeed;
  registry: RegistryStore;
  config: FeedConfig;
  maxBackpressureBytes: number;
  metrics: Metrics;
}

export class FeedGateway {
  readonly #o: FeedGatewayOptions;
  readonly #sockets = new Set<WebSocket<FeedConn>>();
  readonly #unsubscribe: () => void;
  readonly #timer: NodeJS.Timeout;
  /** The registry's consumer generation when the open sockets' consumers were last checked. */
  #consumerGeneration: number;

  constructor(options: FeedGatewayOptions) {
    this.#o = options;
    this.#consumerGeneration = options.registry.consumerGeneration();
    this.#timer = setInterval(() => this.#refreshConsumers(), CONSUMER_REFRESH_MS);
    this.#timer.unref();
    this.#unsubscribe = options.feed.subscribe(() => {
      for (const ws of this.#sockets) ws.cork(() => this.#pump(ws));
    });
    options.metrics.gauge('vigil_feed_sockets_open', 'Feed WebSockets open now', () => this.#sockets.size);
  }

  close(): void { this.#unsubscribe(); clearInterval(this.#timer) }

  closeAll(): void {
    for (const ws of [...this.#sockets]) { ws.getUserData().closed = true; ws.close() }
    this.#sockets.clear();
  }

  register(app: TemplatedApp): void {
    app.get('/v1/alerts', (res, req) => this.#alerts(res, req));
    app.ws<FeedConn>('/v1/feed', {
      maxPayloadLength: 4096,
      idleTimeout: 120,
      maxBackpressure: this.#o.maxBackpressureBytes * 4,
      sendPingsAutomatically: true,
      upgrade: (res, req, ctx) => this.#upgrade(res, req, ctx),
      open: (ws) => {
        const conn = ws.getUserData();
        // Refused after the upgrade rather than before: every WebSocket client shows a close code and reason, where
        // many show no more of a refused upgrade than that it failed.
        const ahead = this.#ahead(conn.cursor);
        if (ahead !== undefined) { conn.closed = true; ws.end(CLOSE_CURSOR_AHEAD, `CURSOR_AHEAD: ${ahead.reason}`); return }
        this.#sockets.add(ws);
        this.#pump(ws);
      },
      drain: (ws) => this.#pump(ws),
      message: () => { /* consumers only listen */ },
      close: (ws) => { ws.getUserData().closed = true; this.#sockets.delete(ws) },
    });
  }

  /**
   * A socket is authenticated once, at upgrade: when a consumer is revoked (by `vigil tokens revoke`, in any
   * process), its open sockets are closed here. Consumers are looked up only after the generation has moved.
   */
  #refreshConsumers(): void {
    const generation = this.#o.registry.consumerGeneration();
    if (generation === this.#consumerGeneration) return;
    this.#consumerGeneration = generation;
    for (const ws of [...this.#sockets]) {
      const conn = ws.getUserData();
      if (conn.closed || this.#o.registry.consumerActive(conn.consumerId)) continue;
      conn.closed = true;
      this.#sockets.delete(ws);
      ws.end(CLOSE_REVOKED, 'consumer token revoked');
    }
  }

  #consumer(req: HttpRequest): string | undefined {
    const token = bearer(req);
    const consumer = token === undefined ? null : this.#o.registry.authenticateConsumer(token);
    return consumer?.consumerId;
  }

  #alerts(res: HttpResponse, req: HttpRequest): void {
    const consumerId = this.#consumer(req);
    if (consumerId === undefined) {
      this.#o.metrics.authFailures.inc({ endpoint: 'alerts' });
      sendError(res, 401, 'UNAUTHORIZED', 'a valid consumer token is required (Authorization: Bearer <token>)');
      return;
    }
    const { maxLimit, maxWaitMs } = this.#o.config;
    const after = intParam(req, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(req, 'limit', Math.min(DEFAULT_LIMIT, maxLimit), 1, maxLimit);
    const waitMs = intParam(req, 'waitMs', 0, 0, maxWaitMs);
    for (const v of [after, limit, waitMs]) {
      if (typeof v === 'string') { sendError(res, 400, 'BAD_REQUEST', v); return; }
    }
    const [a, l, w] = [after, limit, waitMs] as number[] as [number, number, number];
    const ahead = this.#ahead(a);
    if (ahead !== undefined) {
      sendJson(res, 409, { error: { code: 'CURSOR_AHEAD', message: `${ahead.reason}: the cursor is not from this server's feed `
        + '(another server, or this one restored from an older backup); read from the head or below (alert ids tell those '
        + 'already seen)', head: ahead.head } });
      return;
    }
    const reply = (alerts: Alert[]): void => {
      // A long-poll held while its consumer was revoked gets nothing more (checked only after a wait).
      if (w > 0 && !this.#o.registry.consumerActive(consumerId)) {
        sendError(res, 401, 'UNAUTHORIZED', 'the consumer token was revoked');
        return;
      }
      const next = alerts.length > 0 ? (alerts[alerts.length - 1]!.seq) : a;
      sendJson(res, 200, { alerts: alerts.map(toCloudEvent), next, head: this.#o.feed.lastSeq });
    };
    // A long-poll answers as soon as there is something to return, and otherwise only when its wait ends: never
    // early and empty (entries after `a` can all have been deleted, so `head` alone does not say there are some).
    const first = this.#o.feed.read(a, l);
    if (w === 0 || first.length > 0) { reply(first); return; }
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
    };
    const unsubscribe = this.#o.feed.subscribe((last) => {
      if (last <= a) return;
      const alerts = this.#o.feed.read(a, l);
      if (alerts.length > 0) { finish(); reply(alerts); }
    });
    const timer = setTimeout(() => { finish(); reply(this.#o.feed.read(a, l)) }, w);
    res.onAborted(finish);
  }

  /**
   * A cursor beyond the feed's head, with the head; undefined for one at or below it. The head never goes back, also
   * when the newest alerts are deleted (by an operator or by retention) and the server restarts (the alert store keeps
   * its high-water mark), so a cursor this feed handed out is never taken for one ahead of it.
   */
  #ahead(after: number): { head: number; reason: string } | undefined {
    const head = this.#o.feed.lastSeq;
    return after <= head ? undefined : { head, reason: `after=${after} is beyond the feed's head, ${head}` };
  }

  #upgrade(res: HttpResponse, req: HttpRequest, ctx: us_socket_context_t): void {
    const consumerId = this.#consumer(req);
    if (consumerId === undefined) {
      this.#o.metrics.authFailures.inc({ endpoint: 'feed' });
      sendError(res, 401, 'UNAUTHORIZED', 'a valid consumer token is required (Authorization: Bearer <token>)');
      return;
    }
    const after = intParam(req, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    if (typeof after === 'string') { sendError(res, 400, 'BAD_REQUEST', after); return; }
    res.upgrade<FeedConn>({ consumerId, cursor: after, closed: false }, req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), ctx);
  }

  /** Sends alerts after the socket's cursor until its buffer is full or it has caught up. */
  #pump(ws: WebSocket<FeedConn>): void {
    const conn = ws.getUserData();
    const limit = this.#o.maxBackpressureBytes;
    while (!conn.closed && ws.getBufferedAmount() < limit) {
      const alerts = this.#o.feed.read(conn.cursor, SOCKET_READ_CHUNK);
      if (alerts.length === 0) return;
      for (const alert of alerts) {
        if (ws.send(JSON.stringify(toCloudEvent(alert)), false) === 2) return; // dropped: resend from cursor on drain
        conn.cursor = alert.seq;
        if (ws.getBufferedAmount() >= limit) return;
      }
    }
  }
}
