/**
 * The servers the suite measures, each a child process on a data folder of its own: Vigil
 * (`vigil serve`, the whole path), the baseline (bench/baseline-ws-server.ts: the same journaling
 * on `ws`, nothing else) or the floor (bench/floor-uws-server.ts: acks on uWS, no storage). Memory and CPU come from /proc/<pid>: VmRSS and RssAnon (RssAnon leaves
 * out LMDB's file-backed pages, which count in VmRSS as soon as they are read), utime + stime.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVE_NODE_FLAGS } from '../cli/node-flags.js';

export type Target = 'vigil' | 'baseline' | 'floor';

export interface ProcSample {
  /** performance.now() when sampled, ms. */
  at: number;
  /** utime + stime, seconds. */
  cpuSeconds: number;
  rssKiB: number;
  anonKiB: number;
}

export interface ServerHandle {
  target: Target;
  port: number;
  pid: number | undefined;
  sample(): ProcSample | undefined;
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 60_000;
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try { clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch { clockTicks = 100 }
  }
  return clockTicks;
}

/** CPU the process used between two samples, percent of one core. */
export function cpuPercentBetween(before: ProcSample, after: ProcSample): number {
  return Math.round(((after.cpuSeconds - before.cpuSeconds) / ((after.at - before.at) / 1000)) * 100);
}

/** Reads a process's CPU time and memory, or undefined when /proc has no such process. */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    // Fields after the command name (which may hold spaces) start at index 2 of the split.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
    return { at: performance.now(), cpuSeconds, rssKiB: kib('VmRSS'), anonKiB: kib('RssAnon') };
  } catch {
    return undefined;
  }
}

/** The soft and hard limits on open files for processes started from here. */
export function fileLimits(): { soft: number; hard: number } {
  try {
    const [soft, hard] = execFileSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).trim().split(/\s+/);
    const n = (s: string | undefined): number => (s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
    return { soft: n(soft), hard: n(hard) };
  } catch {
    return { soft: 1024, hard: 1024 };
  }
}

/**
 * Raises this process's soft open-files limit to the hard limit (children inherit it), with
 * util-linux `prlimit`, as Node has no setrlimit. Returns the limits in force afterwards.
 */
export function raiseFileLimit(): { soft: number; hard: number } {
  const before = fileLimits();
  if (before.soft >= before.hard) return before;
  try { execFileSync('prlimit', [`--pid=${process.pid}`, `--nofile=${before.hard}:${before.hard}`]) } catch { /* keep the soft limit */ }
  return fileLimits();
}

const splitArgs = (value: string | undefined): string[] => (value ?? '').split(' ').filter((a) => a.length > 0);

/**
 * Node options for the processes a benchmark starts (servers and load generators), from the environment variable
 * VIGIL_BENCH_NODE_ARGS, split on spaces: `VIGIL_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` profiles
 * them (Node refuses --cpu-prof in NODE_OPTIONS).
 */
export function benchNodeArgs(): string[] {
  return splitArgs(process.env.VIGIL_BENCH_NODE_ARGS);
}

/** Node options for the servers alone, after those above: `VIGIL_BENCH_SERVER_NODE_ARGS="--trace-gc"`. */
export function serverNodeArgs(): string[] {
  return splitArgs(process.env.VIGIL_BENCH_SERVER_NODE_ARGS);
}

/** Starts a server on 127.0.0.1 and a free port; resolves once it prints the port it listens on. */
export function startServer(target: Target, dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<ServerHandle> {
  const args = target === 'vigil'
    ? [here('../cli/run.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--data', dataDir]
    : [here(target === 'baseline' ? './baseline-ws-server.js' : './floor-uws-server.js'), dataDir];
  // Every server with the options `vigil serve` runs with (cli/node-flags.ts), so that they differ only in their code.
  const child: ChildProcess = spawn(process.execPath, [...SERVE_NODE_FLAGS, ...benchNodeArgs(), ...serverNodeArgs(), ...args], {
    env: { ...process.env, VIGIL_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${target} did not start within 60 s: ${out}${err}`)) }, START_TIMEOUT_MS);
    child.stderr!.on('data', (d) => { if (err.length < 8192) err += String(d) });
    const onExit = (code: number | null): void => { clearTimeout(timer); reject(new Error(`${target} exited with ${code}: ${out}${err}`)) };
    child.once('exit', onExit);
    child.stdout!.on('data', (d) => {
      if (out === null) return;
      out += String(d);
      const m = /"port":(\d+)/.exec(out);
      if (!m) { if (out.length > 65536) out = out.slice(-8192); return }
      clearTimeout(timer);
      child.off('exit', onExit);
      out = '';
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume(); // keep draining the log so the server never blocks on a full pipe
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      resolve({
        target, port: Number(m[1]), pid: child.pid,
        sample: () => (child.pid === undefined ? undefined : sampleProcess(child.pid)),
        async stop() {
          if (child.exitCode !== null) return;
          child.kill('SIGTERM');
          const timeout = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(timeout);
        },
      });
    });
  });
}
