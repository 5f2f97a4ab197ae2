/**
 * The pipeline layer: durable events in, alerts out. Ingest hands it journaled events; it batches
 * them into a piscina pool of matcher workers against a snapshot of compiled lists (kept current by
 * `ListWatcher`), builds alerts, stores them with the journal clean-up in one transaction, and tells
 * the `AlertFeed`'s subscribers. Alerts no stored event carries are raised here too: `HeartbeatMonitor`
 * (silence) and `UncheckedImageMonitor` (images refused without being matched, as ingest reports them).
 * List import (`ListImporter`) also lives here: it validates rows with the matchers' own parsers before
 * the store sees them.
 */
export { Pipeline, evidenceIdOf, type PipelinePage, type PipelineOptions } from './pipeline.js';
export { ImageAnalyser, type ImageOutcome } from './image-analyser.js';
export { AlertFeed, announceStored, type FeedListener } from './alert-feed.js';
export { AlertBuilder, alertId, hasRules } from './alert-builder.js';
export { ListWatcher } from './list-watcher.js';
export { WorkerPool } from './worker-pool.js';
export * from './list-importer.js';
export { readCsv, splitCsvLine, type CsvRecord } from './csv-rows.js';
export { HeartbeatMonitor, type HeartbeatOptions, type MonitorParts } from './heartbeat-monitor.js';
export {
  UncheckedImageMonitor, type UncheckedImage, type UncheckedImageOptions, type UncheckedReason,
} from './unchecked-image-monitor.js';
