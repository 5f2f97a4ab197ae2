/**
 * How journal entries are stored. Each group commit writes one record, a page: a MessagePack array (always
 * the 32-bit form, so that a page is told from a lone entry by its first byte) of the commit's entries, each
 * the bytes of one plain MessagePack array `[deviceId, event]`, with the
 * event as a map of exactly its fields. Ingest has each event's frame at hand, and a frame holding
 * exactly the event's fields already is that map, so the entry is then the frame's bytes behind a
 * short prefix, with no encoding at all. Re-encoding every event with the store's general encoder took
 * about a sixth of the server's main thread at 50,000 events/s (CPU profile of bench/ingest.ts).
 *
 * A frame is used only when its map has as many keys as the parsed event has fields: every key then
 * became a field, so nothing the order does not need (a field this version does not know) is kept.
 * Otherwise, and for images (stored after analysis, not as sent), the event is encoded here.
 *
 * Earlier versions stored one entry per record; such records are still read (`decodeRecord`).
 */
import { asDeviceId, type DeviceId } from '../core/ids.js';
import type { DeviceEvent, StoredEvent } from '../core/events.js';
import { plainPackr, plainUnpackr } from '../core/plain-msgpack.js';

const FIXARRAY_2 = 0x92;
const ARRAY_32 = 0xdd;
const PAGE_HEADER_BYTES = 5;

/** Number of entries a MessagePack map announces, or -1 when the bytes do not start with a map. */
function mapSize(frame: Uint8Array): number {
  const b = frame[0];
  if (b === undefined) return -1;
  if (b >= 0x80 && b <= 0x8f) return b & 0x0f;
  if (b === 0xde && frame.length >= 3) return (frame[1]! << 8) | frame[2]!;
  return -1; // map32 (0xdf) would mean 65,536 keys or more: never an event's
}

/** What every entry of the device starts with, `[deviceId, ` as MessagePack (ingest keeps one per device). */
export function entryPrefix(deviceId: DeviceId): Buffer {
  const idBytes = Buffer.byteLength(deviceId);
  const header = idBytes < 32 ? 1 : idBytes < 256 ? 2 : 3;
  const out = Buffer.allocUnsafe(1 + header + idBytes);
  out[0] = FIXARRAY_2;
  if (header === 1) out[1] = 0xa0 | idBytes;
  else if (header === 2) { out[1] = 0xd9; out[2] = idBytes }
  else { out[1] = 0xda; out.writeUInt16BE(idBytes, 2) }
  out.write(deviceId, 1 + header);
  return out;
}

/** The entry: the prefix, then the event's map (copied: a frame's memory is reused once its callback returns). */
function entry(prefix: Uint8Array, map: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(prefix.byteLength + map.byteLength);
  out.set(prefix, 0);
  out.set(map, prefix.byteLength);
  return out;
}

/**
 * The entry for an event straight from the device's frame, or undefined when the frame holds more than the
 * event's fields. `prefix` is `entryPrefix(deviceId)`.
 */
export function entryFromFrame(prefix: Uint8Array, event: DeviceEvent, frame: Uint8Array): Buffer | undefined {
  if (event.type === 'image' || mapSize(frame) !== fieldCount(event)) return undefined;
  return entry(prefix, frame);
}

/** The event's own fields, counted without making an array of them (this runs for every event). */
function fieldCount(event: DeviceEvent): number {
  let n = 0;
  for (const key in event) if (Object.hasOwn(event, key)) n++;
  return n;
}

/** The entry for an event, encoded here. */
export function encodeEntry(deviceId: DeviceId, event: StoredEvent): Buffer {
  return entry(entryPrefix(deviceId), plainPackr.pack(event));
}

export function decodeEntry(value: Uint8Array): { deviceId: DeviceId; event: StoredEvent } {
  return checkEntry(plainUnpackr.unpack(value));
}

function checkEntry(decoded: unknown): { deviceId: DeviceId; event: StoredEvent } {
  if (!Array.isArray(decoded) || decoded.length !== 2 || typeof decoded[0] !== 'string'
    || typeof decoded[1] !== 'object' || decoded[1] === null) {
    throw new Error('a journal entry must be [deviceId, event]');
  }
  return { deviceId: asDeviceId(decoded[0]), event: decoded[1] as StoredEvent };
}

/** A page holding `entries` (each from `encodeEntry` or `entryFromFrame`) in their order. */
export function encodePage(entries: readonly Uint8Array[]): Buffer {
  let size = PAGE_HEADER_BYTES;
  for (const e of entries) size += e.byteLength;
  const out = Buffer.allocUnsafe(size);
  out[0] = ARRAY_32;
  out.writeUInt32BE(entries.length, 1);
  let at = PAGE_HEADER_BYTES;
  for (const e of entries) { out.set(e, at); at += e.byteLength }
  return out;
}

/** Number of entries in a record (a page, or a lone entry written by an earlier version), from its first bytes. */
export function recordSize(value: Uint8Array): number {
  if (value[0] !== ARRAY_32) return 1;
  if (value.byteLength < PAGE_HEADER_BYTES) throw new Error('a journal page is cut short');
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(1);
}

/** The entries of a record, in order: those of a page, or the one entry an earlier version wrote alone. */
export function decodeRecord(value: Uint8Array): { deviceId: DeviceId; event: StoredEvent }[] {
  if (value[0] !== ARRAY_32) return [decodeEntry(value)];
  const decoded: unknown = plainUnpackr.unpack(value);
  if (!Array.isArray(decoded)) throw new Error('a journal page must be an array of entries');
  return decoded.map(checkEntry);
}
