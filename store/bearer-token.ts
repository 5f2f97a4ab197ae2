/**
 * Bearer tokens as Vigil issues them, `<prefix>.<id>.<secret>` (`vd1.` devices, `vc1.` feed consumers, `vo1.`
 * operator sessions): the id finds the record, which keeps only the secret's SHA-256, compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Longer than any id Vigil makes (20-24 characters). A token's id is looked up as an LMDB key, and a key over 1978
 * bytes makes the lookup throw: in a uWS handler (the device and feed upgrades, `/v1/alerts`) that ended the server.
 */
const MAX_TOKEN_ID = 64;

/** The hex SHA-256 a record keeps of a token's secret. */
export const tokenHash = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** The id and secret of a token with this prefix, or null for anything else. */
export function splitToken(token: string, prefix: string): { id: string; secret: string } | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== prefix || !parts[1] || !parts[2] || parts[1].length > MAX_TOKEN_ID) return null;
  return { id: parts[1], secret: parts[2] };
}

/** Whether `secret` is the one whose hash a record keeps, compared in constant time. */
export function secretMatches(secret: string, storedHex: string): boolean {
  const stored = Buffer.from(storedHex, 'hex');
  const given = createHash('sha256').update(secret).digest();
  return stored.length === given.length && timingSafeEqual(stored, given);
}

/**
 * `text` with the secret part of every bearer token in it replaced by `…` (`vd1.dev-1f….…`): for messages that echo
 * what a user typed, where a token may have been pasted. The id stays, which names the token without giving it.
 */
export function redactTokens(text: string): string {
  return text.replace(/\b(v[a-z]\d\.[A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+/g, '$1.…');
}
