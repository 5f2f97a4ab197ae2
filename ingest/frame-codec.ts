/**
 * MessagePack framing for the device protocol: plain maps both ways (no msgpackr record
 * extension, which other clients would not understand), 64-bit integers as numbers (core/plain-msgpack.ts).
 */
import { plainPackr as packr, plainUnpackr as unpackr } from '../core/plain-msgpack.js';

export type ServerMessage =
  | { type: 'hello'; deviceId: string; lastSeq: number; policy: { heartbeatSeconds: number; categories: string[] } }
  | { type: 'ack'; upTo: number }
  | { type: 'reject'; seq: number | null; code: string; message: string }
  | { type: 'capture'; id: string; reason: string };

export function encodeFrame(value: unknown): Buffer {
  return packr.pack(value);
}

/** `{type: 'ack', upTo: ` as msgpackr writes it: a map16 of two entries, then the two fixstr keys and 'ack'. */
const ACK_HEAD = Buffer.from('de0002a474797065a361636ba47570546f', 'hex');

/**
 * The `ack` frame for `upTo`, byte for byte what `encodeFrame({ type: 'ack', upTo })` gives (a test holds them
 * equal), written directly: an ack goes out per device per commit, and a general encoder costs more than the
 * frame. Sequence numbers past 2^32 - 1 take the general encoder.
 */
export function encodeAck(upTo: number): Buffer {
  if (!Number.isInteger(upTo) || upTo < 0 || upTo > 0xffffffff) return packr.pack({ type: 'ack', upTo });
  const head = ACK_HEAD.length;
  if (upTo < 0x80) {
    const frame = Buffer.allocUnsafe(head + 1);
    ACK_HEAD.copy(frame);
    frame[head] = upTo;
    return frame;
  }
  const width = upTo <= 0xff ? 1 : upTo <= 0xffff ? 2 : 4;
  const frame = Buffer.allocUnsafe(head + 1 + width);
  ACK_HEAD.copy(frame);
  frame[head] = width === 1 ? 0xcc : width === 2 ? 0xcd : 0xce;
  frame.writeUIntBE(upTo, head + 1, width);
  return frame;
}

/**
 * Decodes one frame; throws when the bytes are not a single MessagePack value. msgpackr turns the
 * reserved byte 0xc1 into a marker object instead of failing, so anything that is not plain data fails here.
 */
export function decodeFrame(bytes: Uint8Array): unknown {
  const value: unknown = unpackr.unpack(bytes);
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
    && Object.getPrototypeOf(value) !== Object.prototype) {
    throw new TypeError('the frame holds a reserved MessagePack type');
  }
  return value;
}
