/**
 * What a report must say about where and with what it ran: the machine, its load average (the
 * machine may be shared), the open-files limits, and the versions of Vigil and the parts that
 * carry the load.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memGiB: number;
  os: string;
  /** 1, 5 and 15-minute load averages. */
  loadAverage: { start: number[]; end?: number[] };
  openFiles: { soft: number; hard: number };
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGES: Record<string, string> = {
  'uWebSockets.js': 'uWebSockets.js', lmdb: 'lmdb', piscina: 'piscina', sharp: 'sharp', msgpackr: 'msgpackr',
  'hdr-histogram-js': 'hdr-histogram-js', autocannon: 'autocannon', ws: 'ws',
};

export const loadAverage = (): number[] => loadavg().map((v) => Number(v.toFixed(2)));

/** What every single-question benchmark prints and records about the machine it ran on. */
export interface BenchMachine { cpu: string; cores: number; memoryGiB: number; node: string; platform: string; loadAverage: number[] }

export function benchMachine(): BenchMachine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version, platform: `${process.platform}-${process.arch}`, loadAverage: loadAverage(),
  };
}

/** The benchmark's first line: `machine: <cpu>, N cores, N GiB, node vX, <platform>, load average a b c`. */
export const machineLine = (m: BenchMachine): string =>
  `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}, ${m.platform}, load average ${m.loadAverage.join(' ')}`;

export function machineInfo(openFiles: { soft: number; hard: number }): MachineInfo {
  const m = benchMachine();
  return {
    cpu: m.cpu, cores: m.cores, memGiB: m.memoryGiB, os: `${type()} ${release()}`, loadAverage: { start: m.loadAverage }, openFiles,
  };
}

function packageVersion(dir: string): string | undefined {
  const p = `${root}node_modules/${dir}/package.json`;
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { version?: string }).version : undefined;
}

/** Vigil's version and commit (with `+dirty` for uncommitted changes), Node, and the load-bearing packages. */
export function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  const own = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
  let commit = '';
  try {
    commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (dirty !== '') commit += '+dirty';
  } catch { /* not a git checkout */ }
  out.vigil = commit ? `${own.version} (${commit})` : own.version;
  out.node = process.version;
  for (const [name, dir] of Object.entries(PACKAGES)) {
    const v = packageVersion(dir);
    if (v !== undefined) out[name] = v;
  }
  if (out.sharp !== undefined) out.sharp += ` (libvips ${sharp.versions.vips})`;
  return out;
}
