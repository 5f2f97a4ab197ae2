/**
 * Cross-cutting types every layer may import: device events, alerts, branded ids, config, errors,
 * metrics. Nothing here does I/O except `loadConfig`, which reads the environment and config file.
 */
export * from './ids.js';
export * from './events.js';
export * from './alerts.js';
export * from './errors.js';
export * from './config.js';
export * from './metrics.js';
export * from './seeded-random.js';
