/**
 * The store layer: every durable record lives in one LMDB environment per data folder.
 * Ingest appends device events to the `Journal`; the pipeline turns matched events into alerts in the
 * `AlertStore` (removing them from the journal in the same transaction); operators enrol devices in
 * the `RegistryStore` and import match lists into the `ListStore`.
 */
export { openDatabases, type Databases } from './database.js';
export * from './registry-store.js';
export { Journal } from './journal.js';
export { AlertStore, type EvidenceRecord } from './alert-store.js';
export * from './list-store.js';
export { sealEvidence, openEvidence } from './evidence-cipher.js';
