/**
 * The uWebSockets.js application: device sockets, the alert feed, `/healthz` and `/metrics`.
 * Anything else gets a JSON 404. The native build is required (see native-uws.ts).
 */
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { VigilError, type Metrics } from '../core/index.js';
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

type ExclusiveListen = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => TemplatedApp;

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

  /**
   * Listens on host:port (port 0 picks a free one); resolves with the port. The port is taken exclusively: by
   * default uWS listens with SO_REUSEPORT, and a second server on the same port would then start without a word and
   * take half the connections, answering them from its own data folder.
   */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onListen = (socket: us_listen_socket | false): void => {
        if (!socket) {
          reject(new VigilError('LISTEN_FAILED', `could not listen on ${host}:${port}: the port is in use by another program, `
            + 'or not allowed (choose another with --port or VIGIL_PORT)'));
          return;
        }
        this.#listen = socket;
        this.#port = this.#uws.us_socket_local_port(socket);
        resolve(this.#port);
      };
      // The native build takes listen options between the port and the callback, and exports the option itself;
      // its typings have neither.
      const exclusive = (this.#uws as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT;
      (this.#app.listen as unknown as ExclusiveListen).call(this.#app, host, port, exclusive, onListen);
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
