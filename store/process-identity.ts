/**
 * Whether a process that left its pid in the data folder (a server's claim, a list import's mark) is still
 * running on this host. A pid alone can mislead: after a crash the kernel may hand it to another process, or a
 * reboot restart the numbering. So a record also keeps the process's identity: the boot it ran in, its PID
 * namespace, and its start time in clock ticks since boot (`/proc/<pid>/stat`, field 22), which no later process
 * with the pid shares. A pid recorded in another PID namespace (another container sharing the host name, as with
 * host networking) means nothing here, found or not: such a record is taken to be alive, and its renewals decide.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** This process's boot and PID namespace (`<boot id>:pid:[<inode>]`), or undefined where /proc cannot tell. */
function here(): string | undefined {
  const boot = read('/proc/sys/kernel/random/boot_id')?.trim();
  let ns: string;
  try {
    ns = readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
  return boot ? `${boot}:${ns}` : undefined;
}

/**
 * The identity of process `pid` of this PID namespace (`<boot id>:pid:[<inode>]:<start ticks>`), or undefined where
 * /proc cannot tell (not Linux, or no such process).
 */
export function processIdentity(pid: number = process.pid): string | undefined {
  const where = here();
  const stat = read(`/proc/${pid}/stat`);
  if (!where || stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself: fields after it.
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return start === undefined ? undefined : `${where}:${start}`;
}

/**
 * True when process `pid` of this host is running and, if `identity` was recorded for it, is the same process;
 * also when `identity` was recorded in another boot or PID namespace, where this host's pids cannot tell. A process
 * of another user counts as running (`EPERM`).
 */
export function processRunning(pid: number, identity?: string): boolean {
  // Recorded in another boot or PID namespace: a process with that pid here, or none, says nothing about it.
  if (identity !== undefined && identity.slice(0, identity.lastIndexOf(':')) !== here()) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (identity === undefined) return true;
  const now = processIdentity(pid);
  return now === undefined || now === identity;
}

/** Which process wrote a record to the data folder (a server's claim, a list import's mark). */
export interface ProcessRecord {
  pid: number;
  host: string;
  /** `processIdentity` of the process, where /proc gives one (records made before it have none). */
  process?: string;
}

/** This process, as a record names it. */
export function thisProcess(): ProcessRecord {
  const rec: ProcessRecord = { pid: process.pid, host: hostname() };
  const identity = processIdentity();
  if (identity !== undefined) rec.process = identity;
  return rec;
}

/**
 * False only when the record's process is known to be gone: it was made on this host, and `processRunning` says
 * so. A record from another host is taken as alive: its pid means nothing here, and its renewals decide.
 */
export function recordedProcessRunning(rec: ProcessRecord): boolean {
  return rec.host !== hostname() || processRunning(rec.pid, rec.process);
}
