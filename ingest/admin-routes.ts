/**
 * Administration, for the `admin` role only: operator accounts and roles, managers' caseloads,
 * retention periods (and a sweep on demand), and match lists. Admins never see alerts or the audit
 * log; everything they change is audited by the stores in the same transaction as the change.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListFormatError, VigilError } from '../core/index.js';
import {
  LIST_KINDS, OPERATOR_ROLES, isOperatorRole,
  type AuditLog, type ListKind, type ListStore, type OperatorChange, type OperatorStore, type Outcome, type RetentionSweeper,
} from '../store/index.js';
import { importListFile, validListName } from '../pipeline/index.js';
import { jsonObject, type Exchange } from './operator-http.js';
import type { RouteContext, RouteSpec } from './operator-router.js';

export interface AdminRoutesOptions {
  operators: OperatorStore;
  retention: RetentionSweeper;
  lists: ListStore;
  audit: AuditLog;
  dataDir: string;
  maxListUploadBytes: number;
}

function failure(ex: Exchange, r: Extract<Outcome<unknown>, { ok: false }>): void {
  const status = { NOT_FOUND: 404, CONFLICT: 409, INVALID: 400, GONE: 410 }[r.code];
  ex.error(status, r.code === 'INVALID' ? 'BAD_REQUEST' : r.code, r.message);
}

export function adminRoutes(o: AdminRoutesOptions): RouteSpec[] {
  const admins = ['admin'] as const;
  const route = (spec: Omit<RouteSpec, 'roles' | 'handle'> & { handle(ctx: RouteContext): Promise<void> }): RouteSpec =>
    ({ ...spec, roles: admins, handle: (ctx) => spec.handle(ctx as RouteContext) });
  const body = (ctx: RouteContext): Record<string, unknown> | undefined => {
    const parsed = jsonObject(ctx.body ?? Buffer.alloc(0));
    if (typeof parsed === 'string') { ctx.ex.error(400, 'BAD_REQUEST', parsed); return undefined }
    return parsed;
  };

  return [
    // Reads of accounts and caseloads are audited as `vigil operators list` is: they name who supervises whom.
    route({ method: 'get', path: '/v1/admin/operators', async handle(ctx) {
      const operators = o.operators.list();
      await o.audit.append({ actor: ctx.caller.label, action: 'operator.list', target: 'operators', details: { count: operators.length } });
      ctx.ex.json(200, { operators });
    } }),

    route({ method: 'post', path: '/v1/admin/operators', body: true, async handle(ctx) {
      const obj = body(ctx);
      if (!obj) return;
      const { username, role, password } = obj;
      if (typeof username !== 'string' || typeof password !== 'string' || !isOperatorRole(role)) {
        ctx.ex.error(400, 'BAD_REQUEST', `username and password (strings) and role (${OPERATOR_ROLES.join(', ')}) are required`);
        return;
      }
      const r = await o.operators.create({ username, role, password }, ctx.caller.label);
      if (!r.ok) { failure(ctx.ex, r); return }
      ctx.ex.json(201, { operator: r.value });
    } }),

    route({ method: 'patch', path: '/v1/admin/operators/:username', body: true, async handle(ctx) {
      const obj = body(ctx);
      if (!obj) return;
      const change: OperatorChange = {};
      for (const [key, value] of Object.entries(obj)) {
        if (key === 'role' && isOperatorRole(value)) change.role = value;
        else if ((key === 'disabled' || key === 'unlock') && typeof value === 'boolean') change[key] = value;
        else if (key === 'password' && typeof value === 'string') change.password = value;
        else {
          ctx.ex.error(400, 'BAD_REQUEST', `unknown or mistyped field ${key}; allowed: role (${OPERATOR_ROLES.join(', ')}), disabled, unlock (booleans), password`);
          return;
        }
      }
      const r = await o.operators.update(ctx.facts.params[0] ?? '', change, ctx.caller.label);
      if (!r.ok) { failure(ctx.ex, r); return }
      ctx.ex.json(200, { operator: r.value });
    } }),

    route({ method: 'get', path: '/v1/admin/operators/:username/caseload', async handle(ctx) {
      const username = ctx.facts.params[0] ?? '';
      if (!o.operators.get(username)) { ctx.ex.error(404, 'NOT_FOUND', `no operator ${username}`); return }
      const subjects = o.operators.caseload(username);
      await o.audit.append({ actor: ctx.caller.label, action: 'caseload.read', target: `operator:${username}`, details: { count: subjects.length } });
      ctx.ex.json(200, { username, subjects });
    } }),

    route({ method: 'put', path: '/v1/admin/operators/:username/caseload/:subject', async handle(ctx) {
      const [username = '', subject = ''] = ctx.facts.params;
      const r = await o.operators.addToCaseload(username, subject, ctx.caller.label);
      if (!r.ok) { failure(ctx.ex, r); return }
      ctx.ex.json(200, { username, entry: r.value });
    } }),

    route({ method: 'del', path: '/v1/admin/operators/:username/caseload/:subject', async handle(ctx) {
      const [username = '', subject = ''] = ctx.facts.params;
      const r = await o.operators.removeFromCaseload(username, subject, ctx.caller.label);
      if (!r.ok) { failure(ctx.ex, r); return }
      ctx.ex.json(200, { username, removed: subject });
    } }),

    route({ method: 'get', path: '/v1/admin/retention', async handle(ctx) {
      ctx.ex.json(200, { settings: o.retention.settings() });
    } }),

    route({ method: 'put', path: '/v1/admin/retention', body: true, async handle(ctx) {
      const obj = body(ctx);
      if (!obj) return;
      const r = await o.retention.updateSettings(obj, ctx.caller.label);
      if (!r.ok) { failure(ctx.ex, r); return }
      ctx.ex.json(200, { settings: r.value });
    } }),

    route({ method: 'post', path: '/v1/admin/retention/sweep', async handle(ctx) {
      await o.audit.append({ actor: ctx.caller.label, action: 'retention.sweep_requested', target: 'retention' });
      ctx.ex.json(200, { report: await o.retention.sweep() });
    } }),

    route({ method: 'get', path: '/v1/admin/lists', async handle(ctx) {
      ctx.ex.json(200, { lists: o.lists.active() });
    } }),

    route({ method: 'post', path: '/v1/admin/lists/:name', body: true, maxBody: o.maxListUploadBytes, async handle(ctx) {
      const name = ctx.facts.params[0] ?? '';
      const kind = ctx.facts.query.get('kind') ?? '';
      if (!(LIST_KINDS as readonly string[]).includes(kind)) { ctx.ex.error(400, 'BAD_REQUEST', `kind must be one of ${LIST_KINDS.join(', ')}`); return }
      if (!validListName(name)) { ctx.ex.error(400, 'BAD_REQUEST', 'the list name must be 1-64 letters, digits, ".", "_" or "-"'); return }
      if (!/^text\/csv\b/i.test(ctx.facts.contentType)) { ctx.ex.error(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the list as text/csv'); return }
      const current = o.lists.get(name);
      if (current && current.kind !== kind) { ctx.ex.error(409, 'CONFLICT', `list ${name} is a ${current.kind} list`); return }
      // The importer reads files: the upload goes to an owner-only file in the data folder, gone after.
      const dir = join(o.dataDir, 'uploads');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, `${name}-${randomBytes(6).toString('hex')}.csv`);
      writeFileSync(file, ctx.body ?? Buffer.alloc(0), { mode: 0o600 });
      try {
        // The same checks as `vigil lists import`: every row, no empty file unless asked, a keyword list compiled.
        // Audited in the transaction that makes the version active: no import goes unrecorded.
        const info = await importListFile(o.lists, kind as ListKind, name, file, {
          source: `http upload by ${ctx.caller.label}`,
          allowEmpty: ctx.facts.query.get('allowEmpty') === 'true',
          onApplied: (applied) => {
            o.audit.appendInTxn({ actor: ctx.caller.label, action: 'list.import', target: `list:${name}`,
              details: { kind, version: applied.version, rows: applied.count, bytes: ctx.body?.length ?? 0, via: 'http' } });
          },
        });
        ctx.ex.json(200, { list: info });
      } catch (err) {
        if (err instanceof ListFormatError || (err instanceof VigilError && err.code === 'LIST_INVALID')) {
          ctx.ex.error(400, 'BAD_REQUEST', err.message);
          return;
        }
        throw err;
      } finally {
        unlinkSync(file);
      }
    } }),
  ];
}
