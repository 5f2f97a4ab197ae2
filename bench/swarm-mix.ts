/**
 * The swarm's traffic: event types in exact proportion to the configured shares (smooth weighted
 * round robin, so a short run offers each category the rate it was asked for), with content from
 * the simulator's seeded `EventMix` plus images and tamper signals. Each event says which alert
 * category it must raise, if any, so that the swarm can time event-to-alert latency.
 */
import type { Category } from '../core/index.js';
import { EventMix, LISTED_APPS, LISTED_DOMAINS, LISTED_TERMS, seededRandom } from '../cli/event-mix.js';
import { EVENT_TYPES, type EventShares, type EventType } from './swarm-protocol.js';

export interface MixedEvent {
  type: EventType;
  /** The event without `seq` and `at`. */
  fields: Record<string, unknown> & { type: EventType };
  /** The alert category this event must raise, or undefined for none. */
  expect: Category | undefined;
}

export interface MixImages { listed: readonly Buffer[]; unlisted: readonly Buffer[] }

const TAMPER_SIGNALS = ['accessibility_off', 'vpn_on', 'permission_revoked', 'uninstall_attempt', 'clock_change'];
const IMAGE_SOURCES = ['camera', 'gallery', 'download', 'screenshot'] as const;

/** Whether the content of an `EventMix` event names a listed term, domain or app. */
function listedContent(e: Record<string, unknown>): boolean {
  switch (e.type) {
    case 'text': return LISTED_TERMS.some((t) => String(e.text).includes(t));
    case 'dns': return LISTED_DOMAINS.includes(String(e.domain));
    case 'url': return LISTED_DOMAINS.some((d) => String(e.url).startsWith(`https://${d}/`));
    case 'app': return LISTED_APPS.includes(String(e.package));
    default: return false;
  }
}

export class SwarmMix {
  readonly #content: EventMix;
  readonly #rnd: () => number;
  readonly #types: EventType[];
  readonly #weights: number[];
  readonly #current: number[];
  readonly #total: number;
  readonly #listedImageShare: number;
  readonly #images: MixImages;

  constructor(seed: number, shares: EventShares, hitRate: number, listedImageShare: number, images: MixImages) {
    this.#content = new EventMix(seed, hitRate);
    this.#rnd = seededRandom(seed ^ 0x5bd1e995);
    this.#types = EVENT_TYPES.filter((t) => (shares[t] ?? 0) > 0);
    if (this.#types.length === 0) throw new Error('the event mix has no event type with a positive share');
    if (this.#types.includes('image') && images.listed.length + images.unlisted.length === 0) {
      throw new Error('the event mix has images but the image set is empty');
    }
    this.#weights = this.#types.map((t) => shares[t] ?? 0);
    this.#current = this.#types.map(() => 0);
    this.#total = this.#weights.reduce((a, b) => a + b, 0);
    this.#listedImageShare = listedImageShare;
    this.#images = images;
  }

  /** The next type in smooth weighted round robin: exact proportions over any window. */
  #nextType(): EventType {
    let best = 0;
    for (let i = 0; i < this.#types.length; i++) {
      this.#current[i]! += this.#weights[i]!;
      if (this.#current[i]! > this.#current[best]!) best = i;
    }
    this.#current[best]! -= this.#total;
    return this.#types[best]!;
  }

  #pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.#rnd() * xs.length)] as T }

  next(): MixedEvent {
    const type = this.#nextType();
    switch (type) {
      case 'image': {
        const listed = this.#images.listed.length > 0
          && (this.#images.unlisted.length === 0 || this.#rnd() < this.#listedImageShare);
        const bytes = this.#pick(listed ? this.#images.listed : this.#images.unlisted);
        return { type, fields: { type, bytes, source: this.#pick(IMAGE_SOURCES) }, expect: listed ? 'image' : undefined };
      }
      case 'tamper':
        return { type, fields: { type, signal: this.#pick(TAMPER_SIGNALS) }, expect: 'heartbeat' };
      default: {
        const fields = this.#content.next(type) as MixedEvent['fields'];
        const web = type === 'dns' || type === 'url' || type === 'app';
        const expect = listedContent(fields) ? (web ? 'web' : 'keyboard') : undefined;
        return { type, fields, expect };
      }
    }
  }

  /** The screenshot a device sends when the server asks for one: an unlisted image. */
  screenshot(captureId: string): MixedEvent {
    const pool = this.#images.unlisted.length > 0 ? this.#images.unlisted : this.#images.listed;
    const listed = this.#images.unlisted.length === 0;
    return {
      type: 'image', fields: { type: 'image', bytes: this.#pick(pool), source: 'screenshot', captureId },
      expect: listed ? 'image' : undefined,
    };
  }
}
