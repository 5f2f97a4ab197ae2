/**
 * MessagePack framing for the device protocol: plain maps both ways (no msgpackr record
 * extension, which other clients would not understand), 64-bit integers as numbers.
 */
import { Packr, Unpackr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export type ServerMessage =
  | { type: 'hello'; deviceId: string; lastSeq: number; policy: { heartbeatSeconds: number; categories: string[] } }
  | { type: 'ack'; upTo: number }
  | { type: 'reject'; seq: number | null; code: string; message: string }
  | { type: 'capture'; id: string; reason: string };

export function encodeFrame(value: unknown): Buffer {
  return packr.pack(value);
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
