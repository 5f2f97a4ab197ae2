/**
 * The store layer: every durable record lives in one LMDB environment per data folder.
 * Ingest appends device events to the `Journal`; the pipeline turns matched events into alerts in the
 * `AlertStore` (removing them from the journal in the same transaction); operators enrol devices in
 * the `RegistryStore` and import match lists into the `ListStore`. Operators (`OperatorStore`) review
 * alerts; everything they and the CLI do is appended to the hash-chained `AuditLog`, and the
 * `RetentionSweeper` deletes what is past its retention period.
 */
export { missingDatabase, openDatabases, type Databases, type OpenOptions } from './database.js';
export * from './registry-store.js';
export { redactTokens } from './bearer-token.js';
export { Journal, type DurablePage, type JournalListener } from './journal.js';
export { decodeEntry, decodeRecord, encodeEntry, entryFromFrame, entryPrefix } from './journal-codec.js';
export {
  AlertStore, type EvidenceRecord, type AlertChange, type DeletionReceipt, type RetentionCutoffs, type ExpiryBatch,
} from './alert-store.js';
export { MAX_EXAMINED, type AlertQuery, type AlertPage } from './alert-query.js';
export * from './audit-log.js';
export * from './operator-store.js';
export * from './outcome.js';
export { MIN_PASSWORD_LENGTH } from './password-hash.js';
export { scrubDeleted, type ScrubResult } from './disk-scrubber.js';
export * from './retention-sweeper.js';
export * from './list-store.js';
export { sealEvidence, openEvidence } from './evidence-cipher.js';
export { checkEvidenceKey, evidenceKeyInUse, EVIDENCE_KEY_CHECK, recordEvidenceKey, type EvidenceKeyCheck } from './evidence-key-check.js';
export { claimDataFolder, claimHolds, CLAIM_LAPSE_MS, type HeldFolder, type ServerClaim } from './server-claim.js';
