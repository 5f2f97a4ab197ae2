/**
 * The operator HTTP API (docs/protocol.md §7, and `GET /v1/openapi.json`): login, human review of
 * alerts for managers, the audit log for auditors, administration for admins. Every route declares
 * its roles (the router answers 401/403 and audits refusals); every operator action is written to
 * the audit log before its answer goes out. Feed consumers keep using `/v1/alerts` and `/v1/feed`.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import type { Logger } from 'pino';
import type { OperatorsConfig } from '../core/index.js';
import type { AlertStore, AuditLog, ListStore, OperatorStore, RegistryStore, RetentionSweeper } from '../store/index.js';
import { jsonObject } from './operator-http.js';
import { OperatorRouter, type RouteSpec } from './operator-router.js';
import { reviewRoutes } from './review-routes.js';
import { adminRoutes } from './admin-routes.js';
import { OPENAPI_DOCUMENT } from './openapi.js';
import { LoginLimiter } from './login-limiter.js';

export interface OperatorApiOptions {
  operators: OperatorStore;
  registry: RegistryStore;
  alerts: AlertStore;
  audit: AuditLog;
  retention: RetentionSweeper;
  lists: ListStore;
  /** Wakes feed subscribers after a notice is stored. */
  published: () => void;
  evidenceKey: Uint8Array;
  config: OperatorsConfig;
  dataDir: string;
  log: Logger;
}

const MAX_AUDIT_PAGE = 1000;

export class OperatorApi {
  readonly #o: OperatorApiOptions;
  readonly #router: OperatorRouter;
  readonly #logins: LoginLimiter;
  /** Every route, with its roles: what the OpenAPI document describes and the tests call. */
  readonly routes: readonly RouteSpec[];

  constructor(options: OperatorApiOptions) {
    this.#o = options;
    // Login attempts beyond the rate, from one address (an IPv6 /64), get 429.
    this.#logins = new LoginLimiter(options.config.loginsPerMinute);
    this.#router = new OperatorRouter({
      operators: options.operators, registry: options.registry, audit: options.audit,
      maxBodyBytes: options.config.maxBodyBytes, log: options.log,
    });
    this.routes = [
      ...this.#sessionRoutes(),
      ...reviewRoutes({
        router: this.#router, alerts: options.alerts, operators: options.operators, audit: options.audit,
        evidenceKey: options.evidenceKey, published: options.published,
      }),
      ...this.#auditRoutes(),
      ...adminRoutes({
        operators: options.operators, retention: options.retention, lists: options.lists, audit: options.audit,
        dataDir: options.dataDir, maxListUploadBytes: options.config.maxListUploadBytes,
      }),
    ];
  }

  register(app: TemplatedApp): void {
    this.#router.register(app, this.routes);
  }

  #sessionRoutes(): RouteSpec[] {
    const { operators } = this.#o;
    return [
      { method: 'post', path: '/v1/login', roles: 'public', body: true, handle: async (ctx) => {
        if (!this.#logins.allow(ctx.facts.remote, Date.now())) { ctx.ex.error(429, 'RATE_LIMITED', 'too many login attempts; wait a minute'); return }
        const obj = jsonObject(ctx.body ?? Buffer.alloc(0));
        if (typeof obj === 'string') { ctx.ex.error(400, 'BAD_REQUEST', obj); return }
        const { username, password } = obj;
        if (typeof username !== 'string' || typeof password !== 'string' || username.length > 64 || password.length > 1024) {
          ctx.ex.error(400, 'BAD_REQUEST', 'username and password are required strings');
          return;
        }
        const r = await operators.login(username, password, ctx.facts.remote);
        // A locked account gets the same answer as a wrong password: the audit log has the difference.
        if (!r.ok) { ctx.ex.error(401, 'UNAUTHORIZED', 'wrong username or password, or the account is locked'); return }
        ctx.ex.json(200, { token: r.token, expiresAt: r.expiresAt, role: r.role });
      } },
      { method: 'post', path: '/v1/logout', roles: ['admin', 'manager', 'auditor'], handle: async (ctx) => {
        if (ctx.caller?.kind === 'operator') await operators.logout(ctx.caller.principal);
        ctx.ex.json(200, { loggedOut: true });
      } },
      { method: 'get', path: '/v1/me', roles: ['admin', 'manager', 'auditor'], handle: async (ctx) => {
        if (ctx.caller?.kind !== 'operator') return;
        const { username, role } = ctx.caller.principal;
        ctx.ex.json(200, { username, role, caseload: role === 'manager' ? operators.caseload(username).map((e) => e.subjectId) : [] });
      } },
      { method: 'get', path: '/v1/openapi.json', roles: 'public', handle: async (ctx) => {
        ctx.ex.json(200, OPENAPI_DOCUMENT);
      } },
    ];
  }

  #auditRoutes(): RouteSpec[] {
    const { audit } = this.#o;
    return [
      { method: 'get', path: '/v1/audit', roles: ['auditor'], handle: async (ctx) => {
        const q = ctx.facts.query;
        const num = (name: string, dflt: number): number | undefined => {
          const raw = q.get(name);
          if (raw === null || raw === '') return dflt;
          // Past the safe integers the audit entry recording this read could not be written (a 500).
          return /^\d+$/.test(raw) && Number(raw) <= Number.MAX_SAFE_INTEGER ? Number(raw) : undefined;
        };
        const from = num('from', 1);
        const to = num('to', Number.MAX_SAFE_INTEGER);
        const limit = num('limit', 100);
        if (from === undefined || to === undefined || limit === undefined || limit < 1 || limit > MAX_AUDIT_PAGE) {
          ctx.ex.error(400, 'BAD_REQUEST', `from and to must be non-negative integers, limit 1..${MAX_AUDIT_PAGE}`);
          return;
        }
        const entries = audit.read(from, to, limit);
        const last = entries[entries.length - 1];
        const head = audit.head();
        const next = last && last.seq < Math.min(to, head.seq) ? last.seq + 1 : null;
        await audit.append({ actor: ctx.caller?.label ?? 'anonymous', action: 'audit.read', target: 'audit',
          details: { from, to: last?.seq ?? from, count: entries.length } });
        ctx.ex.json(200, { entries, next, prevHash: audit.prevHashOf(entries[0]?.seq ?? from), head });
      } },
      { method: 'get', path: '/v1/audit/verify', roles: ['auditor'], handle: async (ctx) => {
        const result = audit.verify();
        await audit.append({ actor: ctx.caller?.label ?? 'anonymous', action: 'audit.verify', target: 'audit',
          details: result.ok ? { ok: true, count: result.count } : { ok: false, seq: result.seq } });
        ctx.ex.json(200, result);
      } },
    ];
  }
}
