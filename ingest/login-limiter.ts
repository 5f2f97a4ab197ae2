/**
 * Login attempts per source, as token buckets. An IPv6 client usually holds a whole /64, so its addresses share
 * one bucket; an IPv4 address written as IPv6 (`::ffff:a.b.c.d`) counts as that IPv4 address. The buckets are
 * bounded: when full, those of sources idle long enough to have refilled go first (forgetting them changes
 * nothing), then the tenth with the most attempts left (forgetting them gives least back), never the sources that
 * used theirs up. Clearing them all, as before, let a client with many addresses wipe every other client's count,
 * its own included, by trying from 10,000 of them.
 */
import { TokenBucket } from './token-bucket.js';

export const MAX_LOGIN_SOURCES = 10_000;

/** The 8 groups of an IPv6 address in text (full or with `::`), or undefined if it is not one. */
function ipv6Groups(text: string): number[] | undefined {
  const parts = text.split('::');
  if (parts.length > 2) return undefined;
  const side = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = side(parts[0]!);
  const tail = parts.length === 2 ? side(parts[1]!) : [];
  // An embedded IPv4 address at the end (`::ffff:192.0.2.1`) is two groups.
  const last = tail.length > 0 ? tail : head;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(last[last.length - 1] ?? '');
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    last.splice(last.length - 1, 1, ((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const missing = 8 - head.length - tail.length;
  if (parts.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(parts.length === 2 ? missing : 0).fill('0'), ...tail].map((g) => parseInt(g, 16));
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** The source a remote address counts as: IPv4 as is, IPv6 by its /64. */
export function loginSource(remote: string): string {
  if (!remote.includes(':')) return remote;
  const g = ipv6Groups(remote);
  if (!g) return remote;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  return `${g.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}

export class LoginLimiter {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(readonly perMinute: number, readonly maxSources = MAX_LOGIN_SOURCES) {}

  /** Takes an attempt for `remote` if its source has one left. `now` in milliseconds. */
  allow(remote: string, now: number): boolean {
    const source = loginSource(remote);
    let bucket = this.#buckets.get(source);
    if (!bucket) {
      if (this.#buckets.size >= this.maxSources) this.#evict(now);
      bucket = new TokenBucket(this.perMinute / 60, this.perMinute, now);
      this.#buckets.set(source, bucket);
    }
    return bucket.take(now);
  }

  /** Sources tracked now. */
  get size(): number { return this.#buckets.size }

  #evict(now: number): void {
    for (const [source, bucket] of this.#buckets) if (bucket.full(now)) this.#buckets.delete(source);
    if (this.#buckets.size < this.maxSources) return;
    // Every source still counting: a tenth of them go at once (so this sort is rare), those with most attempts left.
    const byLeft = [...this.#buckets].sort(([, a], [, b]) => b.tokensAt(now) - a.tokensAt(now));
    const n = Math.max(1, Math.ceil(this.maxSources / 10));
    for (const [source] of byLeft.slice(0, n)) this.#buckets.delete(source);
  }
}
