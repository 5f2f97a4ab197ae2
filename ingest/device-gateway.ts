/**
 * The device side of PROTOCOL.md §1-3. A frame is decoded and validated once, checked against the
 * device's rate limit, sequence and lawful scope, then journaled; the device's cumulative `ack` goes
 * out only when the journal reports the event durable, and only then is the event handed to the
 * pipeline. Everything refused gets a `reject` with a code and is never stored.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { HttpRequest, HttpResponse, WebSocket, WebSocketBehavior, us_socket_context_t } from 'uWebSockets.js';
import type { Logger } from 'pino';
import { EVENT_CATEGORY, type DeviceEvent, type DeviceId, type EventType, type ImageEvent, type JournaledEvent, type IngestConfig, type Metrics, type PolicyConfig } from '../core/index.js';
import {
  entryFromFrame, entryPrefix, isActive, type DeviceScope, type DurablePage, type Journal, type RegistryStore,
} from '../store/index.js';
import type { ImageAnalyser, Pipeline, PipelinePage, UncheckedImage, UncheckedReason } from '../pipeline/index.js';
import { decodeFrame, encodeAck, encodeFrame, type ServerMessage } from './frame-codec.js';
import { imageRefusal, parseEvent, type RejectCode } from './event-parser.js';
import { SeqHoles } from './seq-holes.js';
import { TokenBucket } from './token-bucket.js';
import { bearer, sendError } from './http-util.js';

/**
 * Per-connection data uWS keeps for us. What every event is checked against is held here, in one object, rather
 * than reached through the scope's records: `allowed`, the bits (TYPE_BIT) of the event types whose category the
 * order authorises, and the order's `from` and `until`. `state` is the device's DeviceState.
 */
export interface DeviceConn {
  deviceId: DeviceId;
  state: DeviceState;
  scope: DeviceScope;
  allowed: number;
  from: number;
  until: number;
  lastSeqOnConn: number;
  closed: boolean;
}

const EVENT_TYPES = Object.keys(EVENT_CATEGORY) as EventType[];
const TYPE_BIT = Object.fromEntries(EVENT_TYPES.map((type, i) => [type, 1 << i])) as Readonly<Record<EventType, number>>;

/** Sets what the connection's events are checked against from the device's scope. */
function applyScope(conn: DeviceConn, scope: DeviceScope): void {
  conn.scope = scope;
  conn.allowed = 0;
  for (const type of EVENT_TYPES) if (scope.order.categories.includes(EVENT_CATEGORY[type])) conn.allowed |= TYPE_BIT[type];
  conn.from = scope.order.from;
  conn.until = scope.order.until;
}

/** Whether the connection's order authorises a screenshot taken now (an image event, PROTOCOL.md §3). */
function mayCapture(conn: DeviceConn, now: number): boolean {
  return (conn.allowed & TYPE_BIT.image) !== 0 && now >= conn.from && now <= conn.until;
}

/**
 * Why an image refused with `code` went unchecked, or undefined when it was not refused for what it is (OUT_OF_SCOPE:
 * never processed, by law; RATE_LIMITED: the device sends it again). On arrival only an image's size is looked at, so
 * IMAGE_TOO_LARGE there is its bytes; from the analyser, which has the same byte limit, it is its pixels (over
 * `ingest.maxImagePixels`, or too large to decode shrunk).
 */
function uncheckedReason(code: RejectCode, stage: UncheckedImage['stage']): UncheckedReason | undefined {
  if (code === 'IMAGE_UNDECODABLE') return 'undecodable';
  if (code === 'IMAGE_TOO_LARGE') return stage === 'arrival' ? 'bytes' : 'pixels';
  return undefined;
}

/** Per-device state that outlives connections. */
export interface DeviceState {
  acceptedSeq: number;
  durableSeq: number;
  bucket: TokenBucket;
  ws: WebSocket<DeviceConn> | undefined;
  ackPending: boolean;
  captures: { id: string; reason: string }[];
  /** An image of this device is being matched; later events wait behind it to keep journal order. */
  busy: boolean;
  waiting: Accepted[];
  /** Images refused after they were accepted, so that a resend gets the same answer. */
  lateRejects: Map<number, { code: RejectCode; message: string }>;
  /** Seqs at or below `acceptedSeq` that were never accepted: a frame with one of them is not a resend. */
  holes: SeqHoles;
  /**
   * Rejects and capture requests waiting for the device to read what the server has sent already (its socket is
   * backed up). They go out on `drain`, or after `hello` on its next connection, and before any ack: a reject
   * must reach the device before an ack whose `upTo` covers its seq.
   */
  outbox: Uint8Array[];
  /** How each of its journal entries begins (store/journal-codec.ts). */
  entryPrefix: Buffer;
}

/** `encoded`: the journal's value, made from the frame while its memory is still valid (store/journal-codec.ts). */
interface Accepted { event: DeviceEvent; receivedAt: number; encoded: Uint8Array | undefined }

/** What ingest appends to the journal. */
export interface JournalEntry extends JournaledEvent {
  /** performance.now() when the frame was read, for latency metrics. */
  receivedAt: number;
}

const SCOPE_REFRESH_MS = 2000;
const HARD_FRAME_CAP = 128 * 1024 * 1024;
const MAX_PENDING_CAPTURES = 16;
/** Events of one device that may wait behind an image being matched. */
const MAX_WAITING_PER_DEVICE = 1024;
const MAX_LATE_REJECTS = 32;
/** Replies a device may leave unread (its socket backed up) before it is disconnected; see `DeviceState.outbox`. */
const MAX_OUTBOX = 1024;
/** Close code for a device that does not read the server's replies (RFC 6455: try again later). */
export const CLOSE_NOT_READING = 1013;
export const CLOSE_REPLACED = 4000;
export const CLOSE_REVOKED = 4401;

export interface DeviceGatewayOptions {
  ingest: IngestConfig;
  policy: PolicyConfig;
  registry: RegistryStore;
  /** Takes the journal's pages once they are durable; how many events wait in it limits what is accepted. */
  pipeline: Pick<Pipeline, 'depth' | 'submit'>;
  images: ImageAnalyser;
  /**
   * Told, once a commit, of each device with events newly durable, and of each event refused after it was read (a
   * device turned away is still heard): the device's highest durable seq (heartbeat deadlines).
   */
  heard?: (deviceId: DeviceId, seq: number, now: number) => void;
  /**
   * Told of each image refused without being matched (IMAGE_TOO_LARGE, IMAGE_UNDECODABLE), on arrival or after
   * analysis, so that its device's manager learns that images went unchecked (`now` the wall time).
   */
  unchecked?: (deviceId: DeviceId, image: UncheckedImage, now: number) => void;
  maxPipelineDepth: number;
  metrics: Metrics;
  log: Logger;
}

export class DeviceGateway {
  readonly #o: DeviceGatewayOptions;
  readonly #devices = new Map<DeviceId, DeviceState>();
  #journal: Journal<JournalEntry> | undefined;
  #open = 0;
  readonly #timer: NodeJS.Timeout;
  /** `vigil_events_total` by event type, counted per accepted event. */
  readonly #accepted: Readonly<Record<EventType, { inc(): void }>>;
  /** The registry's generation when the live connections' scopes were last read (-1: never). */
  #scopeGeneration = -1;
  /** The earliest end of the orders of the connections open (-Infinity until the scopes are first gone through). */
  #earliestUntil = -Infinity;

  constructor(options: DeviceGatewayOptions) {
    this.#o = options;
    this.#accepted = Object.fromEntries(EVENT_TYPES.map((type) => [type, options.metrics.events.labelled({ type })])) as
      Record<EventType, { inc(): void }>;
    options.metrics.gauge('vigil_device_connections_open', 'Device WebSockets open now', () => this.#open);
    this.#timer = setInterval(() => this.#refreshScopes(), SCOPE_REFRESH_MS);
    this.#timer.unref();
  }

  /** The journal is created after the gateway because it reports back to it. */
  attach(journal: Journal<JournalEntry>): void { this.#journal = journal }

  get openConnections(): number { return this.#open }

  close(): void { clearInterval(this.#timer) }

  /** Closes every device connection (server shutdown): devices reconnect and resend what was not acked. */
  closeAll(): void {
    for (const st of this.#devices.values()) {
      const ws = st.ws;
      st.ws = undefined;
      if (ws && !ws.getUserData().closed) { ws.getUserData().closed = true; ws.close() }
    }
  }

  behavior(): WebSocketBehavior<DeviceConn> {
    return {
      // uWS drops a connection whose frame passes maxPayloadLength without a close frame (the client
      // sees 1006). To answer 1009 as the protocol says, uWS takes frames up to twice the limit and
      // #message closes with 1009 on anything over it; only frames past the hard cap are cut off abruptly.
      maxPayloadLength: Math.min(this.#o.ingest.maxFrameBytes * 2, HARD_FRAME_CAP),
      idleTimeout: this.#o.ingest.idleTimeoutSeconds,
      maxBackpressure: this.#o.ingest.maxBackpressureBytes,
      sendPingsAutomatically: true,
      upgrade: (res, req, ctx) => this.#upgrade(res, req, ctx),
      open: (ws) => this.#opened(ws),
      message: (ws, msg, isBinary) => this.#message(ws, msg, isBinary),
      drain: (ws) => this.#drained(ws),
      close: (ws) => this.#closed(ws),
    };
  }

  #upgrade(res: HttpResponse, req: HttpRequest, ctx: us_socket_context_t): void {
    const token = bearer(req);
    const scope = token === undefined ? null : this.#o.registry.authenticateDevice(token);
    if (!scope) {
      this.#o.metrics.authFailures.inc({ endpoint: 'device' });
      sendError(res, 401, 'UNAUTHORIZED', 'a valid device token is required (Authorization: Bearer <token>)');
      return;
    }
    const deviceId = scope.device.deviceId;
    const conn: DeviceConn = { deviceId, state: this.#state(deviceId), scope, allowed: 0, from: 0, until: 0, lastSeqOnConn: 0, closed: false };
    applyScope(conn, scope);
    res.upgrade(conn, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'), ctx);
  }

  #state(deviceId: DeviceId): DeviceState {
    let st = this.#devices.get(deviceId);
    if (!st) {
      const last = this.#journal?.lastSeq(deviceId) ?? 0;
      const { deviceRatePerSecond, deviceBurst } = this.#o.ingest;
      st = {
        acceptedSeq: last, durableSeq: last, bucket: new TokenBucket(deviceRatePerSecond, deviceBurst, Date.now()),
        ws: undefined, ackPending: false, captures: [], busy: false, waiting: [], lateRejects: new Map(),
        holes: new SeqHoles(last + 1), outbox: [], entryPrefix: entryPrefix(deviceId),
      };
      this.#devices.set(deviceId, st);
    }
    return st;
  }

  #opened(ws: WebSocket<DeviceConn>): void {
    const conn = ws.getUserData();
    const st = conn.state;
    if (st.ws) {
      const old = st.ws;
      st.ws = undefined;
      old.getUserData().closed = true;
      old.end(CLOSE_REPLACED, 'replaced by a newer connection of this device');
    }
    st.ws = ws;
    this.#earliestUntil = Math.min(this.#earliestUntil, conn.until);
    this.#open++;
    this.#o.metrics.connections.inc();
    const hello: ServerMessage = {
      type: 'hello', deviceId: conn.deviceId, lastSeq: st.durableSeq,
      policy: { heartbeatSeconds: this.#o.policy.heartbeatSeconds, categories: [...conn.scope.order.categories] },
    };
    // Rejects still owed from an earlier connection (closed for not reading them) come first: `lastSeq` may cover
    // their seqs, and a device must learn that an event was refused before it is told everything up to it is safe.
    if (st.outbox.length === 0) this.#send(ws, hello);
    else {
      st.outbox.push(encodeFrame(hello));
      this.#flushOutbox(st);
    }
    const captures = st.captures.splice(0);
    if (mayCapture(conn, Date.now())) for (const c of captures) this.#reply(st, ws, { type: 'capture', id: c.id, reason: c.reason });
  }

  #closed(ws: WebSocket<DeviceConn>): void {
    const conn = ws.getUserData();
    conn.closed = true;
    this.#open--;
    const st = this.#devices.get(conn.deviceId);
    if (st?.ws === ws) st.ws = undefined;
  }

  #drained(ws: WebSocket<DeviceConn>): void {
    const st = this.#devices.get(ws.getUserData().deviceId);
    if (!st || st.ws !== ws) return;
    if (st.outbox.length > 0) this.#flushOutbox(st);
    else if (st.ackPending) this.#sendAck(st);
  }

  #reject(ws: WebSocket<DeviceConn>, seq: number | null, code: RejectCode, message: string): void {
    this.#o.metrics.rejects.inc({ code });
    this.#reply(ws.getUserData().state, ws, { type: 'reject', seq, code, message });
  }

  /**
   * Sends a reply that must not be lost (a reject, a capture request), or keeps it in the device's outbox while
   * its socket is backed up. A device that leaves `MAX_OUTBOX` of them unread is disconnected: reading its frames
   * on would only pile up more, and nothing is lost (it resends what was not acked).
   */
  #reply(st: DeviceState, ws: WebSocket<DeviceConn>, msg: ServerMessage, mustKeep = false): void {
    if (st.outbox.length >= MAX_OUTBOX && !mustKeep) return; // the connection is being closed for it (below)
    st.outbox.push(encodeFrame(msg));
    this.#flushOutbox(st);
    if (st.outbox.length >= MAX_OUTBOX && !ws.getUserData().closed) {
      ws.getUserData().closed = true;
      ws.end(CLOSE_NOT_READING, 'the device is not reading the server\'s replies; reconnect and read them');
    }
  }

  /** Sends what waits in the device's outbox, as far as its socket takes it. */
  #flushOutbox(st: DeviceState): void {
    const ws = st.ws;
    if (!ws || st.outbox.length === 0 || ws.getUserData().closed) return;
    ws.cork(() => {
      let sent = 0;
      while (sent < st.outbox.length && !ws.getUserData().closed && !this.#backedUp(ws)) {
        if (ws.send(st.outbox[sent]!, true) === 2) break;
        sent++;
      }
      st.outbox.splice(0, sent);
    });
    if (st.outbox.length === 0 && st.ackPending) this.#sendAck(st);
  }

  #backedUp(ws: WebSocket<DeviceConn>): boolean {
    return ws.getBufferedAmount() > this.#o.ingest.maxBackpressureBytes / 2;
  }

  #send(ws: WebSocket<DeviceConn>, msg: ServerMessage): number {
    if (ws.getUserData().closed) return 2;
    return ws.send(encodeFrame(msg), true);
  }

  #message(ws: WebSocket<DeviceConn>, msg: ArrayBuffer, isBinary: boolean): void {
    const receivedAt = performance.now();
    const conn = ws.getUserData();
    if (conn.closed) return; // being closed by the server: what it still reads is not answered, and is resent
    if (!isBinary) {
      this.#o.metrics.rejects.inc({ code: 'TEXT_FRAME' });
      ws.end(1003, 'frames must be binary MessagePack');
      return;
    }
    if (msg.byteLength > this.#o.ingest.maxFrameBytes) {
      this.#o.metrics.rejects.inc({ code: 'FRAME_TOO_LARGE' });
      ws.end(1009, `frames are limited to ${this.#o.ingest.maxFrameBytes} bytes`);
      return;
    }
    // A Buffer over the frame's memory (no copy): msgpackr reads its strings with Buffer's native latin1Slice when
    // they are ASCII, and builds them from an array of char codes when given a plain Uint8Array.
    const frame = Buffer.from(msg);
    let decoded: unknown;
    try {
      decoded = decodeFrame(frame);
    } catch {
      this.#reject(ws, null, 'BAD_FRAME', 'the frame is not valid MessagePack');
      return;
    }
    const parsed = parseEvent(decoded);
    if (!parsed.ok) {
      if (parsed.seq !== null) conn.lastSeqOnConn = Math.max(conn.lastSeqOnConn, parsed.seq);
      this.#reject(ws, parsed.seq, parsed.code, parsed.message);
      return;
    }
    const event = parsed.event;
    const st = conn.state;
    if (event.seq <= st.acceptedSeq) {
      conn.lastSeqOnConn = Math.max(conn.lastSeqOnConn, event.seq);
      const late = st.lateRejects.get(event.seq);
      if (late) this.#reject(ws, event.seq, late.code, late.message);
      else if (st.holes.has(event.seq)) {
        this.#reject(ws, event.seq, 'SEQ_REGRESSION', `seq ${event.seq} was never stored (it was refused, or skipped); `
          + `seqs only go up: number new events above ${st.acceptedSeq}`);
      } else if (event.seq <= st.durableSeq) this.#sendAck(st); // a resend of a stored event: acked again, not processed
      // else: a resend of an event on its way to disk, acked with it
      return;
    }
    if (event.seq <= conn.lastSeqOnConn) {
      this.#reject(ws, event.seq, 'SEQ_REGRESSION',
        `seq ${event.seq} is not above ${conn.lastSeqOnConn}, the last seq sent on this connection`);
      return;
    }
    conn.lastSeqOnConn = event.seq;
    const wallNow = Date.now();
    const refusal = this.#refusal(conn, st, event, wallNow);
    if (refusal) {
      this.#reject(ws, event.seq, refusal[0], refusal[1]);
      this.#unchecked(conn.deviceId, event, refusal[0], 'arrival', wallNow);
      // Refused, but heard: a device whose events the server turns away (RATE_LIMITED while it is busy) is not silent.
      this.#o.heard?.(conn.deviceId, st.durableSeq, wallNow);
      return;
    }
    // An image's bytes are a view of the frame, whose memory uWS takes back when this callback returns: copied
    // now that it is accepted (a refused one never is, whatever its size).
    if (event.type === 'image') event.bytes = new Uint8Array(event.bytes);
    st.holes.accepted(st.acceptedSeq, event.seq);
    st.acceptedSeq = event.seq;
    this.#accepted[event.type].inc();
    this.#o.metrics.eventAge.observe(Math.max(0, wallNow - event.at) / 1000);
    const accepted: Accepted = { event, receivedAt, encoded: entryFromFrame(st.entryPrefix, event, frame) };
    if (st.busy) st.waiting.push(accepted);
    else this.#dispatch(conn.deviceId, st, accepted);
  }

  /**
   * Journals an accepted event, or for an image first has it matched (images are never journaled
   * raw). While an image is out, the device's later events wait, so the journal — and so the
   * cumulative ack — stays in sequence order.
   */
  #dispatch(deviceId: DeviceId, st: DeviceState, item: Accepted): void {
    const { event, receivedAt, encoded } = item;
    if (event.type !== 'image') {
      this.#journal!.append({ deviceId, event, receivedAt, encoded });
      return;
    }
    st.busy = true;
    this.#o.images.analyse(deviceId, event as ImageEvent).then((outcome) => {
      if (outcome.ok) this.#journal!.append({ deviceId, event: outcome.event, receivedAt });
      else this.#lateReject(deviceId, st, event, outcome.code, outcome.message);
    }, (err: unknown) => {
      this.#o.log.error({ err, deviceId, seq: event.seq }, 'image analysis failed');
      this.#lateReject(deviceId, st, event, 'IMAGE_UNDECODABLE', 'the image could not be processed');
    }).finally(() => {
      st.busy = false;
      while (!st.busy && st.waiting.length > 0) this.#dispatch(deviceId, st, st.waiting.shift()!);
    });
  }

  #lateReject(deviceId: DeviceId, st: DeviceState, event: DeviceEvent, code: RejectCode, message: string): void {
    const seq = event.seq;
    st.lateRejects.set(seq, { code, message });
    if (st.lateRejects.size > MAX_LATE_REJECTS) st.lateRejects.delete(st.lateRejects.keys().next().value as number);
    st.holes.refused(seq);
    this.#o.metrics.rejects.inc({ code });
    const ws = st.ws;
    const msg: ServerMessage = { type: 'reject', seq, code, message };
    // Kept even past MAX_OUTBOX (one image of a device is analysed at a time): later events may be stored, and then
    // a hello or an ack would cover the image's seq, and the device would take the refused image for stored.
    if (ws && !ws.getUserData().closed) this.#reply(st, ws, msg, true);
    else st.outbox.push(encodeFrame(msg)); // told first on its next connection
    this.#unchecked(deviceId, event, code, 'analysis', Date.now());
  }

  /** Reports an image refused unchecked (see `uncheckedReason`); other refusals are left out. */
  #unchecked(deviceId: DeviceId, event: DeviceEvent, code: RejectCode, stage: UncheckedImage['stage'], now: number): void {
    const reason = uncheckedReason(code, stage);
    if (reason === undefined || event.type !== 'image' || !this.#o.unchecked) return;
    this.#o.unchecked(deviceId, { seq: event.seq, at: event.at, reason, stage }, now);
  }

  /** Why an otherwise valid event must be refused, or undefined to accept it. */
  #refusal(conn: DeviceConn, st: DeviceState, event: DeviceEvent, now: number): [RejectCode, string] | undefined {
    if ((conn.allowed & TYPE_BIT[event.type]) === 0) {
      return ['OUT_OF_SCOPE', `order ${conn.scope.order.ref} does not authorise the ${EVENT_CATEGORY[event.type]} category`];
    }
    if (event.at < conn.from || event.at > conn.until) {
      const order = conn.scope.order;
      return ['OUT_OF_SCOPE', `event time ${new Date(event.at).toISOString()} is outside order ${order.ref} `
        + `(${new Date(order.from).toISOString()} to ${new Date(order.until).toISOString()})`];
    }
    if (event.type === 'image') {
      const refused = imageRefusal(event as ImageEvent, this.#o.ingest);
      if (refused) return refused;
    }
    if (!st.bucket.take(now)) {
      return ['RATE_LIMITED', `more than ${this.#o.ingest.deviceRatePerSecond} events/s from this device; slow down`];
    }
    if (this.#o.pipeline.depth >= this.#o.maxPipelineDepth) {
      return ['RATE_LIMITED', 'the server is busy matching earlier events; retry shortly'];
    }
    if (event.type === 'image' && this.#o.images.full) {
      return ['RATE_LIMITED', 'the server is busy with other images; retry shortly'];
    }
    if (st.waiting.length >= MAX_WAITING_PER_DEVICE) {
      return ['RATE_LIMITED', 'too many events waiting behind this device\'s images; retry shortly'];
    }
    return undefined;
  }

  /** Journal listener: events became durable. Ack each device once, then hand the pages on. */
  durable(entries: JournalEntry[], pages: DurablePage[]): void {
    const touched = new Map<DeviceState, DeviceId>();
    const now = performance.now();
    const receivedAt = new Float64Array(entries.length);
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k]!;
      receivedAt[k] = e.receivedAt;
      const st = this.#devices.get(e.deviceId);
      if (!st) continue;
      if (e.event.seq > st.durableSeq) st.durableSeq = e.event.seq;
      touched.set(st, e.deviceId);
      this.#o.metrics.ackLatency.observe((now - e.receivedAt) / 1000);
    }
    for (const st of touched.keys()) this.#sendAck(st);
    const heard = this.#o.heard;
    if (heard) {
      const wall = Date.now();
      for (const [st, deviceId] of touched) heard(deviceId, st.durableSeq, wall);
    }
    const handed: PipelinePage[] = [];
    let first = 0;
    for (const { key, value, size } of pages) {
      handed.push({ key, bytes: value, size, receivedAt: receivedAt.subarray(first, first + size) });
      first += size;
    }
    this.#o.pipeline.submit(handed);
  }

  /** Journal listener: a commit failed. Nothing is acked; the devices resend after reconnecting. */
  failed(entries: JournalEntry[], err: unknown): void {
    this.#o.log.error({ err, events: entries.length }, 'journal commit failed; closing the devices concerned');
    for (const e of entries) {
      const st = this.#devices.get(e.deviceId);
      if (!st) continue;
      st.acceptedSeq = st.durableSeq;
      st.holes.truncateAbove(st.durableSeq);
      st.waiting.length = 0;
      const ws = st.ws;
      if (ws && !ws.getUserData().closed) {
        ws.getUserData().closed = true;
        ws.end(1011, 'could not store events; reconnect and resend');
      }
    }
  }

  /** Sends the cumulative ack, or defers it to `drain` when the socket is backed up. */
  #sendAck(st: DeviceState): void {
    const ws = st.ws;
    if (!ws || ws.getUserData().closed) return;
    if (st.outbox.length > 0 || this.#backedUp(ws)) {
      st.ackPending = true;
      return;
    }
    st.ackPending = false;
    const frame = encodeAck(st.durableSeq);
    ws.cork(() => ws.send(frame, true));
  }

  /**
   * Asks a device for a screenshot (PROTOCOL.md §3). If it is not connected, the request waits
   * (a few at most) and goes out on its next connection. Returns the capture id, or undefined when the
   * device's order does not authorise images: the screenshot would be taken only to be refused OUT_OF_SCOPE.
   */
  requestCapture(deviceId: DeviceId, reason: string): string | undefined {
    const id = `cap-${randomBytes(8).toString('hex')}`;
    const st = this.#state(deviceId);
    const ws = st.ws;
    if (ws && !ws.getUserData().closed) {
      if (!mayCapture(ws.getUserData(), Date.now())) return undefined;
      this.#reply(st, ws, { type: 'capture', id, reason });
    } else if (st.captures.length < MAX_PENDING_CAPTURES) st.captures.push({ id, reason });
    return id;
  }

  /**
   * Orders change, tokens get revoked and orders end while devices are connected. The scopes are re-read only
   * when the registry's generation has moved (reading them all took about 10 µs a device on ingest's thread, timed
   * by hand); otherwise only the clock can have ended an order, and the connections are gone through only once the
   * earliest of their orders' ends has passed.
   */
  #refreshScopes(): void {
    const now = Date.now();
    const generation = this.#o.registry.generation();
    const reread = generation !== this.#scopeGeneration;
    if (!reread && now <= this.#earliestUntil) return; // nothing written, and no order of a live connection has ended
    this.#scopeGeneration = generation;
    let earliest = Infinity;
    for (const st of this.#devices.values()) {
      const ws = st.ws;
      if (!ws) continue;
      const conn = ws.getUserData();
      const scope = reread ? this.#o.registry.deviceScope(conn.deviceId) : conn.scope;
      if (!scope || !isActive(scope, now)) {
        conn.closed = true;
        ws.end(CLOSE_REVOKED, 'device token revoked or order ended');
        continue;
      }
      if (reread) applyScope(conn, scope);
      earliest = Math.min(earliest, conn.until);
    }
    this.#earliestUntil = earliest;
  }
}
