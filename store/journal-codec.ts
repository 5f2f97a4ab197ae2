/**
 * How a journal entry is stored: the bytes of one plain MessagePack array `[deviceId, event]`, with the
 * event as a map of exactly its fields. Ingest has each event's frame at hand, and a frame holding
 * exactly the event's fields already is that map, so the entry is then the frame's bytes behind a
 * short prefix, with no encoding at all. Re-encoding every event with the store's general encoder took
 * about a sixth of the server's main thread at 50,000 events/s (CPU profile of bench/ingest.ts).
 *
 * A frame is used only when its map has as many keys as the parsed event has fields: every key then
 * became a field, so nothing the order does not need (a field this version does not know) is kept.
 * Otherwise, and for images (stored after analysis, not as sent), the event is encoded here.
 */
import { Packr, Unpackr } from 'msgpackr';
import { asDeviceId, type DeviceId } from '../core/ids.js';
import type { DeviceEvent, StoredEvent } from '../core/events.js';

/** The same plain MessagePack as device frames (ingest/frame-codec.ts): no record extension. */
const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

const FIXARRAY_2 = 0x92;

/** Number of entries a MessagePack map announces, or -1 when the bytes do not start with a map. */
function mapSize(frame: Uint8Array): number {
  const b = frame[0];
  if (b === undefined) return -1;
  if (b >= 0x80 && b <= 0x8f) return b & 0x0f;
  if (b === 0xde && frame.length >= 3) return (frame[1]! << 8) | frame[2]!;
  return -1; // map32 (0xdf) would mean 65,536 keys or more: never an event's
}

/** `[deviceId, ` as MessagePack: the array header and the id as a str. */
function writePrefix(deviceId: string, extra: number): { out: Buffer; at: number } {
  const idBytes = Buffer.byteLength(deviceId);
  const header = idBytes < 32 ? 1 : idBytes < 256 ? 2 : 3;
  const out = Buffer.allocUnsafe(1 + header + idBytes + extra);
  out[0] = FIXARRAY_2;
  if (header === 1) out[1] = 0xa0 | idBytes;
  else if (header === 2) { out[1] = 0xd9; out[2] = idBytes }
  else { out[1] = 0xda; out.writeUInt16BE(idBytes, 2) }
  out.write(deviceId, 1 + header);
  return { out, at: 1 + header + idBytes };
}

/** What every entry of the device starts with (ingest keeps one per device: `entryFromFrame` takes it). */
export function entryPrefix(deviceId: DeviceId): Buffer {
  return writePrefix(deviceId, 0).out;
}

/**
 * The entry for an event straight from the device's frame (copied: the frame's memory is reused once
 * the message callback returns), or undefined when the frame holds more than the event's fields.
 * `prefix` is `entryPrefix(deviceId)`.
 */
export function entryFromFrame(prefix: Uint8Array, event: DeviceEvent, frame: Uint8Array): Buffer | undefined {
  if (event.type === 'image' || mapSize(frame) !== Object.keys(event).length) return undefined;
  const out = Buffer.allocUnsafe(prefix.byteLength + frame.byteLength);
  out.set(prefix, 0);
  out.set(frame, prefix.byteLength);
  return out;
}

/** The entry for an event, encoded here. */
export function encodeEntry(deviceId: DeviceId, event: StoredEvent): Buffer {
  const map = packr.pack(event);
  const { out, at } = writePrefix(deviceId, map.byteLength);
  out.set(map, at);
  return out;
}

export function decodeEntry(value: Uint8Array): { deviceId: DeviceId; event: StoredEvent } {
  const decoded: unknown = unpackr.unpack(value);
  if (!Array.isArray(decoded) || decoded.length !== 2 || typeof decoded[0] !== 'string'
    || typeof decoded[1] !== 'object' || decoded[1] === null) {
    throw new Error('a journal entry must be [deviceId, event]');
  }
  return { deviceId: asDeviceId(decoded[0]), event: decoded[1] as StoredEvent };
}
