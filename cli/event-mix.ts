/**
 * A realistic mix of device events for the simulator and the load benchmarks, from a seeded
 * generator so runs can be repeated. Some events carry the demo lists' placeholder terms, domains
 * and apps (`hitRate` of the text, web and app events), the rest are innocuous.
 */
import { seededRandom } from '../core/index.js';
import type { SimEvent } from './sim-device.js';

export { seededRandom } from '../core/index.js';

const WORDS = ['meeting', 'tomorrow', 'weather', 'football', 'dinner', 'train', 'late', 'thanks', 'photo', 'music',
  'shopping', 'work', 'school', 'birthday', 'holiday', 'coffee', 'great', 'see', 'you', 'soon'];
const APPS = ['com.example.messages', 'com.example.browser', 'org.example.notes', 'com.example.maps'];
const HOSTS = ['news.example', 'shop.example', 'mail.test', 'video.example', 'weather.test'];
export const LISTED_TERMS = ['forbiddenword', 'badword', 'secret meeting place'];
export const LISTED_DOMAINS = ['banned.example', 'cdn.banned.example', 'prohibited.test'];
export const LISTED_APPS = ['com.example.hiddenchat', 'org.example.vaultbrowser'];

export type EventKind = 'text' | 'dns' | 'url' | 'app' | 'heartbeat' | 'location';
/** Default shares of each event type; they need not sum to one. */
export const DEFAULT_MIX: Readonly<Record<EventKind, number>> = {
  text: 0.4, dns: 0.25, url: 0.15, app: 0.05, heartbeat: 0.1, location: 0.05,
};

export class EventMix {
  readonly #rnd: () => number;
  readonly #hitRate: number;
  readonly #kinds: EventKind[];
  readonly #cumulative: number[];

  constructor(seed: number, hitRate: number, mix: Readonly<Record<EventKind, number>> = DEFAULT_MIX) {
    this.#rnd = seededRandom(seed);
    this.#hitRate = hitRate;
    this.#kinds = Object.keys(mix) as EventKind[];
    let sum = 0;
    this.#cumulative = this.#kinds.map((k) => (sum += mix[k]));
    this.#cumulative = this.#cumulative.map((c) => c / sum);
  }

  #pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.#rnd() * xs.length)] as T }

  #sentence(n: number): string {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.#pick(WORDS));
    return out.join(' ');
  }

  next(kind?: EventKind): SimEvent {
    const r = this.#rnd();
    const k = kind ?? this.#kinds[this.#cumulative.findIndex((c) => r <= c)] ?? 'heartbeat';
    const hit = this.#rnd() < this.#hitRate;
    switch (k) {
      case 'text': {
        const words = this.#sentence(4 + Math.floor(this.#rnd() * 12));
        return { type: 'text', app: this.#pick(APPS), source: this.#rnd() < 0.7 ? 'typed' : 'screen',
          text: hit ? `${words} ${this.#pick(LISTED_TERMS)} ${this.#sentence(3)}` : words };
      }
      case 'dns':
        return { type: 'dns', domain: hit ? this.#pick(LISTED_DOMAINS) : `${this.#pick(WORDS)}.${this.#pick(HOSTS)}` };
      case 'url':
        return { type: 'url', url: hit ? `https://${this.#pick(LISTED_DOMAINS)}/page/${Math.floor(this.#rnd() * 100)}`
          : `https://${this.#pick(HOSTS)}/${this.#pick(WORDS)}?q=${this.#pick(WORDS)}` };
      case 'app':
        return { type: 'app', package: hit ? this.#pick(LISTED_APPS) : this.#pick(APPS), action: 'launched' };
      case 'location':
        return { type: 'location', lat: 51.5 + this.#rnd() * 0.1, lon: -0.1 + this.#rnd() * 0.1, accuracyM: 10 + this.#rnd() * 40 };
      case 'heartbeat':
        return { type: 'heartbeat', battery: Math.floor(this.#rnd() * 100), agentVersion: 'sim-1.0' };
    }
  }
}
