/**
 * Administrative commands are operator actions too: each appends an audit entry naming the OS user
 * who ran it (`cli:<user>`). The append reads the chain head inside its own LMDB write transaction,
 * so a command and a running server writing at once still form one chain.
 */
import { userInfo } from 'node:os';
import { AuditLog, type AuditDetails, type AuditEntry, type Databases } from '../store/index.js';

export function cliActor(): string {
  let user: string;
  try { user = userInfo().username } catch { user = process.env.USER ?? `uid-${process.getuid?.() ?? 'unknown'}` }
  return `cli:${user}`;
}

export function auditCli(db: Databases, action: string, target: string, details: AuditDetails = {}): Promise<AuditEntry> {
  return new AuditLog(db).append({ actor: cliActor(), action, target, details });
}
