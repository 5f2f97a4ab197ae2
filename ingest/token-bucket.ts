/** A rate limit (a device's events, a source's logins): `rate` a second on average, bursts up to `burst`. */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(readonly rate: number, readonly burst: number, now: number) {
    this.#tokens = burst;
    this.#last = now;
  }

  /** Tokens the bucket would hold at `now`. */
  tokensAt(now: number): number {
    return Math.min(this.burst, this.#tokens + ((now - this.#last) * this.rate) / 1000);
  }

  /** True when the bucket would be full at `now`: as good as a new one. */
  full(now: number): boolean {
    return this.tokensAt(now) >= this.burst;
  }

  /** Takes one token if there is one. `now` in milliseconds. */
  take(now: number): boolean {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.rate) / 1000);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
