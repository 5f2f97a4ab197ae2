/**
 * The suite's phases, each one question:
 * - budget: at the budgets' rates (open loop, all categories at once), is every category's
 *   event-to-alert p99 within budget, and is its rate sustained? The baseline gets the same swarm.
 * - ratio: as fast as acks allow (closed loop), how many events/s does Vigil ingest, against the baseline?
 * - scaling: as connections grow, what throughput, latency and memory per connection?
 * - http: how fast are `/v1/alerts` page reads, long-polls and `/metrics`?
 * - heartbeat: how soon after a silent device's deadline does its alert arrive?
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Budgets } from './budgets.js';
import { budgetShares, offeredRate } from './budgets.js';
import { alertLongPolls, alertReads, feedHead, metricsScrapes, type HttpFigures } from './http-load.js';
import { startServer, type ServerHandle, type Target } from './server-process.js';
import { prepareDataDir, type Credentials } from './suite-data.js';
import type { SuiteOptions } from './suite-options.js';
import type { ImageSet } from './swarm-images.js';
import { runSwarm, type SwarmFigures, type SwarmOptions } from './swarm.js';

export interface SuiteContext {
  o: SuiteOptions;
  budgets: Budgets;
  images: ImageSet;
  tmp: string;
  progress: (line: string) => void;
  notes: string[];
  /** Aborted when the run is interrupted (Ctrl-C): swarms end at once. */
  signal: AbortSignal;
}

/** A server under test: one the suite started, or the running server of `--url`. */
export interface Server { target: Target; port: number; handle: Pick<ServerHandle, 'sample' | 'stop'> }

export interface ScalingStep {
  connections: number;
  figures: SwarmFigures;
  memory?: { rssBeforeMiB: number; rssConnectedMiB: number; perConnectionKiB: number; anonPerConnectionKiB: number };
}

const HOST = '127.0.0.1';
/**
 * Listed share of text and web events in the scaling curve: enough alerts per step for a p99 (about
 * 500 at 1,000 devices in 10 s). It adds no images, since the scaling swarm answers no captures.
 */
export const SCALING_HIT_RATE = 0.02;
const CONNECT_CONCURRENCY = 128;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts a server on a fresh data folder holding `devices` devices; the caller stops it. */
export async function freshServer(ctx: SuiteContext, target: Target, name: string, devices: number, config: object = {}): Promise<{ server: Server; creds: Credentials }> {
  const dir = join(ctx.tmp, name);
  mkdirSync(dir, { recursive: true });
  ctx.progress(`[${name}] enrolling ${devices} devices in a fresh data folder`);
  const creds = await prepareDataDir(dir, devices, config, ctx.images.hashesCsv);
  const handle = await startServer(target, dir);
  return { server: { target, port: handle.port, handle }, creds };
}

async function swarmOn(ctx: SuiteContext, server: Server, creds: Credentials, o: Omit<SwarmOptions, 'host' | 'port' | 'feedAfter' | 'consumerToken' | 'seed' | 'procs' | 'progress' | 'connectConcurrency' | 'images' | 'listedImageShare' | 'heartbeatGraceSeconds' | 'sampleServer' | 'signal'>): Promise<SwarmFigures> {
  const watch = server.target === 'vigil' && creds.consumerToken !== undefined;
  const feedAfter = watch ? await feedHead(`http://${HOST}:${server.port}`, creds.consumerToken!) : 0;
  return runSwarm({
    ...o, host: HOST, port: server.port, feedAfter, ...(watch ? { consumerToken: creds.consumerToken! } : {}),
    seed: ctx.o.seed, procs: ctx.o.procs, connectConcurrency: CONNECT_CONCURRENCY, progress: ctx.progress,
    images: { listed: ctx.images.listed, unlisted: ctx.images.unlisted }, listedImageShare: ctx.budgets.listedImageShare,
    heartbeatGraceSeconds: 30, sampleServer: () => server.handle.sample(), signal: ctx.signal,
  });
}

export function budgetDevices(ctx: SuiteContext): number { return ctx.o.devices ?? ctx.budgets.devices }

/** All categories at their budget rates at once, open loop. */
export function budgetPhase(ctx: SuiteContext, server: Server, creds: Credentials): Promise<SwarmFigures> {
  const devices = budgetDevices(ctx);
  return swarmOn(ctx, server, creds, {
    label: `budget: ${server.target}`, tokens: creds.tokens.slice(0, devices),
    mode: { kind: 'rate', perDevice: offeredRate(ctx.budgets) / devices }, shares: budgetShares(ctx.budgets),
    hitRate: ctx.budgets.hitRate, answerCaptures: ctx.budgets.answerCaptures,
    warmupSeconds: ctx.o.warmup, seconds: ctx.o.seconds, settleMs: 10_000,
  });
}

/** As fast as acks allow: each device keeps `window` events unacknowledged. No images (see the report). */
export function ratioPhase(ctx: SuiteContext, server: Server, creds: Credentials): Promise<SwarmFigures> {
  const devices = budgetDevices(ctx);
  return swarmOn(ctx, server, creds, {
    label: `as fast as acks allow: ${server.target}`, tokens: creds.tokens.slice(0, devices),
    mode: { kind: 'window', window: ctx.o.window }, shares: budgetShares(ctx.budgets, ['image']),
    hitRate: ctx.budgets.hitRate, answerCaptures: false,
    warmupSeconds: ctx.o.warmup, seconds: ctx.o.ratioSeconds, settleMs: 15_000,
  });
}

/** Events/s per device in the scaling curve: --scaling-rate, else the budgets file's. */
export const scalingRate = (ctx: Pick<SuiteContext, 'o' | 'budgets'>): number => ctx.o.scalingRate ?? ctx.budgets.scalingRatePerDevice;

/** The budget mix without images, at `scalingRate` per device, on a fresh server per step. */
export async function scalingPhase(ctx: SuiteContext, running: { server: Server; creds: Credentials } | undefined): Promise<ScalingStep[]> {
  const shares = budgetShares(ctx.budgets, ['image']);
  const perDevice = scalingRate(ctx);
  const steps: ScalingStep[] = [];
  for (const connections of ctx.o.steps) {
    const own = running ?? await freshServer(ctx, 'vigil', `scaling-${connections}`, connections);
    let before: ReturnType<ServerHandle['sample']>;
    let connected: ReturnType<ServerHandle['sample']>;
    try {
      if (own.creds.tokens.length < connections) {
        ctx.notes.push(`scaling: ${connections} connections asked for, only ${own.creds.tokens.length} device tokens available; step skipped`);
        continue;
      }
      await sleep(1000);
      before = own.server.handle.sample();
      const figures = await swarmOn(ctx, own.server, own.creds, {
        label: `scaling: ${connections} connections`, tokens: own.creds.tokens.slice(0, connections),
        mode: { kind: 'rate', perDevice }, shares, hitRate: SCALING_HIT_RATE, answerCaptures: false,
        warmupSeconds: Math.min(ctx.o.warmup, 3), seconds: ctx.o.stepSeconds, settleMs: 10_000,
        afterConnect: async () => { await sleep(2000); connected = own.server.handle.sample() },
      });
      const step: ScalingStep = { connections, figures };
      if (before && connected) {
        step.memory = {
          rssBeforeMiB: Math.round(before.rssKiB / 1024), rssConnectedMiB: Math.round(connected.rssKiB / 1024),
          perConnectionKiB: Number(((connected.rssKiB - before.rssKiB) / figures.connected).toFixed(2)),
          anonPerConnectionKiB: Number(((connected.anonKiB - before.anonKiB) / figures.connected).toFixed(2)),
        };
      }
      steps.push(step);
    } finally {
      if (!running) await own.server.handle.stop();
    }
  }
  return steps;
}

/** autocannon: page reads, long-polls (while a few devices raise alerts), /metrics. */
export async function httpPhase(ctx: SuiteContext, server: Server, creds: Credentials): Promise<HttpFigures[]> {
  const t = { base: `http://${HOST}:${server.port}`, consumerToken: creds.consumerToken };
  const s = ctx.o.httpSeconds;
  const c = ctx.o.httpConnections;
  ctx.progress(`[http] page reads of /v1/alerts, ${c} connections, ${s} s`);
  const reads = await alertReads(t, c, s);
  ctx.progress(`[http] long-polls of /v1/alerts while 100 devices raise alerts, ${c} connections, ${s} s`);
  const background = swarmOn(ctx, server, { tokens: creds.tokens.slice(0, 100), consumerToken: undefined }, {
    label: 'http: alerts for the long-polls', tokens: creds.tokens.slice(0, 100), mode: { kind: 'rate', perDevice: 2 },
    shares: { text: 1 }, hitRate: 0.1, answerCaptures: false, warmupSeconds: 0, seconds: s + 2, settleMs: 2000,
  });
  const polls = await alertLongPolls(t, c, s);
  await background;
  ctx.progress(`[http] /metrics, 4 connections, ${s} s`);
  const metrics = await metricsScrapes(t, 4, s);
  return [reads, polls, metrics];
}

/** Devices send one heartbeat each and fall silent; each should get its heartbeat-missed alert. */
export async function heartbeatPhase(ctx: SuiteContext, server: Server, creds: Credentials, deadlineSeconds: number, budgetMs: number): Promise<SwarmFigures> {
  return swarmOn(ctx, server, creds, {
    label: 'heartbeat deadlines', tokens: creds.tokens.slice(-ctx.o.heartbeat.devices),
    mode: { kind: 'silent' }, shares: { heartbeat: 1 }, hitRate: 0, answerCaptures: false,
    warmupSeconds: 0, seconds: 1.2, settleMs: deadlineSeconds * 1000 + budgetMs + 8000,
  });
}
