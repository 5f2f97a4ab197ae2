import { performance } from 'node:perf_hooks';

/**
 * A small Prometheus registry: counters with labels, gauges read on scrape, and histograms with fixed
 * buckets. Rendered in the Prometheus text exposition format (version 0.0.4) on `/metrics`.
 */
type Labels = Readonly<Record<string, string>>;

const labelKey = (labels: Labels): string =>
  Object.keys(labels).sort().map((k) => `${k}="${String(labels[k]).replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`).join(',');

interface Metric { render(): string }

/** Distinct values of one label whose rendered key a counter remembers; past this it renders each time. */
const MAX_REMEMBERED_VALUES = 1024;

export class Counter implements Metric {
  readonly #values = new Map<string, number>();
  /** Rendered keys of one-label sets, by label name and value: counted on every event, rendered once. */
  readonly #single = new Map<string, Map<string, string>>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = this.#keyOf(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number { return this.#values.get(this.#keyOf(labels)) ?? 0 }

  /** One label set's count, its key worked out once: for counts made per event (no labels object, no key per call). */
  labelled(labels: Labels): { inc(by?: number): void } {
    const key = labelKey(labels);
    const values = this.#values;
    return { inc: (by = 1) => { values.set(key, (values.get(key) ?? 0) + by) } };
  }

  #keyOf(labels: Labels): string {
    const names = Object.keys(labels);
    const name = names[0];
    if (names.length !== 1 || name === undefined) return labelKey(labels);
    const value = String(labels[name]);
    let byValue = this.#single.get(name);
    if (!byValue) {
      byValue = new Map();
      this.#single.set(name, byValue);
    }
    let key = byValue.get(value);
    if (key === undefined) {
      key = labelKey(labels);
      if (byValue.size < MAX_REMEMBERED_VALUES) byValue.set(value, key);
    }
    return key;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.#values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.#values) lines.push(k ? `${this.name}{${k}} ${v}` : `${this.name} ${v}`);
    return lines.join('\n');
  }
}

export class Gauge implements Metric {
  constructor(readonly name: string, readonly help: string, readonly read: () => number) {}
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${this.read()}`].join('\n');
  }
}

/** A counter whose values, by one label, are read at scrape time from something that keeps its own totals. */
export class ReadCounter implements Metric {
  constructor(readonly name: string, readonly help: string, readonly label: string,
    readonly read: () => Readonly<Record<string, number>>) {}
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [value, v] of Object.entries(this.read())) lines.push(`${this.name}{${labelKey({ [this.label]: value })}} ${v}`);
    return lines.join('\n');
  }
}

/** Buckets in seconds, from 0.1 ms to 10 s. */
export const DEFAULT_LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram implements Metric {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[] = DEFAULT_LATENCY_BUCKETS) {
    this.#counts = new Array<number>(buckets.length).fill(0);
  }
  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) { this.#counts[i] = (this.#counts[i] as number) + 1; break; }
    }
  }
  get count(): number { return this.#count }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    let cumulative = 0;
    this.buckets.forEach((b, i) => {
      cumulative += this.#counts[i] as number;
      lines.push(`${this.name}_bucket{le="${b}"} ${cumulative}`);
    });
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`, `${this.name}_sum ${this.#sum}`, `${this.name}_count ${this.#count}`);
    return lines.join('\n');
  }
}

/** Every metric Vigil exports, in one place so that their names stay consistent. */
export class Metrics {
  readonly #all: Metric[] = [];
  readonly connections = this.#add(new Counter('vigil_device_connections_total', 'Device WebSocket connections opened'));
  readonly events = this.#add(new Counter('vigil_events_total', 'Device events accepted and journaled, by type'));
  readonly rejects = this.#add(new Counter('vigil_rejects_total', 'Device events rejected, by code'));
  readonly alerts = this.#add(new Counter('vigil_alerts_total', 'Alerts raised, by category'));
  readonly authFailures = this.#add(new Counter('vigil_auth_failures_total', 'Refused upgrades and requests, by endpoint'));
  readonly ackLatency = this.#add(new Histogram('vigil_ack_latency_seconds', 'From receiving an event to its durable ack being sent'));
  readonly alertLatency = this.#add(new Histogram('vigil_event_to_alert_latency_seconds', 'From receiving an event to its alert being stored'));
  /**
   * How old an event is when the server reads it, by the device's own clock (`at`): time spent queued on the device
   * (offline, or behind a slow link), in the network and in the server's socket before its event loop reached it,
   * plus any clock skew (a device clock ahead of the server's counts as 0).
   */
  readonly eventAge = this.#add(new Histogram('vigil_event_age_seconds',
    'From an event\'s time on the device (at) to the server reading its frame; includes device clock skew',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400]));
  readonly journalBatch = this.#add(new Histogram('vigil_journal_batch_events', 'Events per journal group commit',
    [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]));
  readonly journalCommit = this.#add(new Histogram('vigil_journal_commit_seconds',
    'Time each journal group commit (a synchronous transaction, synced to disk) held the event loop'));

  /**
   * Time the main thread's event loop (device sockets, journal commits, acks, the pipeline's own work) spent
   * running callbacks (`active`) and waiting for something to do (`idle`), from Node's event loop utilisation.
   * `rate(active) / (rate(active) + rate(idle))` is how busy ingest's thread is: near 1, every event waits in
   * its socket for the loop to come round to it.
   */
  readonly eventLoop = this.#add(new ReadCounter('vigil_event_loop_seconds_total',
    'Time the main thread\'s event loop spent running callbacks (active) and waiting for events (idle)', 'state',
    () => {
      const { active, idle } = performance.eventLoopUtilization();
      return { active: active / 1000, idle: idle / 1000 };
    }));

  #add<M extends Metric>(m: M): M { this.#all.push(m); return m }

  /** Adds a metric owned by another module (it keeps the reference to update it). */
  register<M extends Counter | Histogram>(m: M): M { return this.#add(m) }

  /** Adds a gauge read at scrape time (open connections, queue depth...). */
  gauge(name: string, help: string, read: () => number): void { this.#all.push(new Gauge(name, help, read)) }

  render(): string { return this.#all.map((m) => m.render()).join('\n') + '\n' }
}
