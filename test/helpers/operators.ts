/**
 * Test fixtures for the operator API: operator accounts made directly in the store, requests with
 * any method and body on fresh connections (no keep-alive, so servers stop promptly), a small JSON
 * Schema checker for the subset the OpenAPI document uses, and alerts raised through a real device.
 */
import { request } from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, OperatorStore, RegistryStore, openDatabases, type AuditEntry, type OperatorRole } from '../../store/index.js';
import { DAY, TestDevice, text, waitForAlerts, type TestServer } from './vigil.js';

export const PASSWORD = 'correct horse battery staple';

export interface Reply { status: number; headers: Record<string, string | string[] | undefined>; raw: Buffer; body: string; json<T = any>(): T }

export function call(method: string, url: string, options: { token?: string | undefined; body?: unknown; raw?: Buffer; contentType?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { connection: 'close' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: Buffer | undefined;
  if (options.raw !== undefined) payload = options.raw;
  else if (options.body !== undefined) payload = Buffer.from(JSON.stringify(options.body));
  if (payload) {
    headers['content-type'] = options.contentType ?? 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = raw.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, body, json: () => JSON.parse(body) });
      });
    });
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export async function createOperator(dataDir: string, username: string, role: OperatorRole, password = PASSWORD): Promise<void> {
  const db = openDatabases(dataDir);
  try {
    const r = await new OperatorStore(db, new AuditLog(db), { tokenTtlSeconds: 3600, maxFailedLogins: 5, lockoutSeconds: 900 })
      .create({ username, role, password }, 'test:setup');
    if (!r.ok) throw new Error(r.message);
  } finally {
    await db.root.close();
  }
}

export async function addCaseload(dataDir: string, username: string, subjectId: string): Promise<void> {
  const db = openDatabases(dataDir);
  try {
    const r = await new OperatorStore(db, new AuditLog(db), { tokenTtlSeconds: 3600, maxFailedLogins: 5, lockoutSeconds: 900 })
      .addToCaseload(username, subjectId, 'test:setup');
    if (!r.ok) throw new Error(r.message);
  } finally {
    await db.root.close();
  }
}

export async function login(base: string, username: string, password = PASSWORD): Promise<string> {
  const res = await call('POST', `${base}/v1/login`, { body: { username, password } });
  if (res.status !== 200) throw new Error(`login ${username}: HTTP ${res.status} ${res.body}`);
  return res.json().token as string;
}

export async function enrolSubject(dataDir: string, subjectId: string): Promise<{ deviceId: string; token: string }> {
  const db = openDatabases(dataDir);
  try {
    const now = Date.now();
    return await new RegistryStore(db).enrol({
      subjectId, orderRef: `ORDER-${subjectId}-${Math.random().toString(36).slice(2)}`,
      categories: ['keyboard', 'web', 'image', 'heartbeat', 'location'], from: now - DAY, until: now + DAY,
    });
  } finally {
    await db.root.close();
  }
}

/** Raises `n` keyword alerts from a new device of `subjectId`; resolves with their feed events. */
export async function raiseAlerts(srv: TestServer, consumer: string, subjectId: string, n = 1): Promise<Record<string, any>[]> {
  const { deviceId, token } = await enrolSubject(srv.config.dataDir, subjectId);
  const before = Number((await call('GET', `${srv.base}/v1/alerts?after=0&limit=1`, { token: consumer })).json().head);
  const dev = await TestDevice.connect(srv.port, token);
  for (let i = 1; i <= n; i++) dev.send(text(i, `message ${i} has a forbiddenword in it`));
  await dev.waitForAck(n);
  await dev.close();
  const events = await waitForAlerts(srv.base, consumer, n, before);
  return events.filter((e) => e.data?.deviceId === deviceId && String(e.type).startsWith('vigil.alert.'));
}

/** The audit entries appended since `after`, read straight from the store. */
export async function auditSince(dataDir: string, after = 0): Promise<AuditEntry[]> {
  const db = openDatabases(dataDir);
  try { return new AuditLog(db).read(after + 1) } finally { await db.root.close() }
}

/** Every byte under the data folder, to prove what is and is not on disk. */
export function diskContains(dir: string, needle: Buffer): boolean {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (diskContains(p, needle)) return true; continue }
    if (readFileSync(p).includes(needle)) return true;
  }
  return false;
}

type Schema = Record<string, any>;

/**
 * Checks `value` against a JSON Schema (the subset the OpenAPI document uses: type, properties,
 * required, items, enum, const, oneOf, $ref, minLength, maxLength). Returns the problems found.
 */
export function checkSchema(value: unknown, schema: Schema, root: Schema, path = '$'): string[] {
  if (schema.$ref) {
    const name = String(schema.$ref).replace('#/components/schemas/', '');
    const target = root.components?.schemas?.[name];
    return target ? checkSchema(value, target, root, path) : [`${path}: unresolved $ref ${schema.$ref}`];
  }
  if (schema.oneOf) {
    const passing = (schema.oneOf as Schema[]).filter((s) => checkSchema(value, s, root, path).length === 0).length;
    return passing === 1 ? [] : [`${path}: matches ${passing} of the oneOf schemas, not exactly 1 (${JSON.stringify(value)?.slice(0, 200)})`];
  }
  const problems: string[] = [];
  if ('const' in schema && value !== schema.const) problems.push(`${path}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
  const type = schema.type as string | undefined;
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array'
    : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
  if (type && !(type === actual || (type === 'number' && actual === 'integer'))) return [...problems, `${path}: ${actual} where ${type} was documented`];
  if (actual === 'string') {
    if (schema.minLength !== undefined && (value as string).length < schema.minLength) problems.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && (value as string).length > schema.maxLength) problems.push(`${path}: longer than ${schema.maxLength}`);
  }
  if (actual === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in obj)) problems.push(`${path}: ${key} is missing`);
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      if (key in obj) problems.push(...checkSchema(obj[key], sub as Schema, root, `${path}.${key}`));
    }
  }
  if (actual === 'array' && schema.items) {
    (value as unknown[]).forEach((v, i) => problems.push(...checkSchema(v, schema.items, root, `${path}[${i}]`)));
  }
  return problems;
}
