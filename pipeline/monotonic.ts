/**
 * Timers that must not follow steps of the wall clock (NTP correcting it, a VM resumed) run on the monotonic clock
 * (performance.now()) while the server runs; wall times are what is saved and shown, since only they survive a restart.
 */
import { performance } from 'node:perf_hooks';

/** A wall time as a time on the monotonic clock, by the offset between the clocks now. */
export function monotonic(wall: number): number { return performance.now() + (wall - Date.now()) }
