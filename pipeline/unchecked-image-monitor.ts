/**
 * Images refused unchecked. An image Vigil refuses without matching it — over `ingest.maxImageBytes`, over
 * `ingest.maxImagePixels` or too large to decode shrunk (IMAGE_TOO_LARGE), or undecodable (IMAGE_UNDECODABLE) — is
 * never stored and escapes every hash list, so the device's manager is told: a `heartbeat` alert (the category of
 * monitoring gaps), rule `unchecked-images`, saying how many were refused and why, if the device's order authorises
 * that category (when it does not, the refusals are not even counted). Refusals the device answers by resending
 * (RATE_LIMITED) or that the order forbids (OUT_OF_SCOPE) are not reported here.
 *
 * Not one alert per image: a gallery sync of 200 MP photos can send hundreds. A device's first refusal raises an alert
 * at once and opens a window (`windowSeconds`, an hour by default); refusals within it are counted, and raised as one
 * alert when it ends, which opens the next window. A window that ends with nothing counted closes, and the next
 * refusal is alerted at once again. So a device refused without pause gets an alert at once, then one an hour.
 *
 * Restarts neither lose counts nor repeat alerts. A device's record (what is counted and not yet raised, the tally
 * being raised, its window) is written whenever it changes, once an event-loop turn (a device may send thousands of
 * empty images a second, each refused on arrival), so a crash loses at most the refusals of the last few milliseconds. A tally is kept as `raising` until its alert is stored, and the alert's id is
 * derived from the tally alone, so an alert stored just before a crash is skipped as a duplicate when the next start
 * raises the tally again. lmdb-js commits single writes in the order they were made (its README, "Asynchronous
 * Transaction Ordering"): the record saying `raising` is written before the alert, and the record without it after the
 * alert is stored, so no order of crash loses a tally. A window that ended while no server ran is raised at start.
 *
 * A refusal is counted once, by its seq: one at or below the highest seq counted before at the same stage is a resend
 * of an image refused already (after a reconnect, or a restart, before the device heard its reject). The stages are
 * kept apart because an image being analysed is refused after later ones refused on arrival.
 */
import { asAlertId, type DeviceId, type NewAlert, type UncheckedImageCounts } from '../core/index.js';
import { isActive, type DeviceScope } from '../store/index.js';
import { alertId } from './alert-builder.js';
import { announceStored } from './alert-feed.js';
import type { MonitorParts } from './heartbeat-monitor.js';
import { monotonic } from './monotonic.js';

/** Why an image went unchecked: over the byte limit, over the pixel limit (or too large to decode shrunk), undecodable. */
export type UncheckedReason = 'bytes' | 'pixels' | 'undecodable';

/**
 * One image refused unchecked: its seq and capture time, why, and at which stage: on `arrival` (from its size, before it
 * was accepted) or after `analysis` (decoded, or tried).
 */
export interface UncheckedImage { seq: number; at: number; reason: UncheckedReason; stage: 'arrival' | 'analysis' }

const CHECK_MS = 1000;
const RULE = 'unchecked-images';

/**
 * Images counted for one alert. `seq` and `at` are those of the lowest seq counted (the first refused, in the device's
 * order): the alert's `eventSeq` and `eventAt`, though no event of that seq is stored. `since` is when the first was
 * counted (server time).
 */
interface Tally extends UncheckedImageCounts { seq: number; at: number; lastSeq: number; since: number }

/** What is saved of a device. `windowEnd`: the wall time its window ends (0 before any). */
interface SavedWatch { arrivalSeq: number; analysisSeq: number; windowEnd: number; pending?: Tally; raising?: Tally }

/** A device's record, with its window's end on the monotonic clock (`due`). */
interface Watch extends SavedWatch { due: number }

const COUNT_OF: Readonly<Record<UncheckedReason, keyof UncheckedImageCounts>> = {
  bytes: 'tooLargeBytes', pixels: 'tooLargePixels', undecodable: 'undecodable',
};

function counted(t: Tally): number { return t.tooLargeBytes + t.tooLargePixels + t.undecodable }

/** The alert's `match.detail`: how many, which seqs, since when, and why. */
function describeUnchecked(t: Tally): string {
  const n = counted(t);
  const why: string[] = [];
  if (t.tooLargeBytes > 0) why.push(`${t.tooLargeBytes} over the byte limit (IMAGE_TOO_LARGE)`);
  if (t.tooLargePixels > 0) why.push(`${t.tooLargePixels} over the pixel limit or too large to decode shrunk (IMAGE_TOO_LARGE)`);
  if (t.undecodable > 0) why.push(`${t.undecodable} undecodable (IMAGE_UNDECODABLE)`);
  const seqs = t.seq === t.lastSeq ? `seq ${t.seq}` : `seq ${t.seq} to ${t.lastSeq}`;
  return `${n} ${n === 1 ? 'image' : 'images'} refused without being checked against any hash list (${seqs}) `
    + `since ${new Date(t.since).toISOString()}: ${why.join(', ')}`;
}

export interface UncheckedImageOptions extends MonitorParts {
  /** After an alert, how long further refusals are counted into the next one. */
  windowSeconds: number;
}

export class UncheckedImageMonitor {
  readonly #o: UncheckedImageOptions;
  readonly #watches = new Map<DeviceId, Watch>();
  /** Devices with something counted or being raised: all that `check` looks at. */
  readonly #open = new Set<DeviceId>();
  /** Alerts being stored, by device: one at a time each. */
  readonly #storing = new Map<DeviceId, Promise<number>>();
  /** Devices whose record changed, to be written at the end of this event-loop turn (`#saveSoon`). */
  readonly #dirty = new Set<DeviceId>();
  #lastWrite: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: UncheckedImageOptions) {
    this.#o = options;
    for (const { key, value } of options.db.uncheckedImages.getRange({})) {
      const w: Watch = { ...(value as SavedWatch), due: monotonic((value as SavedWatch).windowEnd) };
      this.#watches.set(key as DeviceId, w);
      if (w.pending || w.raising) this.#open.add(key as DeviceId);
    }
  }

  get windowMs(): number { return this.#o.windowSeconds * 1000 }

  start(): void {
    this.#timer = setInterval(() => {
      this.check(Date.now()).catch((err: unknown) => this.#o.log.error({ err }, 'unchecked-image check failed; retried at the next'));
    }, CHECK_MS);
    this.#timer.unref();
  }

  /** Stops the timer and waits for the alerts and records on their way to disk. Refusals after this are not counted. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.idle();
  }

  /** Resolves once the alerts being stored, and every record written so far, are on disk. */
  async idle(): Promise<void> {
    this.#writeDirty();
    await Promise.all(this.#storing.values());
    await this.#lastWrite;
  }

  /**
   * An image of `deviceId` was refused unchecked (`now` a wall time). Counted if the device's order authorises the
   * heartbeat category; alerted at once if no window of the device is open, else when its window ends.
   */
  refused(deviceId: DeviceId, image: UncheckedImage, now = Date.now()): void {
    if (this.#stopped || !this.#authorised(deviceId, now)) return;
    let w = this.#watches.get(deviceId);
    if (!w) {
      w = { arrivalSeq: 0, analysisSeq: 0, windowEnd: 0, due: -Infinity };
      this.#watches.set(deviceId, w);
    }
    const mark = image.stage === 'arrival' ? 'arrivalSeq' : 'analysisSeq';
    if (image.seq <= w[mark]) return; // a resend of an image counted already
    w[mark] = image.seq;
    const t = w.pending ??= { seq: image.seq, at: image.at, lastSeq: image.seq, since: now, tooLargeBytes: 0, tooLargePixels: 0, undecodable: 0 };
    t[COUNT_OF[image.reason]]++;
    if (image.seq < t.seq) { t.seq = image.seq; t.at = image.at }
    t.lastSeq = Math.max(t.lastSeq, image.seq);
    this.#open.add(deviceId);
    if (!w.raising && monotonic(now) >= w.due) void this.#raise(deviceId, w, now);
    else this.#saveSoon(deviceId);
  }

  /**
   * Raises what each device has counted once its window has ended, and retries alerts not stored yet (`now` a wall
   * time; exposed for tests). Resolves with how many alerts were stored.
   */
  async check(now: number): Promise<number> {
    const mono = monotonic(now);
    const stores: Promise<number>[] = [];
    for (const deviceId of [...this.#open]) {
      const w = this.#watches.get(deviceId)!;
      if (w.raising) stores.push(this.#store(deviceId, w, now));
      else if (w.pending && mono >= w.due) stores.push(this.#raise(deviceId, w, now));
      else if (!w.pending) this.#open.delete(deviceId);
    }
    let stored = 0;
    for (const n of await Promise.all(stores)) stored += n;
    return stored;
  }

  /** The device's scope if its order is in force and authorises the heartbeat category, and it is not revoked. */
  #authorised(deviceId: DeviceId, now: number): DeviceScope | undefined {
    const scope = this.#o.registry.deviceScope(deviceId);
    return scope && isActive(scope, now) && scope.order.categories.includes('heartbeat') ? scope : undefined;
  }

  /** Moves what the device has counted into an alert, and opens its next window. */
  #raise(deviceId: DeviceId, w: Watch, now: number): Promise<number> {
    if (w.pending) w.raising = w.pending;
    delete w.pending;
    w.windowEnd = now + this.windowMs;
    w.due = monotonic(w.windowEnd);
    this.#save(deviceId, w); // before the alert: see the file's comment
    return this.#store(deviceId, w, now);
  }

  /** Stores the alert for the tally being raised; one that fails stays `raising`, and is tried again at the next check. */
  #store(deviceId: DeviceId, w: Watch, now: number): Promise<number> {
    const under = this.#storing.get(deviceId);
    if (under) return under.then(() => 0);
    const t = w.raising;
    if (!t) return Promise.resolve(0);
    const scope = this.#authorised(deviceId, now);
    if (!scope) {
      // The order was varied, ended or revoked since: what was counted under it is not raised after.
      delete w.raising;
      this.#save(deviceId, w);
      return Promise.resolve(0);
    }
    const run = this.#commit(deviceId, this.#alert(deviceId, scope, t, now)).then((n) => {
      this.#storing.delete(deviceId);
      if (w.raising === t) {
        delete w.raising;
        this.#save(deviceId, w);
      }
      return n;
    }, (err: unknown) => {
      this.#storing.delete(deviceId);
      this.#o.log.error({ err, deviceId }, 'could not store an unchecked-images alert; retried at the next check');
      return 0;
    });
    this.#storing.set(deviceId, run);
    return run;
  }

  async #commit(deviceId: DeviceId, alert: NewAlert): Promise<number> {
    const stored = await this.#o.alerts.commit([alert], []);
    announceStored(stored, this.#o.metrics, this.#o.feed);
    if (stored.length > 0) {
      this.#o.log.info({ deviceId, images: alert.match.kind === 'rule' ? alert.match.refused : undefined }, 'images refused unchecked');
    }
    return stored.length;
  }

  #alert(deviceId: DeviceId, scope: DeviceScope, t: Tally, now: number): NewAlert {
    const refused: UncheckedImageCounts = { tooLargeBytes: t.tooLargeBytes, tooLargePixels: t.tooLargePixels, undecodable: t.undecodable };
    // From the tally alone, so that raising it again after a crash finds the alert stored before it.
    const key = `rule\u0000${RULE}\u0000${t.lastSeq}\u0000${t.since}\u0000${t.tooLargeBytes}\u0000${t.tooLargePixels}\u0000${t.undecodable}`;
    return {
      id: asAlertId(alertId(deviceId, t.seq, key)),
      category: 'heartbeat', subjectId: scope.device.subjectId, deviceId, eventSeq: t.seq, eventAt: t.at,
      raisedAt: now, severity: 'medium', state: 'new',
      match: { kind: 'rule', rule: RULE, signal: 'images_refused', detail: describeUnchecked(t), refused },
    };
  }

  /** Writes the device's record at the end of this event-loop turn, with any other change made to it by then. */
  #saveSoon(deviceId: DeviceId): void {
    this.#dirty.add(deviceId);
    if (this.#dirty.size === 1) setImmediate(() => this.#writeDirty());
  }

  #writeDirty(): void {
    for (const deviceId of [...this.#dirty]) this.#save(deviceId, this.#watches.get(deviceId)!);
  }

  /** Writes the device's record as it is now (lmdb-js commits it with the other writes of this turn, in order). */
  #save(deviceId: DeviceId, w: Watch): void {
    this.#dirty.delete(deviceId);
    const saved: SavedWatch = { arrivalSeq: w.arrivalSeq, analysisSeq: w.analysisSeq, windowEnd: w.windowEnd };
    if (w.pending) saved.pending = { ...w.pending };
    if (w.raising) saved.raising = { ...w.raising };
    this.#lastWrite = this.#o.db.uncheckedImages.put(deviceId, saved).catch((err: unknown) => {
      this.#o.log.warn({ err, deviceId }, 'could not save the count of images refused unchecked; saved again at its next change');
    });
  }
}
