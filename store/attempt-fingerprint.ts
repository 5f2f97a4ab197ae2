/**
 * What the audit log keeps of a failed login's username when no operator has it. People type their password into
 * the username box, the log is exported to auditors and can never be edited, and the name is whatever an
 * unauthenticated client sent. So the name itself is never kept: a short keyed fingerprint stands in for it, the
 * same for the same name, so that repeated attempts with one name can be told from many names (guessing) without
 * the name being readable, or guessable from the log alone (a plain hash of a short password would be).
 */
import { createHmac, hkdfSync } from 'node:crypto';

/** The HKDF label that makes the fingerprint key from the evidence key: nothing else derives this one. */
const KEY_LABEL = 'vigil-login-attempt-fingerprint-v1';
/** 64 bits: plenty to tell apart the names tried against one server, too few to say much about any of them. */
const FINGERPRINT_HEX = 16;

/** Names attempts with a key of their own, derived from `secret` (the evidence key) with HKDF-SHA256. */
export class AttemptFingerprint {
  readonly #key: Buffer;

  constructor(secret: Uint8Array) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), KEY_LABEL, 32));
  }

  /** The fingerprint of a username tried: hex, the same for the same name under the same secret. */
  of(username: string): string {
    return createHmac('sha256', this.#key).update(username, 'utf8').digest('hex').slice(0, FINGERPRINT_HEX);
  }
}
