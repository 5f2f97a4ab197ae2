/**
 * Test fixtures: a real Vigil server on a loopback port over a real LMDB folder, and real
 * WebSocket device and feed clients. Everything is torn down by the test that made it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import WebSocket from 'ws';
import type { Test } from 'tap';
import { Metrics, loadConfig, type Category, type VigilConfig } from '../../core/index.js';
import { AlertStore, RegistryStore, openDatabases } from '../../store/index.js';
import { AlertFeed, type MonitorParts } from '../../pipeline/index.js';
import { encodeFrame, decodeFrame } from '../../ingest/index.js';
import { startServer, type RunningServer } from '../../cli/vigil-server.js';

export const DAY = 86_400_000;

export function tempDir(prefix = 'vigil-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The parts a rule monitor (heartbeats, unchecked images) works with, on real LMDB in a temporary folder closed with `t`. */
export function monitorParts(t: Test): { dir: string; parts: MonitorParts } {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  t.teardown(async () => { await db.root.close(); tmp.remove() });
  const alerts = new AlertStore(db);
  return {
    dir: tmp.dir,
    parts: { db, registry: new RegistryStore(db), alerts, feed: new AlertFeed(alerts), metrics: new Metrics(), log: pino({ level: 'silent' }) },
  };
}

/** The `vigil` command as the compiled tree runs it (`node dist/cli/run.js`). */
export const VIGIL_RUN = fileURLToPath(new URL('../../cli/run.js', import.meta.url));

/** The environment without any VIGIL_* variable of the shell that runs the tests, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('VIGIL_')) env[k] = v;
  return { ...env, ...extra };
}

export interface ServeProcess { port: number; stop(): Promise<number | null> }

/**
 * `vigil serve` in a child process on 127.0.0.1 and a port the OS picks, as a user starts it (`args` may add
 * `--data DIR`); resolves once it listens. `stop()` sends SIGTERM and resolves with the exit code.
 */
export function spawnServe(env: Record<string, string>, args: string[] = [], cwd?: string): Promise<ServeProcess> {
  const child = spawn(process.execPath, [VIGIL_RUN, 'serve', '--port', '0', '--host', '127.0.0.1', ...args],
    { env: { ...env, VIGIL_LOG_LEVEL: 'info' }, ...(cwd === undefined ? {} : { cwd }), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (d: Buffer): void => {
      log += String(d);
      const m = /"port":(\d+)/.exec(log);
      if (!m) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve({ port: Number(m[1]), stop: () => { child.kill('SIGTERM'); return exited } });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => { log += String(d) });
    void exited.then((code) => reject(new Error(`vigil serve exited ${code}: ${log}`)));
  });
}

/** Makes a data folder as a user does before using the other commands: `vigil serve --data DIR` started once, and stopped. */
export async function createDataFolder(dataDir: string, env: Record<string, string> = cleanEnv()): Promise<void> {
  const server = await spawnServe({ VIGIL_EVIDENCE_KEY: 'a'.repeat(64), VIGIL_WORKERS: '1', ...env }, ['--data', dataDir]);
  const code = await server.stop();
  if (code !== 0) throw new Error(`vigil serve --data ${dataDir} exited ${code} when stopped`);
}

export interface TestServer {
  server: RunningServer;
  config: VigilConfig;
  port: number;
  base: string;
  stop(): Promise<void>;
}

/** Starts a server on 127.0.0.1 with an OS-chosen port (or `port` to reuse one across a restart). */
export async function startTestServer(dataDir: string, file: Record<string, unknown> = {}, port = 0): Promise<TestServer> {
  const env = {
    VIGIL_EVIDENCE_KEY: '0'.repeat(63) + '1',
    VIGIL_CONFIG: join(dataDir, 'test-config.json'),
  };
  const { writeFileSync } = await import('node:fs');
  writeFileSync(env.VIGIL_CONFIG, JSON.stringify({ pipeline: { workers: 1, listPollMs: 100 }, ...file }));
  const config = loadConfig({ dataDir, port, host: '127.0.0.1' }, env);
  const server = await startServer(config, pino({ level: 'silent' }));
  return {
    server, config, port: server.port, base: `http://127.0.0.1:${server.port}`,
    stop: () => server.close(),
  };
}

export async function enrolDevice(dataDir: string, categories: Category[] = ['keyboard', 'web', 'image', 'heartbeat', 'location'],
  window: { from?: number; until?: number } = {}): Promise<{ deviceId: string; token: string }> {
  const db = openDatabases(dataDir);
  try {
    const now = Date.now();
    return await new RegistryStore(db).enrol({
      subjectId: 'subject-1', orderRef: `ORDER-${Math.random().toString(36).slice(2)}`, categories,
      from: window.from ?? now - DAY, until: window.until ?? now + DAY,
    });
  } finally {
    await db.root.close();
  }
}

export async function consumerToken(dataDir: string): Promise<string> {
  const db = openDatabases(dataDir);
  try { return (await new RegistryStore(db).createConsumer()).token } finally { await db.root.close() }
}

export type Msg = Record<string, unknown> & { type: string };

/** A device client that records every server message and lets tests wait for one. */
export class TestDevice {
  readonly messages: Msg[] = [];
  closeCode: number | undefined;
  #waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  #closed: Promise<number>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary) => {
      const m = (isBinary ? decodeFrame(data) : JSON.parse(String(data))) as Msg;
      this.messages.push(m);
      this.#waiters = this.#waiters.filter((w) => { if (w.pred(m)) { w.resolve(m); return false } return true });
    });
    this.#closed = new Promise((resolve) => ws.on('close', (code) => { this.closeCode = code; resolve(code) }));
  }

  static connect(port: number, token: string, ms = 10_000): Promise<TestDevice> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/device`, { headers: { authorization: `Bearer ${token}` } });
      const dev = new TestDevice(ws);
      const timer = setTimeout(() => { ws.terminate(); reject(new Error(`device connect: no upgrade within ${ms} ms`)) }, ms);
      ws.once('open', () => { clearTimeout(timer); resolve(dev) });
      ws.once('close', () => clearTimeout(timer));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    });
  }

  send(event: Record<string, unknown>): void { this.ws.send(encodeFrame(event)) }
  sendRaw(data: Buffer | string): void { this.ws.send(data) }

  /** Resolves with the first message (already received or coming) that satisfies `pred`. */
  waitFor(pred: (m: Msg) => boolean, ms = 5000): Promise<Msg> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(this.messages)}`)), ms);
      this.#waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m) } });
    });
  }

  waitForAck(upTo: number, ms = 5000): Promise<Msg> {
    return this.waitFor((m) => m.type === 'ack' && (m.upTo as number) >= upTo, ms);
  }

  /** Resolves with the close code; a socket that does not close within `ms` is terminated (code 1006). */
  closed(ms = 10_000): Promise<number> {
    const timer = setTimeout(() => this.ws.terminate(), ms);
    return this.#closed.finally(() => clearTimeout(timer));
  }
  close(): Promise<number> { this.ws.close(); return this.closed() }
}

export interface HttpReply { status: number; body: string; json<T = any>(): T }

/**
 * A GET on a fresh connection that is closed afterwards (no keep-alive), so that no idle socket
 * keeps a stopped server's process alive.
 */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { ...headers, connection: 'close' }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) }));
    });
    req.on('error', reject);
    req.end();
  });
}

export const bearerHeader = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** Reads the feed over HTTP from `after`, waiting up to `waitMs` for something to arrive. */
export async function readAlerts(base: string, token: string, after = 0, waitMs = 0, limit = 1000): Promise<{ alerts: Record<string, any>[]; next: number }> {
  const res = await httpGet(`${base}/v1/alerts?after=${after}&limit=${limit}&waitMs=${waitMs}`, bearerHeader(token));
  if (res.status !== 200) throw new Error(`GET /v1/alerts: HTTP ${res.status} ${res.body}`);
  return res.json();
}

/** Polls the feed, paging, until `count` alerts exist after `after` or `ms` pass. */
export async function waitForAlerts(base: string, token: string, count: number, after = 0, ms = 8000): Promise<Record<string, any>[]> {
  const end = Date.now() + ms;
  const got: Record<string, any>[] = [];
  let cursor = after;
  for (;;) {
    const page = await readAlerts(base, token, cursor, 0);
    got.push(...page.alerts);
    cursor = page.next;
    if (got.length >= count || (page.alerts.length === 0 && Date.now() >= end)) return got;
    if (page.alerts.length === 0) await new Promise((r) => setTimeout(r, 50));
  }
}

export const text = (seq: number, body: string, at = Date.now()) => ({ type: 'text', seq, at, app: 'com.example.messages', text: body, source: 'typed' });
export const heartbeat = (seq: number, at = Date.now()) => ({ type: 'heartbeat', seq, at, battery: 80 });
