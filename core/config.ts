/**
 * The one place that reads `process.env` and the config file. It returns a frozen, fully
 * filled config and never mutates its inputs. Precedence: defaults < config file < environment
 * < command-line overrides. Every value is validated at start-up with a message naming its key. An environment
 * variable set but empty counts as unset (`envValue`).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { ConfigError } from './errors.js';

export const DEFAULT_DATA_DIR = './var/vigil';
export const DEFAULT_PORT = 8080;
/**
 * Loopback: Vigil speaks plain HTTP (operator passwords, bearer tokens, device events), so out of the box it answers
 * this machine alone. Serving devices on a network is a choice made with `--host` (or `VIGIL_HOST`), behind a
 * proxy that terminates TLS.
 */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 120;
export const MAX_IDLE_TIMEOUT_SECONDS = 960;
export const DEFAULT_DEVICE_RATE_PER_SECOND = 500;
export const DEFAULT_DEVICE_BURST = 2000;
export const DEFAULT_MAX_BACKPRESSURE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_IMAGE_BYTES = 12 * 1024 * 1024;
/**
 * Refused over this from the header. Images over 50 MP (matchers' FULL_DECODE_PIXELS) are decoded shrunk to 50 MP,
 * so this bounds CPU time, not memory: 250 MP covers 200 MP phone cameras (16384x12288 is 201 MP), whose JPEGs took
 * 1.3-1.8 s of one core to decode, and the costliest image it lets through, a 16-bit RGBA PNG, 6.4 s
 * (bench/README.md, "Images over 50 MP").
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 250_000_000;
/**
 * A decode still running after this is stopped and the image refused IMAGE_UNDECODABLE. A 200 MP camera's JPEG took
 * 1.1 s of one core, 1.5 s taken upright (EXIF orientation 6), and 250 MP ones up to 2.0 s; the costliest image the
 * pixel limit lets through, a 250 MP 16-bit RGBA PNG, 5-6.4 s (bench/README.md, "Images over 50 MP" and "A time limit
 * per image"). The clock is the decode's elapsed time, which on a loaded machine runs past its CPU time: 5 s leaves
 * a camera's photo more than twice its time.
 */
export const DEFAULT_MAX_IMAGE_DECODE_SECONDS = 5;
export const DEFAULT_JOURNAL_MAX_BATCH = 4096;
export const DEFAULT_PIPELINE_BATCH = 256;
export const DEFAULT_PIPELINE_MAX_QUEUE = 100_000;
export const DEFAULT_LIST_POLL_MS = 1000;
export const DEFAULT_MAX_IMAGES_IN_FLIGHT = 32;
export const DEFAULT_FEED_MAX_LIMIT = 1000;
export const DEFAULT_FEED_MAX_WAIT_MS = 60_000;
export const DEFAULT_HEARTBEAT_SECONDS = 300;
export const DEFAULT_HEARTBEAT_GRACE_SECONDS = 30;
/**
 * Images refused unchecked (too large, undecodable) raise a heartbeat alert at the first refusal, then at most one
 * for the rest every this long (pipeline/unchecked-image-monitor.ts): a gallery sync of 200 MP photos, each over
 * `ingest.maxImageBytes`, is an alert and an hourly count, not hundreds of alerts.
 */
export const DEFAULT_UNCHECKED_IMAGE_WINDOW_SECONDS = 3600;
export const DEFAULT_RETENTION_JOURNAL_MAX_AGE_HOURS = 24;
export const DEFAULT_RETENTION_ALERT_DAYS = 365;
export const DEFAULT_RETENTION_DISMISSED_ALERT_DAYS = 30;
export const DEFAULT_RETENTION_EVIDENCE_DAYS = 90;
export const DEFAULT_RETENTION_SWEEP_MINUTES = 60;
export const DEFAULT_OPERATOR_TOKEN_TTL_SECONDS = 3600;
export const DEFAULT_OPERATOR_MAX_FAILED_LOGINS = 5;
export const DEFAULT_OPERATOR_LOCKOUT_SECONDS = 900;
export const DEFAULT_OPERATOR_LOGINS_PER_MINUTE = 20;
export const DEFAULT_OPERATOR_MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_OPERATOR_MAX_LIST_UPLOAD_BYTES = 64 * 1024 * 1024;

export interface IngestConfig {
  readonly maxFrameBytes: number;
  readonly idleTimeoutSeconds: number;
  readonly deviceRatePerSecond: number;
  readonly deviceBurst: number;
  readonly maxBackpressureBytes: number;
  readonly maxImageBytes: number;
  readonly maxImagePixels: number;
  /** Longest one image's decode may run, in whole seconds (matchers' DecodeLimits.maxDecodeSeconds). */
  readonly maxImageDecodeSeconds: number;
}
export interface JournalConfig { readonly maxBatch: number }
export interface PipelineConfig {
  readonly workers: number;
  readonly batchSize: number;
  readonly maxQueue: number;
  readonly listPollMs: number;
  readonly maxImagesInFlight: number;
  /**
   * Most of the matcher threads images may hold at once, 1..workers: the others are kept for journal pages (keyword,
   * URL and domain matching), which would otherwise wait behind images that each take seconds.
   */
  readonly imageThreads: number;
}
export interface FeedConfig { readonly maxLimit: number; readonly maxWaitMs: number }
/** How long each kind of data is kept (docs/protocol.md, "Retention"). */
export interface RetentionConfig {
  /** Journal entries still unmatched this long after they were first seen are expired (with an alert). */
  readonly journalMaxAgeHours: number;
  readonly alertDays: number;
  /** Alerts dismissed as false positives go sooner. */
  readonly dismissedAlertDays: number;
  readonly evidenceDays: number;
  readonly sweepMinutes: number;
}
/** Operator accounts: sessions, lock-out, request limits. */
export interface OperatorsConfig {
  readonly tokenTtlSeconds: number;
  readonly maxFailedLogins: number;
  readonly lockoutSeconds: number;
  /** Login attempts per minute from one address (burst the same). */
  readonly loginsPerMinute: number;
  readonly maxBodyBytes: number;
  readonly maxListUploadBytes: number;
}
export interface PolicyConfig {
  readonly heartbeatSeconds: number;
  readonly heartbeatGraceSeconds: number;
  /** After an alert for images refused unchecked, further refusals of the device are counted this long into one. */
  readonly uncheckedImageWindowSeconds: number;
}

export interface VigilConfig {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  /** 64 hex digits, or undefined: `serve` then creates a key file in the data folder. */
  readonly evidenceKey: string | undefined;
  readonly ingest: IngestConfig;
  readonly journal: JournalConfig;
  readonly pipeline: PipelineConfig;
  readonly feed: FeedConfig;
  readonly policy: PolicyConfig;
  readonly retention: RetentionConfig;
  readonly operators: OperatorsConfig;
}

export interface ConfigOverrides { dataDir?: string; port?: number; host?: string }

type Json = Record<string, unknown>;

function sectionOf(file: Json, key: string): Json {
  const v = file[key];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${key} must be an object`);
  return v as Json;
}

/**
 * Refuses a key of the file that no setting read (`read` holds `key` and `section.key`): a misspelt
 * `policy.heartbeatSecond` would otherwise leave the default in force with nothing said.
 */
function refuseUnread(file: Json, read: ReadonlySet<string>): void {
  for (const [key, v] of Object.entries(file)) {
    if (!read.has(key)) throw new ConfigError(`unknown config key ${JSON.stringify(key)}`);
    if (typeof v !== 'object' || v === null) continue;
    for (const sub of Object.keys(v)) {
      if (!read.has(`${key}.${sub}`)) throw new ConfigError(`unknown config key ${JSON.stringify(`${key}.${sub}`)}`);
    }
  }
}

/** A string setting from the environment, else the file; a file value of another type is refused, not skipped. */
function textSetting(file: Json, key: string, envValue: string | undefined, envName: string): string | undefined {
  if (envValue !== undefined) return envValue;
  const v = file[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ConfigError(`${key} (${envName}) must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function intSetting(obj: Json, path: string, key: string, dflt: number, min: number, max: number): number {
  const v = obj[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`${path}${key} must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * A variable from the environment; set but empty counts as unset, for every one alike, as a shell's `${VAR:-default}`
 * does: `VIGIL_HOST= vigil serve` clears an exported value for one command, and a service template that passes a
 * variable through empty (`VIGIL_HOST=${VIGIL_HOST}`) leaves the file's value or the default in force.
 */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === '' ? undefined : raw;
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = envValue(env, name);
  if (raw === undefined) return undefined;
  // Decimal digits only: Number() would also take 0x50, 1e3, 8080.0 and surrounding blanks.
  if (!/^[0-9]{1,15}$/.test(raw)) throw new ConfigError(`${name} must be an integer in decimal digits, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Reads the config file. `<data>/vigil.json` may be absent; a file named by `VIGIL_CONFIG` must be there. */
function readConfigFile(path: string, named: boolean): Json {
  if (!named && !existsSync(path)) return {};
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (cause) {
    const why = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(cause as Error).message})`;
    throw new ConfigError(`config file ${path}${named ? ' (VIGIL_CONFIG)' : ''} ${why}`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (cause) {
    throw new ConfigError(`config file ${path} is not valid JSON`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  return parsed as Json;
}

/**
 * Builds the configuration. The config file is `VIGIL_CONFIG`, else `<dataDir>/vigil.json` if present.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): VigilConfig {
  const dataDir = resolve(overrides.dataDir ?? envValue(env, 'VIGIL_DATA') ?? DEFAULT_DATA_DIR);
  const named = envValue(env, 'VIGIL_CONFIG');
  const file = readConfigFile(named ?? join(dataDir, 'vigil.json'), named !== undefined);
  // Every setting read is noted, so that a key of the file none read is refused (`refuseUnread`), with no list to keep.
  const read = new Set<string>();
  const section = (f: Json, key: string): Json => { read.add(key); return sectionOf(f, key) };
  const text = (f: Json, key: string, envValue: string | undefined, envName: string): string | undefined => {
    read.add(key);
    return textSetting(f, key, envValue, envName);
  };
  const int = (obj: Json, path: string, key: string, dflt: number, min: number, max: number): number => {
    read.add(path + key);
    return intSetting(obj, path, key, dflt, min, max);
  };
  const top: Json = { ...file };
  const envPort = envInt(env, 'VIGIL_PORT');
  if (envPort !== undefined) top.port = envPort;
  if (overrides.port !== undefined) top.port = overrides.port;

  const ingest = section(file, 'ingest');
  const journal = section(file, 'journal');
  const pipeline = section(file, 'pipeline');
  const feed = section(file, 'feed');
  const policy = section(file, 'policy');
  const retention = section(file, 'retention');
  const operators = section(file, 'operators');
  const envWorkers = envInt(env, 'VIGIL_WORKERS');
  const pipelineIn: Json = envWorkers === undefined ? pipeline : { ...pipeline, workers: envWorkers };

  const workers = int(pipelineIn, 'pipeline.', 'workers', Math.max(1, Math.min(4, availableParallelism())), 1, 64);

  const evidenceKey = text(file, 'evidenceKey', envValue(env, 'VIGIL_EVIDENCE_KEY'), 'VIGIL_EVIDENCE_KEY');
  if (evidenceKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(evidenceKey)) {
    throw new ConfigError('evidenceKey (VIGIL_EVIDENCE_KEY) must be 64 hex digits');
  }
  const host = overrides.host ?? text(file, 'host', envValue(env, 'VIGIL_HOST'), 'VIGIL_HOST') ?? DEFAULT_HOST;
  if (host === '') throw new ConfigError('host must not be empty');
  const logLevel = text(file, 'logLevel', envValue(env, 'VIGIL_LOG_LEVEL'), 'VIGIL_LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`logLevel must be one of fatal, error, warn, info, debug, trace, silent, got ${logLevel}`);
  }

  const config: VigilConfig = {
    dataDir,
    host,
    port: int(top, '', 'port', DEFAULT_PORT, 0, 65535),
    logLevel,
    evidenceKey: evidenceKey?.toLowerCase(),
    ingest: Object.freeze({
      maxFrameBytes: int(ingest, 'ingest.', 'maxFrameBytes', DEFAULT_MAX_FRAME_BYTES, 1024, 64 * 1024 * 1024),
      // uWebSockets.js takes 8..960 and aborts the process (std::terminate) on anything longer.
      idleTimeoutSeconds: int(ingest, 'ingest.', 'idleTimeoutSeconds', DEFAULT_IDLE_TIMEOUT_SECONDS, 8, MAX_IDLE_TIMEOUT_SECONDS),
      deviceRatePerSecond: int(ingest, 'ingest.', 'deviceRatePerSecond', DEFAULT_DEVICE_RATE_PER_SECOND, 1, 1_000_000),
      deviceBurst: int(ingest, 'ingest.', 'deviceBurst', DEFAULT_DEVICE_BURST, 1, 10_000_000),
      maxBackpressureBytes: int(ingest, 'ingest.', 'maxBackpressureBytes', DEFAULT_MAX_BACKPRESSURE_BYTES, 1024, 1 << 30),
      maxImageBytes: int(ingest, 'ingest.', 'maxImageBytes', DEFAULT_MAX_IMAGE_BYTES, 1, 64 * 1024 * 1024),
      maxImagePixels: int(ingest, 'ingest.', 'maxImagePixels', DEFAULT_MAX_IMAGE_PIXELS, 1, 1_000_000_000),
      // sharp's timeout takes whole seconds up to an hour.
      maxImageDecodeSeconds: int(ingest, 'ingest.', 'maxImageDecodeSeconds', DEFAULT_MAX_IMAGE_DECODE_SECONDS, 1, 3600),
    }),
    journal: Object.freeze({
      maxBatch: int(journal, 'journal.', 'maxBatch', DEFAULT_JOURNAL_MAX_BATCH, 1, 1_000_000),
    }),
    pipeline: Object.freeze({
      workers,
      batchSize: int(pipeline, 'pipeline.', 'batchSize', DEFAULT_PIPELINE_BATCH, 1, 100_000),
      maxQueue: int(pipeline, 'pipeline.', 'maxQueue', DEFAULT_PIPELINE_MAX_QUEUE, 1, 10_000_000),
      listPollMs: int(pipeline, 'pipeline.', 'listPollMs', DEFAULT_LIST_POLL_MS, 10, 5000),
      maxImagesInFlight: int(pipeline, 'pipeline.', 'maxImagesInFlight', DEFAULT_MAX_IMAGES_IN_FLIGHT, 1, 10_000),
      // With one thread, images and pages share it.
      imageThreads: int(pipeline, 'pipeline.', 'imageThreads', Math.max(1, workers - 1), 1, workers),
    }),
    feed: Object.freeze({
      maxLimit: int(feed, 'feed.', 'maxLimit', DEFAULT_FEED_MAX_LIMIT, 1, 100_000),
      maxWaitMs: int(feed, 'feed.', 'maxWaitMs', DEFAULT_FEED_MAX_WAIT_MS, 0, 600_000),
    }),
    policy: Object.freeze({
      heartbeatSeconds: int(policy, 'policy.', 'heartbeatSeconds', DEFAULT_HEARTBEAT_SECONDS, 1, 86_400),
      heartbeatGraceSeconds: int(policy, 'policy.', 'heartbeatGraceSeconds', DEFAULT_HEARTBEAT_GRACE_SECONDS, 0, 86_400),
      uncheckedImageWindowSeconds: int(policy, 'policy.', 'uncheckedImageWindowSeconds', DEFAULT_UNCHECKED_IMAGE_WINDOW_SECONDS, 1, 86_400),
    }),
    retention: Object.freeze({
      journalMaxAgeHours: int(retention, 'retention.', 'journalMaxAgeHours', DEFAULT_RETENTION_JOURNAL_MAX_AGE_HOURS, 1, 24 * 365),
      alertDays: int(retention, 'retention.', 'alertDays', DEFAULT_RETENTION_ALERT_DAYS, 1, 36_500),
      dismissedAlertDays: int(retention, 'retention.', 'dismissedAlertDays', DEFAULT_RETENTION_DISMISSED_ALERT_DAYS, 1, 36_500),
      evidenceDays: int(retention, 'retention.', 'evidenceDays', DEFAULT_RETENTION_EVIDENCE_DAYS, 1, 36_500),
      sweepMinutes: int(retention, 'retention.', 'sweepMinutes', DEFAULT_RETENTION_SWEEP_MINUTES, 1, 24 * 60),
    }),
    operators: Object.freeze({
      tokenTtlSeconds: int(operators, 'operators.', 'tokenTtlSeconds', DEFAULT_OPERATOR_TOKEN_TTL_SECONDS, 60, 12 * 3600),
      maxFailedLogins: int(operators, 'operators.', 'maxFailedLogins', DEFAULT_OPERATOR_MAX_FAILED_LOGINS, 1, 100),
      lockoutSeconds: int(operators, 'operators.', 'lockoutSeconds', DEFAULT_OPERATOR_LOCKOUT_SECONDS, 1, 86_400),
      loginsPerMinute: int(operators, 'operators.', 'loginsPerMinute', DEFAULT_OPERATOR_LOGINS_PER_MINUTE, 1, 100_000),
      maxBodyBytes: int(operators, 'operators.', 'maxBodyBytes', DEFAULT_OPERATOR_MAX_BODY_BYTES, 1024, 16 * 1024 * 1024),
      maxListUploadBytes: int(operators, 'operators.', 'maxListUploadBytes', DEFAULT_OPERATOR_MAX_LIST_UPLOAD_BYTES, 1024, 1 << 30),
    }),
  };
  refuseUnread(file, read);
  return Object.freeze(config);
}
