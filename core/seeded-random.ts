/**
 * mulberry32: a small, fast, seeded generator, so that simulations, benchmarks and randomised tests
 * can be repeated exactly. Not for anything secret (tokens and keys come from node:crypto).
 */

/** 32 random bits per call, as an unsigned integer. */
export function seededUint32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return (x ^ (x >>> 14)) >>> 0;
  };
}

/** A number in [0, 1) per call. */
export function seededRandom(seed: number): () => number {
  const next = seededUint32(seed);
  return () => next() / 4294967296;
}
