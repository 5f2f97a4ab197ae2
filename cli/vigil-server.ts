/**
 * The program's wiring: the only place that knows every layer. It opens the store, compiles the
 * active lists, replays whatever the journal still holds from an earlier run, and only then opens
 * the port, so that no event is matched against a half-loaded set of lists.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, Metrics, type DeviceId, type SubjectId, type VigilConfig } from '../core/index.js';
import {
  AlertStore, AuditLog, Journal, ListStore, OperatorStore, RegistryStore, RetentionSweeper, checkEvidenceKey, claimDataFolder,
  evidenceKeyInUse, openDatabases, recordEvidenceKey,
  type Databases, type HeldFolder,
} from '../store/index.js';
import {
  AlertBuilder, AlertFeed, HeartbeatMonitor, announceStored, ImageAnalyser, ListWatcher, Pipeline, UncheckedImageMonitor, WorkerPool,
} from '../pipeline/index.js';
import { DeviceGateway, FeedGateway, HttpServer, OperatorApi, loadNativeUws, type JournalEntry } from '../ingest/index.js';
import { DEMO_LISTS } from './demo-lists.js';

export interface RunningServer {
  port: number;
  metrics: Metrics;
  pipeline: Pipeline;
  /** The retention sweep (tests run it with a clock of their own). */
  retention: RetentionSweeper;
  /** Stops accepting, finishes in-flight work, closes the store. */
  close(): Promise<void>;
}

/**
 * Loads the evidence key, creating a key file (mode 0600) on first start when none is configured, and checks it is
 * the key the folder's evidence is sealed under (store/evidence-key-check.ts). A folder whose evidence has a key
 * but no key file has lost it, and a key that is not that one is the wrong one: either would leave that evidence
 * unreadable and seal what comes next under a second key, so the server refuses to start instead.
 */
export async function ensureEvidenceKey(config: VigilConfig, log: Logger, db: Databases, options: StartOptions = {}): Promise<Buffer> {
  const path = join(config.dataDir, 'evidence.key');
  const inUse = evidenceKeyInUse(db);
  if (options.newEvidenceKey && inUse === 'sealed') {
    throw new ConfigError(`--new-evidence-key: the data folder still holds ${db.evidence.getKeysCount()} sealed evidence `
      + 'records, which only their key opens. Restore that key instead, or delete that evidence first (it can be deleted '
      + 'without its key: DELETE /v1/operator/alerts/{id}/evidence); then start with --new-evidence-key');
  }
  let key: Buffer;
  let source: string;
  if (config.evidenceKey !== undefined) {
    key = Buffer.from(config.evidenceKey, 'hex');
    source = 'the configured evidence key (VIGIL_EVIDENCE_KEY or evidenceKey in the config file)';
  } else if (existsSync(path)) {
    const hex = readFileSync(path, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new ConfigError(`${path} must hold 64 hex digits`);
    key = Buffer.from(hex, 'hex');
    source = `the evidence key in ${path}`;
  } else if (inUse !== undefined && !options.newEvidenceKey) {
    const held = inUse === 'sealed' ? 'holds sealed evidence'
      : 'recorded the key its evidence was sealed with (none is left here, but backups still need that key)';
    throw new ConfigError(`no evidence key: ${path} is missing, but the data folder ${held}. Restore the key `
      + 'file from its backup, or set VIGIL_EVIDENCE_KEY to the key it held; a new key would leave that evidence unreadable'
      + (inUse === 'recorded' ? ' (if it is lost for good, vigil serve --new-evidence-key starts over with a new one)' : ''));
  } else {
    key = randomBytes(32);
    writeFileSync(path, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    log.warn({ path }, 'no evidence key configured: created one in the data folder (owner-only); back it up, or set VIGIL_EVIDENCE_KEY');
    source = `the evidence key in ${path}`;
  }
  const check = await checkEvidenceKey(db, key);
  if (check.ok) return key;
  if (options.newEvidenceKey && check.outcome === 'wrong') {
    // No sealed evidence is left (refused above), so nothing here becomes unreadable; backups sealed under the old key
    // still need it, which is why this takes a flag and an audit entry rather than happening on its own.
    await recordEvidenceKey(db, key);
    await new AuditLog(db).append({ actor: 'system:serve', action: 'evidence.key.replaced', target: 'evidence-key', details: { source } });
    log.warn({ source }, 'the data folder\'s evidence key is replaced (--new-evidence-key): evidence sealed before, and its backups, '
      + 'need the old key');
    return key;
  }
  const opened = check.outcome === 'wrong' ? 'the data folder\'s evidence was sealed with another key'
    : `it opens none of the ${check.tried} sealed evidence records tried`;
  throw new ConfigError(`wrong evidence key: ${source} is not the key this data folder's evidence was sealed with (${opened}). `
    + 'Start with that key (the key file\'s backup, or the value VIGIL_EVIDENCE_KEY had); another key would leave that '
    + 'evidence unreadable and seal new evidence under a second key');
}

async function createDemoLists(db: Databases, lists: ListStore, log: Logger): Promise<void> {
  if (db.meta.get('demoListsCreated') !== undefined) return;
  if (lists.active().length === 0) {
    for (const demo of DEMO_LISTS) await lists.importVersion(demo.name, demo.kind, 'built-in demo', demo.entries);
    log.info({ lists: DEMO_LISTS.map((d) => d.name) }, 'first start: created demo lists (placeholder terms, reserved domains)');
  }
  await db.meta.put('demoListsCreated', Date.now());
}

/** What one start of the server is asked to do beyond its configuration. */
export interface StartOptions {
  /**
   * Take this start's key (configured, in the key file, or a new key file) as the folder's evidence key although it
   * recorded another: allowed only when no sealed evidence is left, and audited (`vigil serve --new-evidence-key`).
   */
  newEvidenceKey?: boolean;
}

export async function startServer(config: VigilConfig, log: Logger, options: StartOptions = {}): Promise<RunningServer> {
  loadNativeUws(); // refuse the fallback before touching anything
  const db = openDatabases(config.dataDir);
  let held: HeldFolder | undefined;
  let evidenceKey: Buffer;
  try {
    held = await claimDataFolder(db, config.dataDir);
    evidenceKey = await ensureEvidenceKey(config, log, db, options);
  } catch (err) {
    await held?.release();
    await db.root.close();
    throw err;
  }
  const folder = held;
  const metrics = new Metrics();
  const registry = new RegistryStore(db);
  const lists = new ListStore(db);
  const audit = new AuditLog(db);
  const alerts = new AlertStore(db, audit);
  await createDemoLists(db, lists, log);
  try {
    const dropped = await lists.dropAbandoned();
    if (dropped.length > 0) log.warn({ dropped }, 'deleted the rows of list imports abandoned part-way (their process was killed)');
  } catch (err) {
    log.error({ err }, 'could not delete the rows of list imports abandoned part-way; the next import tries again');
  }

  const pool = new WorkerPool(config.pipeline.workers, evidenceKey.toString('hex'));
  // Lists compile in a thread of their own, so that compiling a large list never takes a matcher
  // thread away from matching: the old version keeps matching until the new one is ready.
  const builder = new WorkerPool(1);
  const watcher = new ListWatcher(lists, builder, config.dataDir, log);
  await watcher.start(config.pipeline.listPollMs);
  const feed = new AlertFeed(alerts);
  const heartbeats = new HeartbeatMonitor({
    db, registry, alerts, feed, metrics, log,
    heartbeatSeconds: config.policy.heartbeatSeconds, graceSeconds: config.policy.heartbeatGraceSeconds,
  });
  const unchecked = new UncheckedImageMonitor({
    db, registry, alerts, feed, metrics, log, windowSeconds: config.policy.uncheckedImageWindowSeconds,
  });
  const subjects = new Map<DeviceId, SubjectId>();
  let gateway: DeviceGateway | undefined;
  // One journal for recovery and ingest. Nothing is appended before the gateway exists, so nothing is reported
  // before it can hear it.
  const journal = new Journal<JournalEntry>(db, config.journal.maxBatch, {
    durable: (entries, pages) => gateway?.durable(entries, pages),
    failed: (entries, err) => gateway?.failed(entries, err),
    committed: (seconds, entries) => {
      metrics.journalCommit.observe(seconds);
      metrics.journalBatch.observe(entries);
    },
  });
  const pipeline = new Pipeline({
    runner: pool, journal, watcher, alerts, feed, metrics, log,
    builder: new AlertBuilder(lists),
    batchSize: config.pipeline.batchSize,
    maxInFlight: config.pipeline.workers * 2,
    subjectOf: (deviceId) => {
      let s = subjects.get(deviceId);
      if (s === undefined) {
        s = registry.deviceScope(deviceId)?.device.subjectId;
        if (s !== undefined) subjects.set(deviceId, s);
      }
      return s;
    },
    requestCapture: (deviceId, reason) => gateway?.requestCapture(deviceId, reason),
  });
  metrics.gauge('vigil_pipeline_queue_depth', 'Events waiting for or in matching', () => pipeline.depth);
  metrics.gauge('vigil_pool_queue_depth', 'Batches waiting for a worker thread', () => pool.queueSize);

  if (journal.unreadable.length > 0) {
    log.error({ pages: journal.unreadable.slice(0, 20), count: journal.unreadable.length },
      'journal pages left by the last run cannot be read (damaged): they are kept, matching will try them and give up, '
      + 'and the retention sweep deletes them after journalMaxAgeHours; a device whose newest events were in one may resend them');
  }
  const recovered = await pipeline.recover(journal, config.pipeline.maxQueue / 2);
  if (recovered > 0) log.info({ events: recovered }, 'matched events journaled but not matched before the last stop');

  const images = new ImageAnalyser(pool, watcher, {
    limits: { maxBytes: config.ingest.maxImageBytes, maxPixels: config.ingest.maxImagePixels, maxDecodeSeconds: config.ingest.maxImageDecodeSeconds },
    maxInFlight: config.pipeline.maxImagesInFlight, threads: config.pipeline.imageThreads,
  }, metrics);
  gateway = new DeviceGateway({
    ingest: config.ingest, policy: config.policy, registry, pipeline, images, metrics, log,
    maxPipelineDepth: config.pipeline.maxQueue,
    heard: (deviceId, seq, now) => heartbeats.seen(deviceId, seq, now),
    unchecked: (deviceId, image, now) => unchecked.refused(deviceId, image, now),
  });
  gateway.attach(journal);
  metrics.gauge('vigil_journal_pending', 'Journaled events not yet matched', () => journal.pendingCount());
  const feedGateway = new FeedGateway({
    feed, registry, config: config.feed, maxBackpressureBytes: config.ingest.maxBackpressureBytes, metrics,
  });
  const operators = new OperatorStore(db, audit, config.operators, evidenceKey);
  const retention = new RetentionSweeper({
    db, alerts, audit, registry, operators, defaults: config.retention, log, journal,
    onAlerts: (stored) => announceStored(stored, metrics, feed),
  });
  const operatorApi = new OperatorApi({
    operators, registry, alerts, audit, retention, lists, published: () => feed.published(),
    evidenceKey, config: config.operators, dataDir: config.dataDir, log,
  });
  const startedAt = Date.now();
  const http = new HttpServer({
    devices: gateway, feed: feedGateway, metrics, operatorApi,
    health: () => ({
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      devicesConnected: gateway?.openConnections ?? 0,
      pipelineDepth: pipeline.depth,
      lists: watcher.snapshot.lists.map((l) => ({ name: l.name, kind: l.kind, version: l.version })),
    }),
  });
  const port = await http.listen(config.host, config.port);
  heartbeats.start();
  unchecked.start();
  retention.start(config.retention.sweepMinutes);
  log.info({ port, host: config.host, dataDir: config.dataDir, workers: config.pipeline.workers }, 'vigil is listening');

  return {
    port,
    metrics,
    pipeline,
    retention,
    async close() {
      http.close();
      gateway?.close();
      feedGateway.close();
      watcher.stop();
      await journal.settle();
      await pipeline.drain();
      await heartbeats.stop();
      await unchecked.stop();
      await retention.stop();
      await pool.close();
      await builder.close();
      await folder.release();
      await db.root.close();
      log.info('vigil stopped');
    },
  };
}
