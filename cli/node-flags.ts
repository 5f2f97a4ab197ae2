/**
 * V8 options `vigil serve` is meant to run under. `npm start` and `bin/vigil.js` (its `#!` line) pass them, and the
 * benchmarks start every server they compare with them; `vigil serve` logs a warning when they are missing.
 *
 * `--max-semi-space-size=64` (MiB, default 16 here): V8's young generation is collected whenever it fills, and
 * each collection pauses the event loop for as long as it takes to copy what is still live, the events in flight
 * between their frame and their commit, whatever the space's size. Four times the room means a quarter of the
 * pauses at the same allocation rate; at 50,000 events/s, eight alternating runs of bench/ingest.js had a lower ack
 * p99 with it in seven (bench/README.md, eighth session). It costs up to 3 x 64 MiB of address space.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/** `--max-semi-space-size` from `--max-semi-space-size=64` (V8 takes `_` and `-` alike). */
const flagName = (arg: string): string => arg.split('=')[0]!.replace(/_/g, '-');

/** The flags of SERVE_NODE_FLAGS this process was not started with (on its command line or in NODE_OPTIONS). */
export function missingServeFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((a) => a.startsWith('--')).map(flagName));
  return SERVE_NODE_FLAGS.filter((f) => !given.has(flagName(f)));
}
