/**
 * Routes of the operator API, each declared with the roles that may call it. The router answers 401
 * to a request without a valid token (operator session or feed consumer) and 403, with an
 * `access.denied` audit entry, to a caller whose role is not listed, before the handler runs or any
 * body is read. Handlers check the caseload themselves, since it depends on the record asked for.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from 'pino';
import type { AuditLog, OperatorRole, OperatorStore, Principal, RegistryStore } from '../store/index.js';
import { Exchange, requestFacts, type RequestFacts } from './operator-http.js';

export type Role = OperatorRole | 'consumer';
export const ROLES: readonly Role[] = ['admin', 'manager', 'auditor', 'consumer'];

/** Who is calling: an operator with a session, or a feed consumer (who may use the feed only). */
export type Caller =
  | { kind: 'operator'; role: OperatorRole; principal: Principal; label: string }
  | { kind: 'consumer'; role: 'consumer'; consumerId: string; label: string };

export type Method = 'get' | 'post' | 'put' | 'patch' | 'del';

export interface RouteContext<C extends Caller | undefined = Caller> {
  facts: RequestFacts;
  ex: Exchange;
  caller: C;
  body: Buffer | undefined;
}

export interface RouteSpec {
  method: Method;
  /** uWS pattern, e.g. `/v1/operator/alerts/:id` */
  path: string;
  /** Who may call it; `public` needs no token. */
  roles: readonly Role[] | 'public';
  /** Read the request body (up to `maxBody`, else the API's default limit). */
  body?: boolean;
  maxBody?: number;
  handle(ctx: RouteContext<Caller | undefined>): Promise<void>;
}

export interface RouterOptions {
  operators: OperatorStore;
  registry: RegistryStore;
  audit: AuditLog;
  maxBodyBytes: number;
  log: Logger;
}

export class OperatorRouter {
  readonly #o: RouterOptions;

  constructor(options: RouterOptions) {
    this.#o = options;
  }

  /** The caller behind an `Authorization: Bearer` header, or undefined. */
  authenticate(authorization: string): Caller | undefined {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (token === undefined) return undefined;
    if (token.startsWith('vo1.')) {
      const principal = this.#o.operators.authenticate(token);
      return principal ? { kind: 'operator', role: principal.role, principal, label: `operator:${principal.username}` } : undefined;
    }
    const consumer = this.#o.registry.authenticateConsumer(token);
    return consumer ? { kind: 'consumer', role: 'consumer', consumerId: consumer.consumerId, label: `consumer:${consumer.consumerId}` } : undefined;
  }

  /**
   * Records a refused request in the audit log with `reason`, then answers 403 with `answer` (the reason, unless it
   * names what the caller may not know, such as the subject of an alert not on their caseload).
   */
  async deny(ctx: RouteContext<Caller>, reason: string, answer = reason): Promise<void> {
    await this.#o.audit.append({
      actor: ctx.caller.label, action: 'access.denied', target: `${ctx.facts.method} ${ctx.facts.url}`,
      details: { role: ctx.caller.role, reason },
    });
    ctx.ex.error(403, 'FORBIDDEN', answer);
  }

  register(app: TemplatedApp, routes: readonly RouteSpec[]): void {
    for (const route of routes) {
      const paramCount = route.path.split('/').filter((s) => s.startsWith(':')).length;
      app[route.method](route.path, (res: HttpResponse, req: HttpRequest) => {
        const facts = requestFacts(res, req, paramCount);
        const ex = new Exchange(res);
        if (typeof facts === 'string') { ex.error(400, 'BAD_REQUEST', facts); return }
        void this.#run(route, facts, ex).catch((err: unknown) => {
          this.#o.log.error({ err, method: facts.method, url: facts.url }, 'operator API request failed');
          ex.error(500, 'INTERNAL', 'the request could not be completed');
        });
      });
    }
  }

  async #run(route: RouteSpec, facts: RequestFacts, ex: Exchange): Promise<void> {
    const caller = this.authenticate(facts.authorization);
    if (route.roles !== 'public') {
      if (caller === undefined) {
        ex.error(401, 'UNAUTHORIZED', 'a valid bearer token is required (Authorization: Bearer <token>)');
        return;
      }
      if (!route.roles.includes(caller.role)) {
        // The body is never read: uWS drops it with the exchange.
        await this.deny({ facts, ex, caller, body: undefined }, `the ${caller.role} role may not ${facts.method} ${route.path}`);
        return;
      }
    }
    let body: Buffer | undefined;
    if (route.body) {
      body = await ex.body(route.maxBody ?? this.#o.maxBodyBytes);
      if (body === undefined) return; // too large (answered 413) or the client went away
    }
    await route.handle({ facts, ex, caller, body });
  }
}
