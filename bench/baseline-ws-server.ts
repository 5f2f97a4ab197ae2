/**
 * The baseline Vigil's ingest is measured against: a minimal server on the `ws` package that does the
 * same durable work per event — token check at upgrade, MessagePack decode, LMDB journal with group
 * commit, cumulative ack after flush — and nothing else (no scope checks, no matching, no metrics).
 * Run: node dist/bench/baseline-ws-server.js <dataDir> ; prints {"port":N} when listening.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { Packr, Unpackr } from 'msgpackr';
import { Journal, RegistryStore, openDatabases } from '../store/index.js';
import type { DeviceId, JournaledEvent, StoredEvent } from '../core/index.js';
import { benchCommand } from './bench-command.js';

const { positionals: { dataDir } } = benchCommand({
  run: 'node dist/bench/baseline-ws-server.js',
  summary: 'The baseline Vigil\'s ingest is measured against: a minimal `ws` server that checks the token, journals each\n'
    + 'event in LMDB with group commit and acks cumulatively, nothing else. Prints {"port":N} when listening (on a free\n'
    + 'port of 127.0.0.1); bench/ingest.js and vigil bench start it.',
  options: {},
  positionals: ['dataDir'],
});
const db = openDatabases(dataDir);
const registry = new RegistryStore(db);
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const sockets = new Map<DeviceId, { ws: WebSocket; durable: number }>();

const journal = new Journal<JournaledEvent>(db, 4096, {
  durable(entries) {
    const touched = new Set<DeviceId>();
    for (const e of entries) {
      const s = sockets.get(e.deviceId);
      if (s && e.event.seq > s.durable) { s.durable = e.event.seq; touched.add(e.deviceId) }
    }
    for (const id of touched) { const s = sockets.get(id)!; s.ws.send(packr.pack({ type: 'ack', upTo: s.durable })) }
  },
  failed(_entries, err) { console.error('journal failed', err) },
});

const server = createServer();
const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  const scope = m?.[1] ? registry.authenticateDevice(m[1]) : null;
  if (!scope) { socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n'); return }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const deviceId = scope.device.deviceId;
    const last = journal.lastSeq(deviceId);
    sockets.set(deviceId, { ws, durable: last });
    ws.send(packr.pack({ type: 'hello', deviceId, lastSeq: last, policy: { heartbeatSeconds: 300, categories: scope.order.categories } }));
    ws.on('message', (data: Buffer) => {
      const event = unpackr.unpack(data) as StoredEvent;
      journal.append({ deviceId, event });
    });
    ws.on('close', () => sockets.delete(deviceId));
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  console.log(JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 }));
});
process.on('SIGTERM', () => { server.close(); for (const c of wss.clients) c.terminate(); void db.root.close().then(() => process.exit(0)) });
