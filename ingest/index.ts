/**
 * The ingest layer: the network edge. Device WebSockets come in through `DeviceGateway` (auth
 * before upgrade, one parse per frame, limits, journaling, acks) and leave as durable events handed
 * to the pipeline; downstream consumers read alerts through `FeedGateway`. `HttpServer` binds both
 * to one native uWebSockets.js app, with `/healthz` and `/metrics`; operators log in, review alerts,
 * read the audit log and administer through `OperatorApi` on the same app.
 */
export { DeviceGateway, CLOSE_NOT_READING, CLOSE_REPLACED, CLOSE_REVOKED, type DeviceConn, type JournalEntry } from './device-gateway.js';
export { FeedGateway, CLOSE_CURSOR_AHEAD } from './feed-gateway.js';
export { HttpServer } from './http-server.js';
export { OperatorApi, type OperatorApiOptions } from './operator-api.js';
export { OPENAPI_DOCUMENT } from './openapi.js';
export { isNativeUws, loadNativeUws } from './native-uws.js';
export { encodeFrame, decodeFrame, type ServerMessage } from './frame-codec.js';
export { parseEvent, type RejectCode } from './event-parser.js';
