/**
 * Device events (PROTOCOL.md §2), as typed values. Bytes from the network are parsed once,
 * at the edge, by `parseEvent`; everything past ingest sees only these types.
 */
import type { DeviceId } from './ids.js';

export type Category = 'keyboard' | 'web' | 'image' | 'heartbeat' | 'location';
export const CATEGORIES: readonly Category[] = ['keyboard', 'web', 'image', 'heartbeat', 'location'];

interface EventBase { seq: number; at: number }

export interface HeartbeatEvent extends EventBase { type: 'heartbeat'; battery?: number; agentVersion?: string }
export interface TextEvent extends EventBase { type: 'text'; app: string; text: string; source: 'typed' | 'screen' }
export interface DnsEvent extends EventBase { type: 'dns'; domain: string; app?: string }
export interface UrlEvent extends EventBase { type: 'url'; url: string; app?: string }
export interface AppEvent extends EventBase { type: 'app'; package: string; action: 'installed' | 'launched' | 'uninstalled' }
export interface ImageEvent extends EventBase {
  type: 'image';
  bytes: Uint8Array;
  source: 'screenshot' | 'camera' | 'download' | 'gallery';
  captureId?: string;
}
export interface TamperEvent extends EventBase { type: 'tamper'; signal: string; detail?: string }
export interface LocationEvent extends EventBase { type: 'location'; lat: number; lon: number; accuracyM: number }

export type DeviceEvent =
  | HeartbeatEvent | TextEvent | DnsEvent | UrlEvent | AppEvent | ImageEvent | TamperEvent | LocationEvent;
export type EventType = DeviceEvent['type'];

export const EVENT_CATEGORY: Readonly<Record<EventType, Category>> = Object.freeze({
  text: 'keyboard',
  dns: 'web',
  url: 'web',
  app: 'web',
  image: 'image',
  heartbeat: 'heartbeat',
  tamper: 'heartbeat',
  location: 'location',
});

/** A list hit computed before an event was stored (images are matched before they are journaled). */
export interface ListHit {
  list: string;
  version: number;
  entry: number;
  distance: number;
  threshold: number;
  hashType?: string;
}

/** A matching image, encrypted (AES-256-GCM) with the evidence key, bound to its device and event. */
export interface SealedEvidence {
  iv: Uint8Array;
  tag: Uint8Array;
  ciphertext: Uint8Array;
  /** Size of the plaintext image. */
  bytes: number;
  format: string;
}

/**
 * An image event as it is journaled: the bytes are gone. What remains is what it matched and, only
 * if it matched, the sealed image as evidence. An image that matches nothing leaves no trace of itself.
 */
export interface StoredImageEvent extends Omit<ImageEvent, 'bytes'> {
  hits: ListHit[];
  evidence?: SealedEvidence;
}

/** An event in the form it is stored in the journal. */
export type StoredEvent = Exclude<DeviceEvent, ImageEvent> | StoredImageEvent;

/** An event that ingest has made durable, with the device it came from. */
export interface JournaledEvent {
  deviceId: DeviceId;
  event: StoredEvent;
  /** Its key in the journal, given by `Journal.append` (or read back on recovery): what the alert commit deletes. */
  journalKey?: number;
  /**
   * The journal's value for it when ingest built one from the device's frame (store/journal-codec.ts);
   * the journal encodes the event itself otherwise, and drops this once the entry is written.
   */
  encoded?: Uint8Array | undefined;
}
