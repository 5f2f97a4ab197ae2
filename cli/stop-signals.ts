/**
 * The signals that end a long command early (Ctrl-C; SIGTERM from kill, timeout or a service stop; SIGHUP from a
 * closed terminal), and the exit status a shell gives a process ended by one. `vigil simulate` and `vigil bench`
 * wind up on the first (revoking what they enrolled) and quit at once on a second.
 */
import { constants } from 'node:os';

export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** A shell's exit status for a process ended by `signal`: 128 + its number (SIGINT 130, SIGTERM 143, SIGHUP 129). */
export const signalExitCode = (signal: NodeJS.Signals): number => 128 + constants.signals[signal];
