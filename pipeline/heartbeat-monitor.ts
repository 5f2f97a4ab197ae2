/**
 * Heartbeat deadlines: a device must be heard from (any event) at least every `heartbeatSeconds`,
 * plus a grace period. When a device under an order that authorises the heartbeat category misses
 * its deadline, one `heartbeat` alert is raised (rule `heartbeat-missed`); the next is possible only
 * after the device is heard from again. Deadlines are checked four times a second, so an alert
 * follows a deadline within about 250 ms. Last-seen times are saved every few seconds, so deadlines
 * survive a restart (at most that much early).
 *
 * While the server runs, silence is measured on the monotonic clock: a step of the wall clock (NTP correcting it,
 * a VM resumed) neither makes every device overdue at once nor puts their deadlines off by the size of the step.
 * Wall times are what is saved and shown; across a restart only they exist.
 *
 * Time no server watched does not count against a device: while the server is down its devices cannot reach it,
 * and after an outage longer than a deadline every one of them would be alerted the moment it came back, before any
 * could reconnect. So a deadline that fell after the last save of the server before (when it was last known alive)
 * is put off by the time between that save and this start: the device gets back the rest of its period. A device
 * already overdue before the outage is alerted at once, as before. A device never heard from is put off alike, its
 * deadline counting its order's start (below); a period that began in the outage runs whole from this start.
 *
 * A device enrolled and never heard from (the app never installed, or never let through) owes its first event like
 * any other (connecting is not enough; an event is): from when it was enrolled, or from when this server started watching if that is later (a device
 * enrolled while no server ran could not have connected), or from its order's start if that is later still. Its
 * alert says that no event was ever received. The monitor takes new enrolments from the registry whenever its generation
 * moves (`vigil enrol` from another process included), and saves the watched-since time like a last-seen time.
 *
 * A device passed over at its deadline because its order did not ask for heartbeats, or had ended, is looked at again
 * whenever the registry moves: once a variation of the order asks for them (the category added, the end put back),
 * it owes its next event a period from then, and is alerted after that, never heard from or not.
 */
import type { Logger } from 'pino';
import { asAlertId, type DeviceId, type Metrics, type NewAlert } from '../core/index.js';
import { isActive, type AlertStore, type Databases, type DeviceScope, type RegistryStore } from '../store/index.js';
import { alertId } from './alert-builder.js';
import { announceStored, type AlertFeed } from './alert-feed.js';
import { monotonic } from './monotonic.js';

const CHECK_MS = 250;
const SAVE_MS = 5000;
/**
 * How often, at most, the registry is read for new enrolments (when its generation has moved): a script enrolling
 * devices one after another moves it at every check. A device found late loses nothing: it is watched from its
 * enrolment time, and a scan is never more than a quarter of a period late.
 */
const ENROLMENT_SCAN_MS = 5000;
/**
 * Devices read for new enrolments per check, on ingest's thread. Reading one costs about 1.4 µs (20,000 devices in
 * 28-48 ms, by hand): a slice of 2,000 holds the thread about 3 ms, where all of 100,000 at once held it 140 ms.
 */
export const ENROLMENT_SCAN_SLICE = 2000;
/**
 * Devices written per transaction when saving. Its callback runs on ingest's thread, at 3-10 µs a device under
 * load (timed by hand): all of 1,000 devices at once held the thread 3-10 ms every 5 s, and 10,000 would hold it
 * ten times as long.
 */
export const SAVE_CHUNK = 256;

/**
 * `at` is the wall time last heard (saved, and shown in alerts); `heard` the same on the monotonic clock; `due` the
 * monotonic time the device is overdue, and `deadline` that as a wall time (in the alert, and its id). `putOff` is
 * a deadline put off past an outage, saved so that it holds across another restart.
 */
interface Seen {
  at: number; seq: number; alerted: boolean; dirty: boolean; heard: number; due: number; deadline: number; putOff?: number | undefined;
  /** Never heard from: `at` is when it began to be watched, not an event's time. */
  never?: boolean | undefined;
  /**
   * Passed over at its deadline, with no alert, because its order did not ask for heartbeats or had ended: looked at
   * again whenever the registry moves, since a variation of the order may ask for them again.
   */
  skipped?: boolean | undefined;
}

/** What is saved of a device. */
interface SavedSeen { at: number; seq: number; alerted?: boolean; putOff?: number; never?: true; skipped?: true }

/** In `meta`: when the monitor last saved, so when its server was last known to be watching. */
const SAVED_AT_KEY = 'heartbeatSavedAt';

/** The id of the alert for `deviceId` missing `deadline` after its event `seq`: the same whichever server raises it. */
function heartbeatAlertId(deviceId: DeviceId, seq: number, deadline: number) {
  return asAlertId(alertId(deviceId, seq, `rule\u0000heartbeat-missed\u0000${deadline}`));
}

/** What a monitor that raises alerts from rules of its own (heartbeats, unchecked images) works with. */
export interface MonitorParts {
  db: Databases;
  registry: RegistryStore;
  alerts: AlertStore;
  feed: AlertFeed;
  metrics: Metrics;
  log: Logger;
}

export interface HeartbeatOptions extends MonitorParts {
  heartbeatSeconds: number;
  graceSeconds: number;
}

export class HeartbeatMonitor {
  readonly #o: HeartbeatOptions;
  readonly #seen = new Map<DeviceId, Seen>();
  #check: NodeJS.Timeout | undefined;
  #save: NodeJS.Timeout | undefined;
  #checking = false;
  /** Devices heard again after their alert, to be saved soon (`#saveSoon`). */
  readonly #soon = new Set<DeviceId>();
  /** The save under way: saves run one after another (see `save`). */
  #saving: Promise<void> = Promise.resolve();
  #stopped = false;
  /** When this monitor began watching (wall time): no device owes an event from before. */
  readonly #startedAt: number;
  /** The registry generation whose devices are all watched; -1 before the first look. */
  #generation = -1;
  /** When the registry was last read for new enrolments (a wall time, as `check` is given). */
  #scannedAt = -Infinity;
  /** A read of the registry under way, a slice a check: the generation it started at, and the last id read. */
  #scan: { generation: number; after: DeviceId | undefined } | undefined;

  constructor(options: HeartbeatOptions, startedAt = Date.now()) {
    this.#o = options;
    this.#startedAt = startedAt;
    const savedAt = options.db.meta.get(SAVED_AT_KEY) as number | undefined;
    const outage = savedAt === undefined ? 0 : Math.max(0, startedAt - savedAt);
    for (const { key, value } of options.db.deviceSeen.getRange({})) {
      const v = value as SavedSeen;
      const s: Seen = { at: v.at, seq: v.seq, alerted: v.alerted ?? false, dirty: false, heard: monotonic(v.at), due: 0, deadline: 0, never: v.never, skipped: v.skipped };
      // The deadline as the server before would have raised it: for a device never heard from, its order's start counts
      // (its order is read for those only: reading every device's would slow a start-up with many).
      const first = v.never ? this.#firstEventDue(s, options.registry.deviceScope(key as DeviceId)) : undefined;
      let deadline = Math.max(v.at + this.deadlineMs, v.putOff ?? 0, first ?? 0);
      if (v.putOff !== undefined) s.putOff = v.putOff;
      if (!s.alerted && savedAt !== undefined && deadline > savedAt && outage > 0) {
        // Raised already, just before a crash that came before the save saying so: not put off, or raised again.
        if (!options.alerts.byId(heartbeatAlertId(key as DeviceId, v.seq, deadline))) {
          // Only the outage within the period is given back: a period that began in the outage (an order that started
          // then) runs whole from this start, as for a device enrolled while no server ran; one beginning later, as it is.
          const unwatched = startedAt - Math.max(savedAt, deadline - this.deadlineMs);
          if (unwatched > 0) {
            deadline += unwatched;
            s.putOff = deadline;
            s.dirty = true;
          }
        }
      }
      s.deadline = deadline;
      s.due = monotonic(deadline);
      this.#seen.set(key as DeviceId, s);
    }
    const now = Date.now();
    while (this.#watchEnrolled(now)); // all of them at start-up, before any check
  }

  /**
   * Starts watching devices enrolled since the last look, once the registry has moved, a slice of them a call: a
   * device never heard from is due its first event a period after it began to be watched. Revoked devices are left
   * out. Devices passed over at their deadline (`skipped`) are looked at again. Returns whether a read of the
   * registry is still under way.
   */
  #watchEnrolled(now = Date.now()): boolean {
    if (!this.#scan) {
      // Never a large part of a period, so that short test periods see new devices in time too.
      if (Math.abs(now - this.#scannedAt) < Math.min(ENROLMENT_SCAN_MS, this.deadlineMs / 4)) return false;
      const generation = this.#o.registry.generation();
      if (generation === this.#generation) return false;
      this.#scannedAt = now;
      this.#scan = { generation, after: undefined };
    }
    const scan = this.#scan;
    let read = 0;
    for (const device of this.#o.registry.devices(scan.after, ENROLMENT_SCAN_SLICE)) {
      read++;
      scan.after = device.deviceId;
      const seen = this.#seen.get(device.deviceId);
      if (seen?.skipped && device.revokedAt === undefined) this.#reconsider(device.deviceId, seen, now);
      if (device.revokedAt !== undefined || seen) continue;
      const watched = this.#firstSeen(Math.min(now, Math.max(device.createdAt, this.#startedAt)), 0);
      watched.never = true;
      this.#seen.set(device.deviceId, watched);
    }
    if (read === ENROLMENT_SCAN_SLICE) return true;
    // Devices enrolled while the slices were read may have been passed: the generation they moved is not this one.
    this.#generation = scan.generation;
    this.#scan = undefined;
    return false;
  }

  /**
   * A device passed over at its deadline whose order now asks for heartbeats and is in force (a court varied it):
   * it owes its next event a period from now, as a device newly enrolled would, and is alerted after that.
   */
  #reconsider(deviceId: DeviceId, s: Seen, now: number): void {
    const scope = this.#o.registry.deviceScope(deviceId);
    if (!scope || !isActive(scope, now) || !scope.order.categories.includes('heartbeat')) return;
    const deadline = Math.max(s.deadline, now + this.deadlineMs);
    s.skipped = undefined;
    s.alerted = false;
    s.deadline = deadline;
    s.putOff = deadline; // saved, so that it holds across a restart
    s.due = monotonic(deadline);
    s.dirty = true;
  }

  /** A device first watched at the wall time `at` (heard then, or enrolled), due a period later; to be saved. */
  #firstSeen(at: number, seq: number): Seen {
    const deadline = at + this.deadlineMs;
    return { at, seq, alerted: false, dirty: true, heard: monotonic(at), due: monotonic(deadline), deadline };
  }

  /**
   * A device never heard from under an order that starts after it began to be watched owes its first event a period
   * after that start; undefined for any other device.
   */
  #firstEventDue(s: Pick<Seen, 'at' | 'never'>, scope: DeviceScope | null): number | undefined {
    return s.never && scope && scope.order.from > s.at ? scope.order.from + this.deadlineMs : undefined;
  }

  /** Milliseconds of silence after which a device is overdue. */
  get deadlineMs(): number { return (this.#o.heartbeatSeconds + this.#o.graceSeconds) * 1000 }

  start(): void {
    // Neither may reject out of a timer (a disk that is full would then stop the whole server): each retries.
    this.#check = setInterval(() => {
      this.check(Date.now()).catch((err: unknown) => this.#o.log.error({ err }, 'heartbeat check failed; retried at the next'));
    }, CHECK_MS);
    this.#save = setInterval(() => {
      this.save().catch((err: unknown) => this.#o.log.warn({ err }, 'could not save last-seen times; retried at the next save'));
    }, SAVE_MS);
    this.#check.unref();
    this.#save.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#check);
    clearInterval(this.#save);
    await this.save();
  }

  /**
   * A device was heard from (`at` is the wall time now): its deadline moves on. Calls come in the order they happen,
   * so the latest is taken even when its wall time is earlier than the one before (the clock was set back).
   */
  seen(deviceId: DeviceId, seq: number, at: number): void {
    const s = this.#seen.get(deviceId);
    if (!s) {
      this.#seen.set(deviceId, this.#firstSeen(at, seq));
      return;
    }
    const heard = monotonic(at);
    const due = heard + this.deadlineMs;
    const deadline = at + this.deadlineMs;
    // Heard again after its alert: saved at once, not at the next save, so that a crash before then does not
    // bring it back as alerted (and so never alerted for its next silence).
    if (s.alerted) this.#saveSoon(deviceId);
    // Changed in place: this runs for every device in every commit, and `save` reads the newest values when it writes.
    s.at = at;
    s.heard = heard;
    s.due = due;
    s.deadline = deadline;
    s.putOff = undefined;
    s.seq = Math.max(seq, s.seq);
    s.alerted = false;
    s.never = undefined;
    s.skipped = undefined;
    s.dirty = true;
  }

  /**
   * Saves `deviceId` in the next event-loop turn, with any others heard again after their alert by then. Only those:
   * a whole save looks at every device (some 20 ms for 100,000), which once a turn on ingest's thread, as devices
   * alerted together (a network outage) came back, held up ingest.
   */
  #saveSoon(deviceId: DeviceId): void {
    this.#soon.add(deviceId);
    if (this.#soon.size > 1) return; // queued already
    setImmediate(() => {
      const ids = [...this.#soon];
      this.#soon.clear();
      if (this.#stopped) return; // stop() saved already
      this.#serially(() => this.#saveDevices(ids))
        .catch((err: unknown) => this.#o.log.warn({ err }, 'could not save last-seen times; retried at the next save'));
    });
  }

  /** Writes the devices `ids` as they are now; they stay dirty, for the next whole save. */
  async #saveDevices(ids: readonly DeviceId[]): Promise<void> {
    for (let i = 0; i < ids.length; i += SAVE_CHUNK) {
      const chunk = ids.slice(i, i + SAVE_CHUNK);
      await this.#o.db.root.transaction(() => {
        for (const id of chunk) {
          const s = this.#seen.get(id);
          if (s) this.#o.db.deviceSeen.put(id, this.#saved(s));
        }
      });
    }
  }

  #saved(s: Seen): SavedSeen {
    const saved: SavedSeen = { at: s.at, seq: s.seq, alerted: s.alerted };
    if (s.putOff !== undefined) saved.putOff = s.putOff;
    if (s.never) saved.never = true;
    if (s.skipped) saved.skipped = true;
    return saved;
  }

  /** Raises an alert for each device past its deadline (`now` a wall time; exposed for tests). */
  async check(now: number): Promise<number> {
    if (this.#checking) return 0;
    this.#checking = true;
    try {
      this.#watchEnrolled(now);
      const due: NewAlert[] = [];
      const mono = monotonic(now);
      for (const [deviceId, s] of this.#seen) {
        if (s.alerted || mono < s.due) continue;
        // A wall time fixed when the device was last heard (or its deadline put off): the same alert id after a restart.
        let { deadline } = s;
        const silentMs = mono - s.heard;
        const scope = this.#o.registry.deviceScope(deviceId);
        // An order varied to start later: its device owes nothing before then, and is looked at again at each check.
        if (scope && now < scope.order.from) continue;
        // Never heard from under an order that starts after watching began: its first event is due a period after the start.
        const first = this.#firstEventDue(s, scope);
        if (first !== undefined) {
          deadline = Math.max(deadline, first);
          if (now < deadline) continue;
        }
        s.alerted = true;
        s.dirty = true;
        if (!scope || scope.device.revokedAt !== undefined) continue; // for good
        if (!isActive(scope, now) || !scope.order.categories.includes('heartbeat')) {
          s.skipped = true; // until a variation of its order asks for heartbeats (`#reconsider`)
          continue;
        }
        due.push({
          id: heartbeatAlertId(deviceId, s.seq, deadline),
          category: 'heartbeat', subjectId: scope.device.subjectId, deviceId, eventSeq: s.seq, eventAt: s.at,
          raisedAt: now, severity: 'high', state: 'new',
          match: { kind: 'rule', rule: 'heartbeat-missed', signal: 'silence',
            detail: s.never
              ? `no event ever received from this device (watched since ${new Date(s.at).toISOString()}); deadline ${new Date(deadline).toISOString()}`
              : `no event for ${Math.round(silentMs / 1000)} s; deadline ${new Date(deadline).toISOString()}` },
        });
      }
      if (due.length === 0) return 0;
      let stored;
      try {
        stored = await this.#o.alerts.commit(due, []);
      } catch (err) {
        for (const a of due) this.#seen.get(a.deviceId)!.alerted = false; // raised at the next check (its id makes it once)
        throw err;
      }
      announceStored(stored, this.#o.metrics, this.#o.feed);
      this.#o.log.info({ devices: stored.length }, 'heartbeat deadlines missed');
      return stored.length;
    } finally {
      this.#checking = false;
    }
  }

  /**
   * Saves changed last-seen times, SAVE_CHUNK devices a transaction. Each transaction is started once the one before
   * is committed, which LMDB reports in a later event-loop turn, so ingest runs between them.
   */
  save(): Promise<void> {
    return this.#serially(() => this.#saveNow());
  }

  /**
   * Runs a save once the one under way is done. One at a time: a save that overlapped one still writing its chunks
   * (a save soon, beside the timer's) wrote the time it was made while devices changed before it were still unsaved,
   * and a crash then lost their last-seen times while the next start took them as watched until that time.
   */
  #serially(work: () => Promise<void>): Promise<void> {
    const run = this.#saving.catch(() => {}).then(work);
    this.#saving = run;
    return run;
  }

  async #saveNow(): Promise<void> {
    const savedAt = Date.now();
    const changed = [...this.#seen].filter(([, s]) => s.dirty);
    for (const [, s] of changed) s.dirty = false;
    for (let i = 0; i < changed.length; i += SAVE_CHUNK) {
      const chunk = changed.slice(i, i + SAVE_CHUNK);
      try {
        await this.#o.db.root.transaction(() => {
          for (const [id, s] of chunk) this.#o.db.deviceSeen.put(id, this.#saved(s));
        });
      } catch (err) {
        for (const [, s] of changed.slice(i)) s.dirty = true; // saved next time
        throw err;
      }
    }
    // Written after the devices: a server that stops between the two is taken to have watched only until the save before.
    await this.#o.db.meta.put(SAVED_AT_KEY, savedAt);
  }
}
