/**
 * Evidence is encrypted at rest with AES-256-GCM under the evidence key. The device and event
 * sequence are bound in as associated data, so a sealed image cannot be passed off as another
 * event's evidence; a wrong key or any tampering makes `openEvidence` fail rather than return bytes.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SealedEvidence } from '../core/index.js';

const IV_BYTES = 12;
/** The full GCM tag. Stated when opening, because Node otherwise accepts a tag cut down to 4 bytes and checks only those. */
const TAG_BYTES = 16;

const aad = (deviceId: string, seq: number): Buffer => Buffer.from(`vigil-evidence-v1\u0000${deviceId}\u0000${seq}`);

export function sealEvidence(key: Uint8Array, deviceId: string, seq: number, bytes: Uint8Array, format: string): SealedEvidence {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(deviceId, seq));
  const ciphertext = Buffer.concat([cipher.update(bytes), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext, bytes: bytes.byteLength, format };
}

/** The image bytes; throws if the key is wrong or the evidence was altered. */
export function openEvidence(key: Uint8Array, deviceId: string, seq: number, sealed: SealedEvidence): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad(deviceId, seq));
  decipher.setAuthTag(sealed.tag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
}
