/**
 * The audit log: every operator action and administrative command, as a hash chain. Each entry holds
 * the SHA-256 of the one before it and its own hash over a canonical encoding, so removing, altering
 * or reordering an entry breaks the chain at that point. Entries are appended inside the writer's
 * LMDB transaction, reading the chain head in that same transaction, so a server and a CLI command
 * appending at once (two processes) still form one chain. There is no method to change or remove an
 * entry: the log is append-only through every interface Vigil offers.
 */
import { createHash } from 'node:crypto';
import type { Databases } from './database.js';

/** What an entry's `details` may hold: JSON without floats, so that the encoding is canonical. */
export type AuditValue = string | number | boolean | null | readonly AuditValue[] | { readonly [key: string]: AuditValue };
export type AuditDetails = { readonly [key: string]: AuditValue };

/** An entry as it is about to be appended. `details` never holds monitored content. */
export interface AuditDraft { actor: string; action: string; target: string; details?: AuditDetails }

export interface AuditEntry {
  seq: number;
  /** ms since the epoch */
  at: number;
  /** `operator:<username>`, `cli:<os user>`, `system:retention`, or `anonymous` for failed logins */
  actor: string;
  action: string;
  target: string;
  details: AuditDetails;
  prevHash: string;
  hash: string;
}

export const AUDIT_GENESIS_HASH = '0'.repeat(64);
const HEAD_KEY = 'auditHead';

/** A value that cannot be encoded canonically (a float, undefined, a function...). */
export class AuditFormatError extends Error {
  readonly code = 'AUDIT_FORMAT' as const;
  constructor(message: string) {
    super(message);
    this.name = 'AuditFormatError';
  }
}

/**
 * A string, if it is well-formed Unicode. One holding a lone surrogate (`"\ud800"` in JSON) is stored by LMDB as UTF-8,
 * which has no such thing, so it would read back as U+FFFD, hash differently, and the chain would read as altered.
 */
function wellFormed(s: string): string {
  if (/[\uD800-\uDFFF]/u.test(s)) throw new AuditFormatError('audit strings must be well-formed Unicode (no lone surrogates)');
  return s;
}

/**
 * The canonical encoding (docs/protocol.md, "Audit log"): JSON with no whitespace, object members
 * sorted by key (UTF-16 code unit order), strings escaped as JSON.stringify does, numbers only as
 * safe integers. Any other implementation of these rules produces the same bytes.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string': return JSON.stringify(wellFormed(value));
    case 'boolean': return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new AuditFormatError(`audit values must be safe integers, got ${value}`);
      return String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      // msgpackr stores a `__proto__` key as `__proto_`: an entry holding one could never be verified again.
      if (keys.includes('__proto__')) throw new AuditFormatError('audit values cannot hold a __proto__ key');
      return `{${keys.map((k) => `${JSON.stringify(wellFormed(k))}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new AuditFormatError(`audit values cannot hold ${typeof value}`);
  }
}

/** The hash of an entry: SHA-256 (hex) of the canonical encoding of every field but `hash`. */
export function auditHash(e: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, actor, action, target, details, prevHash } = e;
  return createHash('sha256').update(canonicalJson({ seq, at, actor, action, target, details, prevHash })).digest('hex');
}

/** Where a chain check stopped, if it did. */
export type ChainCheck =
  | { ok: true; count: number; head: { seq: number; hash: string } }
  | { ok: false; count: number; seq: number; reason: string };

/**
 * Checks a run of entries that should follow `prevHash` (the genesis hash for the first entry) with
 * sequence numbers from `firstSeq`. Reports the first broken link and its position.
 */
export function checkChain(entries: Iterable<AuditEntry>, prevHash = AUDIT_GENESIS_HASH, firstSeq = 1): ChainCheck {
  let expected = firstSeq;
  let prev = prevHash;
  let count = 0;
  for (const e of entries) {
    if (e.seq !== expected) {
      return { ok: false, count, seq: expected, reason: e.seq > expected
        ? `entry ${expected} is missing (the next entry is ${e.seq})` : `entry ${e.seq} is out of order (expected ${expected})` };
    }
    if (e.prevHash !== prev) return { ok: false, count, seq: e.seq, reason: `entry ${e.seq} does not link to entry ${e.seq - 1} (prevHash differs)` };
    let hash: string;
    try { hash = auditHash(e) } catch { hash = '' }
    if (hash !== e.hash) return { ok: false, count, seq: e.seq, reason: `entry ${e.seq} was altered (its hash does not match its content)` };
    prev = e.hash;
    expected++;
    count++;
  }
  return { ok: true, count, head: { seq: expected - 1, hash: prev } };
}

export class AuditLog {
  readonly #db: Databases;

  constructor(db: Databases) {
    this.#db = db;
  }

  /**
   * Appends an entry. Must be called inside a write transaction callback (`root.transaction`,
   * `childTransaction` or `transactionSync`): the chain head is read in that transaction, so the entry
   * commits together with the action it records, or not at all.
   */
  appendInTxn(draft: AuditDraft, now = Date.now()): AuditEntry {
    const details = draft.details ?? {};
    canonicalJson(details); // refuses what cannot be hashed before anything is written
    let last: AuditEntry | undefined;
    for (const { value } of this.#db.audit.getRange({ reverse: true, limit: 1 })) last = value as AuditEntry;
    const body = {
      seq: (last?.seq ?? 0) + 1, at: now, actor: draft.actor, action: draft.action, target: draft.target,
      details, prevHash: last?.hash ?? AUDIT_GENESIS_HASH,
    };
    const entry: AuditEntry = { ...body, hash: auditHash(body) };
    this.#db.audit.put(entry.seq, entry);
    this.#db.meta.put(HEAD_KEY, { seq: entry.seq, hash: entry.hash });
    return entry;
  }

  /** Appends an entry in a transaction of its own. */
  append(draft: AuditDraft, now = Date.now()): Promise<AuditEntry> {
    return this.#db.root.transaction(() => this.appendInTxn(draft, now));
  }

  /** Entries with `from <= seq <= to`, in order, at most `limit`. Reads the newest snapshot. */
  read(from: number, to = Number.MAX_SAFE_INTEGER, limit = Number.MAX_SAFE_INTEGER): AuditEntry[] {
    this.#db.root.resetReadTxn();
    const out: AuditEntry[] = [];
    const end = Math.min(to, 0xfffffffe) + 1;
    for (const { value } of this.#db.audit.getRange({ start: Math.max(1, from), end, limit })) out.push(value as AuditEntry);
    return out;
  }

  /** The last entry's sequence and hash (0 and the genesis hash when the log is empty). */
  head(): { seq: number; hash: string } {
    this.#db.root.resetReadTxn();
    for (const { value } of this.#db.audit.getRange({ reverse: true, limit: 1 })) {
      const e = value as AuditEntry;
      return { seq: e.seq, hash: e.hash };
    }
    return { seq: 0, hash: AUDIT_GENESIS_HASH };
  }

  /** The hash an entry `seq` must link to: the previous entry's hash, or genesis for the first. */
  prevHashOf(seq: number): string {
    if (seq <= 1) return AUDIT_GENESIS_HASH;
    const prev = this.#db.audit.get(seq - 1) as AuditEntry | undefined;
    return prev?.hash ?? '';
  }

  /**
   * Checks the whole chain from the first entry, and that it ends where the recorded head says (so a
   * cut-off tail is noticed too). Reports the first broken link.
   */
  verify(): ChainCheck {
    this.#db.root.resetReadTxn();
    const entries = (function* (db: Databases) {
      for (const { key, value } of db.audit.getRange({})) {
        const e = value as AuditEntry;
        // An entry stored under another key than its own sequence was moved: treat it as altered.
        yield key === e.seq ? e : { ...e, hash: '' };
      }
    })(this.#db);
    const result = checkChain(entries);
    if (!result.ok) return result;
    const recorded = this.#db.meta.get(HEAD_KEY) as { seq: number; hash: string } | undefined;
    if (recorded && (recorded.seq !== result.head.seq || recorded.hash !== result.head.hash)) {
      return recorded.seq > result.head.seq
        ? { ok: false, count: result.count, seq: result.head.seq + 1, reason: `entries ${result.head.seq + 1}..${recorded.seq} are missing from the end of the log` }
        : { ok: false, count: result.count, seq: recorded.seq, reason: `the recorded head (entry ${recorded.seq}) does not match the chain` };
    }
    return result;
  }
}
