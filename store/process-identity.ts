/**
 * Whether a process that left its pid in the data folder (a server's claim, a list import's mark) is still
 * running on this host. A pid alone can mislead: after a crash the kernel may hand it to another process, or a
 * reboot restart the numbering. So a record also keeps the process's identity: the boot it ran in and its start
 * time in clock ticks since boot (`/proc/<pid>/stat`, field 22), which no later process with the pid shares.
 */
import { readFileSync } from 'node:fs';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The identity of process `pid` (`<boot id>:<start ticks>`), or undefined where /proc cannot tell (not Linux, or no such process). */
export function processIdentity(pid: number = process.pid): string | undefined {
  const boot = read('/proc/sys/kernel/random/boot_id')?.trim();
  const stat = read(`/proc/${pid}/stat`);
  if (!boot || stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself: fields after it.
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return start === undefined ? undefined : `${boot}:${start}`;
}

/**
 * True when process `pid` of this host is running and, if `identity` was recorded for it, is the same process.
 * A process of another user counts as running (`EPERM`).
 */
export function processRunning(pid: number, identity?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (identity === undefined) return true;
  const now = processIdentity(pid);
  return now === undefined || now === identity;
}
