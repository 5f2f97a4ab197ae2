/**
 * What the suite's orchestrator and its load processes (bench/swarm-load.ts, started with fork())
 * say to each other over IPC. A load process gets one job, connects its devices, and then follows
 * `start` (send, not yet measured), `measure` (record from now on) and `stop` (stop sending, wait for
 * outstanding acks and alerts, report). Histograms travel as HdrHistogram compressed base64, in µs.
 */
import type { Category } from '../core/index.js';

export type EventType = 'text' | 'dns' | 'url' | 'app' | 'image' | 'heartbeat' | 'tamper' | 'location';
export const EVENT_TYPES: readonly EventType[] = ['text', 'dns', 'url', 'app', 'image', 'heartbeat', 'tamper', 'location'];

/** Relative shares of each event type in the swarm's traffic; they need not sum to one. */
export type EventShares = Partial<Record<EventType, number>>;

/**
 * `rate`: open loop, `perDevice` events/s on average per device, latency measured from each event's
 * intended send time, so a stalled server is charged for the events it delayed (no coordinated
 * omission). `window`: closed loop, each device keeps `window` events unacknowledged (as fast as
 * acks allow). `silent`: each device sends one heartbeat and then nothing (heartbeat deadlines).
 */
export type LoadMode =
  | { kind: 'rate'; perDevice: number }
  | { kind: 'window'; window: number }
  | { kind: 'silent' };

export interface SwarmJob {
  host: string;
  port: number;
  /** Device tokens (`vd1.<deviceId>.<secret>`) of this process's share of the swarm. */
  tokens: string[];
  /** With a consumer token, the process watches `/v1/feed?after=feedAfter` for its devices' alerts. */
  consumerToken?: string;
  feedAfter: number;
  mode: LoadMode;
  shares: EventShares;
  /** Share of text, dns, url and app events carrying a listed term, domain or app. */
  hitRate: number;
  /** Share of image events drawn from the listed images. */
  listedImageShare: number;
  images: { listed: string[]; unlisted: string[] };
  /** Answer `capture` requests with a screenshot (an unlisted image), as the monitoring app does. */
  answerCaptures: boolean;
  /** Fallback for heartbeat deadlines when an alert does not state its deadline. */
  heartbeatGraceSeconds: number;
  seed: number;
  connectConcurrency: number;
}

export type SwarmCommand =
  | { type: 'job'; job: SwarmJob }
  | { type: 'start' }
  | { type: 'measure' }
  | { type: 'stop'; settleMs: number };

export interface SwarmProgress { sent: number; acked: number; rejected: number; alerts: number }

export interface TypeResult {
  /** Events sent in the measured interval. */
  sent: number;
  /** Of those, acknowledged (possibly after the interval, while settling). */
  acked: number;
  /** Acks that arrived within the measured interval, for any event: the throughput. */
  ackedInWindow: number;
  rejects: Record<string, number>;
  /** Ack latency, µs. */
  histogram: string;
}

export interface AlertResult {
  /** Measured events that should raise an alert of this category. */
  expected: number;
  seen: number;
  /** Event-to-alert latency, µs. */
  histogram: string;
}

export interface LoadResult {
  /** Length of the measured interval, s. */
  seconds: number;
  /** CPU time (user + system) this process used in the measured interval, µs. */
  cpuMicros: number;
  types: Partial<Record<EventType, TypeResult>>;
  alerts: Partial<Record<Category, AlertResult>>;
  /** Heartbeat-missed alerts: time from the deadline the alert states to the alert on the feed, µs. */
  heartbeatMissed: { expected: number; seen: number; histogram: string };
  /**
   * Open loop: how late each measured event was sent, from its intended send time, µs (a busy
   * generator's own delay, which the ack latency includes).
   */
  sendLag: string;
  /** Alerts for this process's devices that no sent event explains, by CloudEvents type. */
  unexpectedAlerts: Record<string, number>;
  captures: number;
  /** Events the schedule asked for that could not be sent (device disconnected). */
  skipped: number;
  /** Measured events neither acknowledged nor rejected when the process stopped waiting. */
  unacked: number;
  /** Socket closes while running, by close cause. */
  closes: Record<string, number>;
}

export type SwarmMessage =
  | { type: 'ready'; connected: number; failed: number; firstError?: string }
  | { type: 'progress'; progress: SwarmProgress }
  | { type: 'result'; result: LoadResult };
