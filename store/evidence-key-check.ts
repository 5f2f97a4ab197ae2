/**
 * Which key a data folder's evidence is sealed under, known without keeping the key. A wrong key is otherwise found
 * only when someone asks for evidence (its GCM tag fails), by which time new evidence has been sealed under it and
 * the folder holds two keys mixed. So the first key used records a check value, the HMAC-SHA256 of a fixed label
 * under the key, and every later start compares. The value tells nothing of the key that a sealed record does not
 * already tell (each GCM tag confirms a guessed key just as well), and it is never deleted: evidence deleted or
 * expired until none is left does not change the key that evidence, and its backups, were sealed under.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Databases } from './database.js';
import type { EvidenceRecord } from './alert-store.js';
import { openEvidence } from './evidence-cipher.js';

/** The `meta` record holding the check value (hex). */
export const EVIDENCE_KEY_CHECK = 'evidenceKeyCheck';
/** The label the check value is the MAC of: fixed, and never used to seal anything. */
const CHECK_LABEL = 'vigil-evidence-key-check-v1';
/** How many records a folder from before check values is tried against: one that opens proves the key. */
const RECORDS_TRIED = 8;

/**
 * What a start learns of its key: `recorded` when the folder had no check value (a new folder, or one whose evidence
 * the key was just verified against), `matches` when it had and the key matches; `wrong` when the check value
 * differs, `unverified` when a folder from before check values holds evidence that the key opens none of.
 */
export type EvidenceKeyCheck =
  | { ok: true; outcome: 'matches' | 'recorded' }
  | { ok: false; outcome: 'wrong' }
  | { ok: false; outcome: 'unverified'; tried: number };

const checkValue = (key: Uint8Array): Buffer => createHmac('sha256', key).update(CHECK_LABEL).digest();

/**
 * Whether the folder's evidence has a key already, and how that is known: sealed evidence is stored (`'sealed'`),
 * or none is left but a check value was recorded (`'recorded'`); `undefined` for a folder no key was ever used on.
 */
export function evidenceKeyInUse(db: Databases): 'sealed' | 'recorded' | undefined {
  if (db.evidence.getKeysCount({ limit: 1 }) > 0) return 'sealed';
  return db.meta.get(EVIDENCE_KEY_CHECK) === undefined ? undefined : 'recorded';
}

/**
 * Compares `key` with the folder's check value, recording one if there is none yet: at once for a folder with no
 * evidence, after the key has opened one of its records for a folder from before check values.
 */
export async function checkEvidenceKey(db: Databases, key: Uint8Array): Promise<EvidenceKeyCheck> {
  const mine = checkValue(key);
  const stored = db.meta.get(EVIDENCE_KEY_CHECK);
  if (stored !== undefined) {
    const theirs = Buffer.from(String(stored), 'hex');
    return theirs.length === mine.length && timingSafeEqual(theirs, mine) ? { ok: true, outcome: 'matches' } : { ok: false, outcome: 'wrong' };
  }
  let tried = 0;
  let opened = false;
  for (const { value } of db.evidence.getRange({ limit: RECORDS_TRIED })) {
    tried++;
    const record = value as EvidenceRecord;
    try {
      openEvidence(key, record.deviceId, record.eventSeq, record.sealed);
      opened = true;
      break;
    } catch {
      // a wrong key, or this one record damaged: the next may tell
    }
  }
  if (tried > 0 && !opened) return { ok: false, outcome: 'unverified', tried };
  const hex = mine.toString('hex');
  await db.meta.transaction(() => {
    if (db.meta.get(EVIDENCE_KEY_CHECK) === undefined) db.meta.put(EVIDENCE_KEY_CHECK, hex);
  });
  // Recorded by this start, or by one that raced it with another key: what is stored now decides.
  return db.meta.get(EVIDENCE_KEY_CHECK) === hex ? { ok: true, outcome: 'recorded' } : { ok: false, outcome: 'wrong' };
}

/**
 * Records `key` as the folder's evidence key in place of the one recorded: only for a folder that holds no sealed
 * evidence (`vigil serve --new-evidence-key`, after the old key was lost for good).
 */
export async function recordEvidenceKey(db: Databases, key: Uint8Array): Promise<void> {
  if (db.evidence.getKeysCount({ limit: 1 }) > 0) throw new Error('a folder holding sealed evidence keeps the key it was sealed with');
  await db.meta.put(EVIDENCE_KEY_CHECK, checkValue(key).toString('hex'));
}
