/**
 * Parses one decoded device frame into a typed event, validating every field (PROTOCOL.md §2).
 * A bad event is a value, not an exception: the device gets a `reject` with its code and a message
 * that names the field. Strings are length-limited, and image bytes are copied out of the frame
 * (uWS reuses the frame's memory after the callback returns).
 */
import type { DeviceEvent, EventType, ImageEvent } from '../core/events.js';

export type RejectCode =
  | 'BAD_EVENT' | 'BAD_FRAME' | 'OUT_OF_SCOPE' | 'SEQ_REGRESSION' | 'RATE_LIMITED'
  | 'IMAGE_TOO_LARGE' | 'IMAGE_UNDECODABLE';

export type ParseResult =
  | { ok: true; event: DeviceEvent }
  | { ok: false; seq: number | null; code: RejectCode; message: string };

export interface ParseLimits { maxImageBytes: number }

const MAX_TEXT = 64 * 1024;
const MAX_NAME = 512;
const MAX_URL = 8192;
const MAX_DOMAIN = 253;
const MAX_DETAIL = 2048;
/** The latest time a Date can hold (ECMA-262 §21.4.1.1): a later `at` is no time at all, and would not print. */
const MAX_TIME = 8.64e15;

const TEXT_SOURCES = ['typed', 'screen'] as const;
const APP_ACTIONS = ['installed', 'launched', 'uninstalled'] as const;
const IMAGE_SOURCES = ['screenshot', 'camera', 'download', 'gallery'] as const;

class FieldError { constructor(readonly message: string, readonly code: RejectCode = 'BAD_EVENT') {} }

type Raw = Record<string, unknown>;

function str(raw: Raw, key: string, max: number, optional: true): string | undefined;
function str(raw: Raw, key: string, max: number, optional?: false): string;
function str(raw: Raw, key: string, max: number, optional = false): string | undefined {
  const v = raw[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string') throw new FieldError(`${key} must be a string`);
  if (!optional && v.length === 0) throw new FieldError(`${key} must not be empty`);
  if (v.length > max) throw new FieldError(`${key} is longer than ${max} characters`);
  return v;
}

function num(raw: Raw, key: string, min: number, max: number, optional: true): number | undefined;
function num(raw: Raw, key: string, min: number, max: number, optional?: false): number;
function num(raw: Raw, key: string, min: number, max: number, optional = false): number | undefined {
  const v = raw[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldError(`${key} must be a number`);
  if (v < min || v > max) throw new FieldError(`${key} must be between ${min} and ${max}`);
  return v;
}

function oneOf<T extends string>(raw: Raw, key: string, allowed: readonly T[]): T {
  const v = raw[key];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new FieldError(`${key} must be one of ${allowed.join(', ')}`);
  }
  return v as T;
}

/** Adds an optional field only when present (the types use exactOptionalPropertyTypes). */
function withOptional<T extends object, K extends string, V>(obj: T, key: K, value: V | undefined): T {
  if (value !== undefined) (obj as Record<string, unknown>)[key] = value;
  return obj;
}

/**
 * Each event's `type` is written as a literal rather than passed on from the frame: a literal is one interned
 * string, whose hash is known, for the lookups by type that every event goes through; the frame's is a new string.
 */
function parseBody(type: EventType, raw: Raw, seq: number, at: number): DeviceEvent {
  switch (type) {
    case 'heartbeat': {
      const e: DeviceEvent = { type: 'heartbeat', seq, at };
      withOptional(e, 'battery', num(raw, 'battery', 0, 100, true));
      return withOptional(e, 'agentVersion', str(raw, 'agentVersion', 64, true));
    }
    case 'text':
      return { type: 'text', seq, at, app: str(raw, 'app', MAX_NAME), text: strAllowEmpty(raw, 'text', MAX_TEXT), source: oneOf(raw, 'source', TEXT_SOURCES) };
    case 'dns':
      return withOptional({ type: 'dns', seq, at, domain: str(raw, 'domain', MAX_DOMAIN) }, 'app', str(raw, 'app', MAX_NAME, true));
    case 'url':
      return withOptional({ type: 'url', seq, at, url: str(raw, 'url', MAX_URL) }, 'app', str(raw, 'app', MAX_NAME, true));
    case 'app':
      return { type: 'app', seq, at, package: str(raw, 'package', MAX_NAME), action: oneOf(raw, 'action', APP_ACTIONS) };
    case 'image': {
      const bytes = raw.bytes;
      if (!(bytes instanceof Uint8Array)) throw new FieldError('bytes must be binary (MessagePack bin)');
      // The decoder's view of the frame's memory: the gateway copies it once the event is accepted.
      const e: DeviceEvent = { type: 'image', seq, at, bytes, source: oneOf(raw, 'source', IMAGE_SOURCES) };
      return withOptional(e, 'captureId', str(raw, 'captureId', 128, true));
    }
    case 'tamper':
      return withOptional({ type: 'tamper', seq, at, signal: str(raw, 'signal', 64) }, 'detail', str(raw, 'detail', MAX_DETAIL, true));
    case 'location':
      return {
        type: 'location', seq, at,
        lat: num(raw, 'lat', -90, 90), lon: num(raw, 'lon', -180, 180), accuracyM: num(raw, 'accuracyM', 0, 1e7),
      };
  }
}

function strAllowEmpty(raw: Raw, key: string, max: number): string {
  const v = raw[key];
  if (typeof v !== 'string') throw new FieldError(`${key} must be a string`);
  if (v.length > max) throw new FieldError(`${key} is longer than ${max} characters`);
  return v;
}

/**
 * Why an image event's bytes are refused before they are decoded, if they are. Asked after the scope checks, so
 * that an image the order does not authorise is refused as OUT_OF_SCOPE whatever its size.
 */
export function imageRefusal(event: ImageEvent, limits: ParseLimits): [RejectCode, string] | undefined {
  const n = event.bytes.byteLength;
  if (n > limits.maxImageBytes) return ['IMAGE_TOO_LARGE', `image is ${n} bytes; the limit is ${limits.maxImageBytes}`];
  if (n === 0) return ['IMAGE_UNDECODABLE', 'image bytes are empty'];
  return undefined;
}

const EVENT_TYPES: ReadonlySet<string> = new Set(['heartbeat', 'text', 'dns', 'url', 'app', 'image', 'tamper', 'location']);

/** Validates a decoded MessagePack value as a device event. */
export function parseEvent(decoded: unknown): ParseResult {
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded) || decoded instanceof Uint8Array) {
    return { ok: false, seq: null, code: 'BAD_EVENT', message: 'a frame must be one MessagePack map' };
  }
  const raw = decoded as Raw;
  const seqRaw = raw.seq;
  const seq = typeof seqRaw === 'number' && Number.isSafeInteger(seqRaw) && seqRaw > 0 ? seqRaw : null;
  if (seq === null) return { ok: false, seq: null, code: 'BAD_EVENT', message: 'seq must be a positive integer' };
  const type = raw.type;
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) {
    return { ok: false, seq, code: 'BAD_EVENT', message: `type must be one of ${[...EVENT_TYPES].join(', ')}` };
  }
  const at = raw.at;
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0 || at > MAX_TIME) {
    return { ok: false, seq, code: 'BAD_EVENT', message: `at must be an integer from 0 to ${MAX_TIME} (ms since the Unix epoch)` };
  }
  try {
    return { ok: true, event: parseBody(type as EventType, raw, seq, at) };
  } catch (err) {
    if (err instanceof FieldError) return { ok: false, seq, code: err.code, message: err.message };
    throw err;
  }
}
