/**
 * The floor: what this machine does at all with 1,000 device sockets and the generator beside it. A
 * uWebSockets.js server that checks the token at upgrade, decodes each frame (with Vigil's own codec), and
 * acks every device with new events once per event-loop turn (as Vigil does after each group commit, here with no commit
 * at all): no storage, no scope checks, no matching. It keeps nothing, so its acks promise nothing; it
 * exists only to show how much of an ack latency is the machine's own (loopback TCP, the generator and
 * the server on two cores) and how much is Vigil's work.
 * Run: node dist/bench/floor-uws-server.js <dataDir> ; prints {"port":N} when listening.
 */
import type { WebSocket } from 'uWebSockets.js';
import { loadNativeUws } from '../ingest/native-uws.js';
import { bearer } from '../ingest/http-util.js';
import { decodeFrame, encodeAck, encodeFrame } from '../ingest/frame-codec.js';
import { RegistryStore, openDatabases } from '../store/index.js';
import type { DeviceId } from '../core/index.js';
import { benchCommand } from './bench-command.js';

const { positionals: { dataDir } } = benchCommand({
  run: 'node dist/bench/floor-uws-server.js',
  summary: 'The floor: a uWebSockets.js server that checks the token, decodes each frame and acks once per event-loop turn,\n'
    + 'storing nothing. Prints {"port":N} when listening (on a free port of 127.0.0.1); bench/ingest.js starts it.',
  options: {},
  positionals: ['dataDir'],
});
const uws = loadNativeUws();
const db = openDatabases(dataDir);
const registry = new RegistryStore(db);

interface Conn { deviceId: DeviceId; categories: readonly string[]; upTo: number; closed: boolean }

/** Sockets with events not yet acked; acked together once per event-loop turn, as after a group commit that costs nothing. */
const due = new Set<WebSocket<Conn>>();
let scheduled = false;
function ackDue(): void {
  scheduled = false;
  for (const ws of due) if (!ws.getUserData().closed) ws.cork(() => ws.send(encodeAck(ws.getUserData().upTo), true));
  due.clear();
}

const app = uws.App();
app.ws<Conn>('/v1/device', {
  maxPayloadLength: 16 * 1024 * 1024,
  idleTimeout: 120,
  upgrade(res, req, context) {
    const token = bearer(req);
    const scope = token === undefined ? null : registry.authenticateDevice(token);
    if (!scope) { res.writeStatus('401 Unauthorized').end(); return }
    res.upgrade<Conn>({ deviceId: scope.device.deviceId, categories: scope.order.categories, upTo: 0, closed: false },
      req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  },
  open(ws) {
    const { deviceId, categories } = ws.getUserData();
    ws.send(encodeFrame({ type: 'hello', deviceId, lastSeq: 0, policy: { heartbeatSeconds: 300, categories } }), true);
  },
  message(ws, msg) {
    const event = decodeFrame(new Uint8Array(msg)) as { seq: number };
    ws.getUserData().upTo = event.seq;
    due.add(ws);
    if (!scheduled) { scheduled = true; setImmediate(ackDue) }
  },
  close(ws) {
    ws.getUserData().closed = true;
    due.delete(ws);
  },
});
app.listen('127.0.0.1', 0, (listen) => {
  if (!listen) { console.error('could not listen'); process.exit(1) }
  console.log(JSON.stringify({ port: uws.us_socket_local_port(listen) }));
  process.on('SIGTERM', () => { uws.us_listen_socket_close(listen); void db.root.close().then(() => process.exit(0)) });
});
