/**
 * The budgets Vigil holds itself to (bench/budgets.json): per alert category, the p99
 * event-to-alert latency and the minimum sustained rate, plus how soon after a heartbeat deadline
 * its alert must follow. The budget phase's traffic is derived from them, and `evaluate` marks each
 * as met, missed, or not measured.
 */
import { readFileSync } from 'node:fs';
import { CATEGORIES, type Category } from '../core/index.js';
import { EVENT_TYPES, type EventShares, type EventType } from './swarm-protocol.js';
import type { AlertFigures, SwarmFigures } from './swarm.js';

export interface CategoryBudget {
  /** Event-to-alert p99, ms; absent when the category raises no alert from events. */
  p99Ms?: number;
  /** Heartbeat only: p99 of the time from a deadline to its heartbeat-missed alert, ms. */
  deadlineP99Ms?: number;
  /** Acked events/s of this category's event types that the node must sustain. */
  minRate: number;
  /** The category's event types and their shares within it. */
  events: EventShares;
}

export interface Budgets {
  devices: number;
  hitRate: number;
  listedImageShare: number;
  /** The budget phase offers minRate x offerFactor, so that "sustained" is not decided by rounding. */
  offerFactor: number;
  answerCaptures: boolean;
  /** Events/s per device in the scaling curve. */
  scalingRatePerDevice: number;
  categories: Partial<Record<Category, CategoryBudget>>;
}

export type VerdictStatus = 'met' | 'missed' | 'not measured';

export interface Verdict {
  category: Category;
  measure: 'event-to-alert p99' | 'sustained rate' | 'alert after heartbeat deadline p99';
  budget: number;
  unit: 'ms' | 'events/s';
  measured: number | undefined;
  status: VerdictStatus;
  note?: string;
}

/** More alerts missing than this share of those expected means the p99 itself never arrived. */
const MISSING_TOLERANCE = 0.01;

function positive(v: unknown, key: string, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new Error(`budgets: ${key} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Reads and validates a budgets file; errors name the key. */
export function loadBudgets(path: string): Budgets {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const cats = raw.categories;
  if (typeof cats !== 'object' || cats === null) throw new Error('budgets: categories must be an object');
  const categories: Budgets['categories'] = {};
  for (const [name, v] of Object.entries(cats as Record<string, Record<string, unknown>>)) {
    if (!(CATEGORIES as readonly string[]).includes(name)) throw new Error(`budgets: categories.${name} is not a category (${CATEGORIES.join(', ')})`);
    const key = `categories.${name}`;
    const events: EventShares = {};
    for (const [t, share] of Object.entries((v.events ?? {}) as Record<string, unknown>)) {
      if (!(EVENT_TYPES as readonly string[]).includes(t)) throw new Error(`budgets: ${key}.events.${t} is not an event type`);
      events[t as EventType] = positive(share, `${key}.events.${t}`);
    }
    if (Object.keys(events).length === 0) throw new Error(`budgets: ${key}.events must name at least one event type`);
    const b: CategoryBudget = { minRate: positive(v.minRate, `${key}.minRate`), events };
    if (v.p99Ms !== undefined && v.p99Ms !== null) b.p99Ms = positive(v.p99Ms, `${key}.p99Ms`);
    if (v.deadlineP99Ms !== undefined && v.deadlineP99Ms !== null) b.deadlineP99Ms = positive(v.deadlineP99Ms, `${key}.deadlineP99Ms`);
    categories[name as Category] = b;
  }
  const share = positive(raw.listedImageShare ?? 0.5, 'listedImageShare', true);
  const hitRate = positive(raw.hitRate ?? 0.01, 'hitRate', true);
  if (share > 1 || hitRate > 1) throw new Error('budgets: hitRate and listedImageShare must be at most 1');
  return {
    devices: Math.round(positive(raw.devices ?? 1000, 'devices')), hitRate, listedImageShare: share,
    offerFactor: positive(raw.offerFactor ?? 1.1, 'offerFactor'), answerCaptures: raw.answerCaptures !== false,
    scalingRatePerDevice: positive(raw.scalingRatePerDevice ?? 2.5, 'scalingRatePerDevice'), categories,
  };
}

/** Events/s the budget phase offers in all. */
export function offeredRate(b: Budgets): number {
  return Object.values(b.categories).reduce((a, c) => a + c.minRate * b.offerFactor, 0);
}

/** Event-type shares that give every category its minRate x offerFactor. */
export function budgetShares(b: Budgets, without: readonly EventType[] = []): EventShares {
  const shares: EventShares = {};
  for (const c of Object.values(b.categories)) {
    const total = Object.values(c.events).reduce((a, s) => a + s, 0);
    for (const [t, s] of Object.entries(c.events) as [EventType, number][]) {
      if (!without.includes(t)) shares[t] = (shares[t] ?? 0) + (c.minRate * b.offerFactor * s) / total;
    }
  }
  return shares;
}

function latencyVerdict(category: Category, measure: Verdict['measure'], budget: number, a: AlertFigures | undefined): Verdict {
  const v: Verdict = { category, measure, budget, unit: 'ms', measured: a?.latency?.p99, status: 'not measured' };
  if (!a || a.expected === 0) { v.note = 'no alert was expected in the run'; return v }
  if (!a.latency) { v.status = 'missed'; v.note = `none of ${a.expected} expected alerts arrived`; return v }
  v.status = a.latency.p99 <= budget ? 'met' : 'missed';
  if (a.missing > 0) {
    v.note = `${a.missing} of ${a.expected} expected alerts never arrived`;
    if (a.missing > a.expected * MISSING_TOLERANCE) v.status = 'missed';
  }
  return v;
}

/** Marks every budget met, missed, or not measured, from the budget phase and the heartbeat phase. */
export function evaluate(b: Budgets, phase: SwarmFigures | undefined, heartbeat: SwarmFigures | undefined): Verdict[] {
  const out: Verdict[] = [];
  for (const [category, c] of Object.entries(b.categories) as [Category, CategoryBudget][]) {
    if (c.p99Ms !== undefined) {
      out.push(phase ? latencyVerdict(category, 'event-to-alert p99', c.p99Ms, phase.alerts[category])
        : { category, measure: 'event-to-alert p99', budget: c.p99Ms, unit: 'ms', measured: undefined, status: 'not measured', note: 'budget phase not run' });
    }
    const rate = phase?.categoryRates[category];
    const rv: Verdict = { category, measure: 'sustained rate', budget: c.minRate, unit: 'events/s', measured: rate,
      status: rate === undefined ? 'not measured' : rate >= c.minRate ? 'met' : 'missed' };
    if (!phase) rv.note = 'budget phase not run';
    out.push(rv);
    if (c.deadlineP99Ms !== undefined) {
      const v = heartbeat ? latencyVerdict(category, 'alert after heartbeat deadline p99', c.deadlineP99Ms, heartbeat.heartbeatMissed)
        : { category, measure: 'alert after heartbeat deadline p99', budget: c.deadlineP99Ms, unit: 'ms', measured: undefined, status: 'not measured', note: 'heartbeat phase not run' } satisfies Verdict;
      out.push(v);
    }
  }
  return out;
}

/** Acked within this share of the offered rate counts as keeping up. */
const KEEPING_UP = 0.98;

/** Whether a load was kept up with: no rejects, and acks arriving at the offered rate. */
export function keptUp(f: SwarmFigures): { ok: boolean; why?: string } {
  const rejects = Object.values(f.rejects).reduce((a, n) => a + n, 0);
  if (rejects > 0) return { ok: false, why: `${rejects} events rejected` };
  if (f.offeredPerSecond !== undefined && f.ackedPerSecond < f.offeredPerSecond * KEEPING_UP) {
    return { ok: false, why: `acked ${f.ackedPerSecond} of ${f.offeredPerSecond} events/s` };
  }
  return { ok: true };
}

/**
 * Whether a load held the budgets that apply to it: kept up with (see keptUp), and every category's
 * measured event-to-alert p99 within budget. Returns the first reason it did not.
 */
export function withinBudgets(b: Budgets, f: SwarmFigures): { ok: boolean; why?: string } {
  const k = keptUp(f);
  if (!k.ok) return k;
  for (const [c, a] of Object.entries(f.alerts) as [Category, AlertFigures][]) {
    const budget = b.categories[c]?.p99Ms;
    if (budget !== undefined && a.latency && a.latency.p99 > budget) return { ok: false, why: `${c} alert p99 ${a.latency.p99} ms` };
    if (a.missing > a.expected * MISSING_TOLERANCE) return { ok: false, why: `${a.missing} ${c} alerts missing` };
  }
  return { ok: true };
}
