/**
 * The uWebSockets.js application: device sockets, the alert feed, `/healthz` and `/metrics`.
 * Anything else gets a JSON 404. The native build is required (see native-uws.ts).
 */
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Metrics } from '../core/index.js';
import { loadNativeUws } from './native-uws.js';
import type { DeviceGateway, DeviceConn } from './device-gateway.js';
import type { FeedGateway } from './feed-gateway.js';
import { sendError, sendJson } from './http-util.js';

export interface HttpServerOptions {
  devices: DeviceGateway;
  feed: FeedGateway;
  metrics: Metrics;
  /** Facts for `/healthz`, read on each request. */
  health: () => Record<string, unknown>;
  /** The operator API (login, review, audit, administration), if the program wires one. */
  operatorApi?: { register(app: TemplatedApp): void };
}

export class HttpServer {
  readonly #app: TemplatedApp;
  readonly #o: HttpServerOptions;
  readonly #uws = loadNativeUws();
  #listen: us_listen_socket | undefined;
  #port = 0;

  constructor(o: HttpServerOptions) {
    this.#o = o;
    const app = this.#uws.App();
    app.ws<DeviceConn>('/v1/device', o.devices.behavior());
    o.feed.register(app);
    o.operatorApi?.register(app);
    app.get('/healthz', (res) => sendJson(res, 200, { status: 'ok', ...o.health() }));
    app.get('/metrics', (res) => {
      const body = o.metrics.render();
      res.cork(() => res.writeHeader('content-type', 'text/plain; version=0.0.4').end(body));
    });
    app.any('/*', (res, req) => sendError(res, 404, 'NOT_FOUND', `no route for ${req.getMethod().toUpperCase()} ${req.getUrl()}`));
    this.#app = app;
  }

  /** Listens on host:port (port 0 picks a free one); resolves with the port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#app.listen(host, port, (socket) => {
        if (!socket) { reject(new Error(`could not listen on ${host}:${port} (in use, or not allowed)`)); return; }
        this.#listen = socket;
        this.#port = this.#uws.us_socket_local_port(socket);
        resolve(this.#port);
      });
    });
  }

  get port(): number { return this.#port }

  /** Stops listening and closes every open connection. */
  close(): void {
    if (this.#listen) this.#uws.us_listen_socket_close(this.#listen);
    this.#listen = undefined;
    this.#o.devices.closeAll();
    this.#o.feed.closeAll();
  }
}
