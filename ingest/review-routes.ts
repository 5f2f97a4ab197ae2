/**
 * Human review of alerts, for managers and only for the subjects on their own caseload: list with
 * filters, read an alert with its evidence, move it through review (a decision needs a rationale),
 * hold it past retention, delete its evidence or the whole alert. Every read and change is audited
 * before the answer goes out; changes are published on the feed as notices.
 */
import {
  CATEGORIES, REVIEW_STATES, SEVERITIES, isDecision,
  type Alert, type Category, type ReviewState, type Severity,
} from '../core/index.js';
import { openEvidence, type AlertStore, type AuditLog, type DeletionReceipt, type OperatorStore, type Outcome } from '../store/index.js';
import { jsonObject, stringField, timeParam, type Exchange } from './operator-http.js';
import type { OperatorRouter, RouteContext, RouteSpec, Caller } from './operator-router.js';

export interface ReviewRoutesOptions {
  router: OperatorRouter;
  alerts: AlertStore;
  operators: OperatorStore;
  audit: AuditLog;
  evidenceKey: Uint8Array;
  /** Wakes feed subscribers after a notice is stored. */
  published: () => void;
}

const MAX_RATIONALE = 4000;
const MAX_REASON = 1000;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

/** An alert as operators see it. */
export function alertView(a: Alert): Record<string, unknown> {
  return {
    id: a.id, sequence: a.seq, category: a.category, subjectId: a.subjectId, deviceId: a.deviceId,
    eventSeq: a.eventSeq, eventAt: a.eventAt, raisedAt: a.raisedAt, severity: a.severity, state: a.state, match: a.match,
    captureId: a.captureId ?? null,
    evidence: a.evidenceId === undefined ? null : { id: a.evidenceId, href: `/v1/operator/alerts/${a.id}/evidence` },
    evidenceDeleted: a.evidenceDeleted ?? null,
    review: a.review ?? null,
    hold: a.hold ?? null,
  };
}

const problem = (v: unknown): v is { problem: string } => typeof v === 'object' && v !== null && 'problem' in v;

function failure(ex: Exchange, r: Extract<Outcome<unknown>, { ok: false }>): void {
  const status = { NOT_FOUND: 404, CONFLICT: 409, INVALID: 400, GONE: 410 }[r.code];
  ex.error(status, r.code === 'INVALID' ? 'BAD_REQUEST' : r.code, r.message);
}

export function reviewRoutes(o: ReviewRoutesOptions): RouteSpec[] {
  const who = (c: Caller) => ({ username: c.kind === 'operator' ? c.principal.username : c.label, label: c.label });

  /** The alert named in the path, if it exists and its subject is on the caller's caseload. */
  async function target(ctx: RouteContext): Promise<Alert | undefined> {
    const id = ctx.facts.params[0] ?? '';
    const alert = o.alerts.byId(id);
    if (!alert || alert.notice !== undefined) { ctx.ex.error(404, 'NOT_FOUND', `no alert ${id}`); return undefined }
    if (ctx.caller.kind !== 'operator' || !o.operators.onCaseload(ctx.caller.principal.username, alert.subjectId)) {
      await o.router.deny(ctx, `subject ${alert.subjectId} is not on your caseload`, `alert ${id} is not on your caseload`);
      return undefined;
    }
    return alert;
  }

  /** The body's JSON object, or undefined after answering 400. */
  function body(ctx: RouteContext): Record<string, unknown> | undefined {
    const parsed = jsonObject(ctx.body ?? Buffer.alloc(0));
    if (typeof parsed === 'string') { ctx.ex.error(400, 'BAD_REQUEST', parsed); return undefined }
    return parsed;
  }

  function reason(ctx: RouteContext, obj: Record<string, unknown>): string | undefined {
    const r = stringField(obj, 'reason', MAX_REASON);
    if (r === undefined || problem(r) || r.trim() === '') {
      ctx.ex.error(400, 'BAD_REQUEST', problem(r) ? r.problem : 'a reason is required');
      return undefined;
    }
    return r;
  }

  const managers = ['manager'] as const;
  const route = (spec: Omit<RouteSpec, 'roles' | 'handle'> & { handle(ctx: RouteContext): Promise<void> }): RouteSpec =>
    ({ ...spec, roles: managers, handle: (ctx) => spec.handle(ctx as RouteContext) });

  /** DELETE of an alert or of its evidence: a reason, the alert on the caseload, then a receipt. */
  const deletion = (path: string,
    remove: (id: string, by: ReturnType<typeof who>, why: string) => Promise<Outcome<DeletionReceipt>>): RouteSpec =>
    route({ method: 'del', path, body: true, async handle(ctx) {
      const obj = body(ctx);
      if (!obj) return;
      const why = reason(ctx, obj);
      if (why === undefined) return;
      const alert = await target(ctx);
      if (!alert) return;
      const r = await remove(alert.id, who(ctx.caller), why);
      if (!r.ok) { failure(ctx.ex, r); return }
      o.published();
      ctx.ex.json(200, receipt(r.value.audit, r.value.scrubbed, r.value.notices));
    } });

  return [
    route({ method: 'get', path: '/v1/operator/alerts', async handle(ctx) {
      const q = ctx.facts.query;
      const pick = <T extends string>(name: string, allowed: readonly T[]): T | undefined | { problem: string } => {
        const v = q.get(name);
        if (v === null || v === '') return undefined;
        return (allowed as readonly string[]).includes(v) ? v as T : { problem: `${name} must be one of ${allowed.join(', ')}` };
      };
      const category = pick<Category>('category', CATEGORIES);
      const severity = pick<Severity>('severity', SEVERITIES);
      const state = pick<ReviewState>('state', REVIEW_STATES);
      const held = pick('held', ['true', 'false']);
      const order = pick('order', ['asc', 'desc']);
      const from = timeParam(q, 'from');
      const to = timeParam(q, 'to');
      const limitRaw = q.get('limit');
      const cursorRaw = q.get('cursor');
      // Plain decimal digits only: Number() would also take 0x10, 1e3, 1.0 and a blank.
      const decimal = (raw: string): number => (/^\d{1,16}$/.test(raw) ? Number(raw) : NaN);
      const limit = limitRaw === null ? DEFAULT_LIMIT : decimal(limitRaw);
      const cursor = cursorRaw === null ? 0 : decimal(cursorRaw);
      for (const v of [category, severity, state, held, order, from, to]) {
        if (problem(v)) { ctx.ex.error(400, 'BAD_REQUEST', v.problem); return }
      }
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) { ctx.ex.error(400, 'BAD_REQUEST', `limit must be 1..${MAX_LIMIT}`); return }
      if (!Number.isSafeInteger(cursor)) { ctx.ex.error(400, 'BAD_REQUEST', 'cursor must be a non-negative integer'); return }
      const username = ctx.caller.kind === 'operator' ? ctx.caller.principal.username : '';
      const caseload = o.operators.caseload(username).map((e) => e.subjectId as string);
      const subject = q.get('subject');
      if (subject !== null && subject !== '' && !caseload.includes(subject)) {
        await o.router.deny(ctx, `subject ${subject} is not on your caseload`);
        return;
      }
      const page = o.alerts.list({
        subjects: subject ? [subject] : caseload,
        ...(category !== undefined ? { category: category as Category } : {}),
        ...(severity !== undefined ? { severity: severity as Severity } : {}),
        ...(state !== undefined ? { state: state as ReviewState } : {}),
        ...(held !== undefined ? { held: held === 'true' } : {}),
        ...(from !== undefined ? { from: from as number } : {}),
        ...(to !== undefined ? { to: to as number } : {}),
        newestFirst: order === 'desc', cursor, limit,
      });
      const filters: Record<string, string> = {};
      for (const k of ['subject', 'category', 'severity', 'state', 'held', 'from', 'to', 'order', 'cursor', 'limit']) {
        const v = q.get(k);
        if (v !== null && v !== '') filters[k] = v;
      }
      await o.audit.append({ actor: ctx.caller.label, action: 'alert.list', target: 'alerts',
        details: { filters, alerts: page.alerts.map((a) => a.id) } });
      ctx.ex.json(200, { alerts: page.alerts.map(alertView), next: page.next });
    } }),

    route({ method: 'get', path: '/v1/operator/alerts/:id', async handle(ctx) {
      const alert = await target(ctx);
      if (!alert) return;
      const record = alert.evidenceId === undefined ? undefined : o.alerts.evidence(alert.evidenceId);
      await o.audit.append({ actor: ctx.caller.label, action: 'alert.read', target: `alert:${alert.id}`, details: { subjectId: alert.subjectId } });
      const view = alertView(alert);
      if (record && view.evidence) view.evidence = { ...view.evidence as object, format: record.sealed.format, bytes: record.sealed.bytes };
      ctx.ex.json(200, view);
    } }),

    route({ method: 'get', path: '/v1/operator/alerts/:id/evidence', async handle(ctx) {
      const alert = await target(ctx);
      if (!alert) return;
      if (alert.evidenceId === undefined) {
        if (alert.evidenceDeleted) ctx.ex.error(410, 'GONE', `the evidence of alert ${alert.id} was deleted`);
        else ctx.ex.error(404, 'NOT_FOUND', `alert ${alert.id} has no evidence`);
        return;
      }
      const record = o.alerts.evidence(alert.evidenceId);
      if (!record) { ctx.ex.error(410, 'GONE', `the evidence of alert ${alert.id} was deleted`); return }
      const image = openEvidence(o.evidenceKey, record.deviceId, record.eventSeq, record.sealed);
      await o.audit.append({ actor: ctx.caller.label, action: 'evidence.read', target: `alert:${alert.id}`,
        details: { subjectId: alert.subjectId, evidenceId: alert.evidenceId, bytes: image.length } });
      // Bytes no decoder could read, kept because their exact hash is listed, have no image type to give.
      const type = record.sealed.format === 'octet-stream' ? 'application/octet-stream' : `image/${record.sealed.format}`;
      ctx.ex.send(200, type, image, { 'x-content-type-options': 'nosniff' });
    } }),

    route({ method: 'post', path: '/v1/operator/alerts/:id/review', body: true, async handle(ctx) {
      const obj = body(ctx);
      if (!obj) return;
      const state = obj.state;
      if (typeof state !== 'string' || !(REVIEW_STATES as readonly string[]).includes(state)) {
        ctx.ex.error(400, 'BAD_REQUEST', `state must be one of ${REVIEW_STATES.join(', ')}`);
        return;
      }
      const rationale = stringField(obj, 'rationale', MAX_RATIONALE);
      if (problem(rationale)) { ctx.ex.error(400, 'BAD_REQUEST', rationale.problem); return }
      if (isDecision(state as ReviewState) && (rationale === undefined || rationale.trim() === '')) {
        ctx.ex.error(400, 'RATIONALE_REQUIRED', `moving an alert to ${state} needs a written rationale`);
        return;
      }
      const alert = await target(ctx);
      if (!alert) return;
      const r = await o.alerts.review(alert.id, state as ReviewState, who(ctx.caller), rationale);
      if (!r.ok) { failure(ctx.ex, r); return }
      o.published();
      ctx.ex.json(200, { alert: alertView(r.value.alert), feedSequence: r.value.notices[0]?.seq ?? null, auditSeq: r.value.audit.seq });
    } }),

    route({ method: 'post', path: '/v1/operator/alerts/:id/hold', body: true, async handle(ctx) {
      const obj = body(ctx);
      if (!obj) return;
      if (typeof obj.held !== 'boolean') { ctx.ex.error(400, 'BAD_REQUEST', 'held must be true or false'); return }
      const why = reason(ctx, obj);
      if (why === undefined) return;
      const alert = await target(ctx);
      if (!alert) return;
      const r = await o.alerts.setHold(alert.id, obj.held, who(ctx.caller), why);
      if (!r.ok) { failure(ctx.ex, r); return }
      ctx.ex.json(200, { alert: alertView(r.value.alert), auditSeq: r.value.audit?.seq ?? null });
    } }),

    deletion('/v1/operator/alerts/:id/evidence', (id, by, why) => o.alerts.deleteEvidence(id, by, why)),
    deletion('/v1/operator/alerts/:id', (id, by, why) => o.alerts.deleteAlert(id, by, why)),
  ];
}

function receipt(audit: { seq: number; at: number; actor: string; action: string; target: string; hash: string },
  scrubbed: { copies: number; bytes: number }, notices: readonly Alert[]): Record<string, unknown> {
  return {
    receipt: { auditSeq: audit.seq, at: audit.at, by: audit.actor, action: audit.action, target: audit.target, hash: audit.hash },
    scrubbed, feedSequences: notices.map((n) => n.seq),
  };
}
