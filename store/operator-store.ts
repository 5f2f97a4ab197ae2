/**
 * Operator accounts, their sessions and the managers' caseloads. Passwords are kept only as scrypt
 * hashes; a login gives a short-lived bearer token (`vo1.<sessionId>.<secret>`) stored as a SHA-256
 * hash and compared in constant time. Repeated failures lock the account for a while. Roles are read
 * afresh on every request, so a role change or a disabled account takes effect at once. Every change
 * is written to the audit log in the same transaction as the change itself.
 */
import { randomBytes } from 'node:crypto';
import { asSubjectId, type SubjectId } from '../core/ids.js';
import { AttemptFingerprint } from './attempt-fingerprint.js';
import type { AuditLog } from './audit-log.js';
import { secretMatches, splitToken, tokenHash } from './bearer-token.js';
import type { Databases } from './database.js';
import { done, fail, type Outcome } from './outcome.js';
import { decoyHash, hashPassword, passwordProblem, verifyPassword, type PasswordHash } from './password-hash.js';

export type OperatorRole = 'admin' | 'manager' | 'auditor';
export const OPERATOR_ROLES: readonly OperatorRole[] = ['admin', 'manager', 'auditor'];

export interface OperatorRecord {
  username: string;
  role: OperatorRole;
  password: PasswordHash;
  createdAt: number;
  createdBy: string;
  failedLogins: number;
  lockedUntil?: number;
  disabledAt?: number;
}

/** An operator as shown to admins: no password hash. */
export interface OperatorView {
  username: string; role: OperatorRole; createdAt: number; createdBy: string;
  disabled: boolean; lockedUntil: number | null; failedLogins: number;
}

export interface SessionRecord { sessionId: string; username: string; tokenHash: string; createdAt: number; expiresAt: number }
export interface CaseloadEntry { subjectId: SubjectId; addedAt: number; addedBy: string }

/** Who is asking: an operator with a live session. */
export interface Principal { username: string; role: OperatorRole; sessionId: string }

export interface LoginPolicy { tokenTtlSeconds: number; maxFailedLogins: number; lockoutSeconds: number }

export type LoginResult =
  | { ok: true; token: string; expiresAt: number; role: OperatorRole }
  | { ok: false; reason: 'invalid' | 'locked' };

export interface OperatorChange { role?: OperatorRole; disabled?: boolean; unlock?: boolean; password?: string }

const TOKEN_PREFIX = 'vo1';
/** The target of a failed login under a name no operator has: the name itself is not kept. */
export const UNKNOWN_OPERATOR = 'operator:(unknown)';
const USERNAME_RE = /^[a-z0-9][a-z0-9._-]{1,63}$/;


export const validUsername = (u: string): boolean => USERNAME_RE.test(u);
export const isOperatorRole = (r: unknown): r is OperatorRole => typeof r === 'string' && (OPERATOR_ROLES as readonly string[]).includes(r);

function view(r: OperatorRecord): OperatorView {
  return {
    username: r.username, role: r.role, createdAt: r.createdAt, createdBy: r.createdBy,
    disabled: r.disabledAt !== undefined, lockedUntil: r.lockedUntil ?? null, failedLogins: r.failedLogins,
  };
}

export class OperatorStore {
  readonly #db: Databases;
  readonly #audit: AuditLog;
  readonly #policy: LoginPolicy;
  readonly #attempts: AttemptFingerprint;

  /**
   * `attemptSecret` (the server passes the evidence key) keys the fingerprints that stand in for the names of unknown
   * operators in failed logins, so that they stay the same across restarts. Without one (the command line, which
   * never logs anyone in) a random one is used, good for this store's life.
   */
  constructor(db: Databases, audit: AuditLog, policy: LoginPolicy, attemptSecret: Uint8Array = randomBytes(32)) {
    this.#db = db;
    this.#audit = audit;
    this.#policy = policy;
    this.#attempts = new AttemptFingerprint(attemptSecret);
  }

  #get(username: string): OperatorRecord | undefined {
    return this.#db.operators.get(username) as OperatorRecord | undefined;
  }

  /** Reads, and on a miss reads again from the newest snapshot (another process may have written). */
  #fresh<T>(read: () => T | undefined): T | undefined {
    const first = read();
    if (first !== undefined) return first;
    this.#db.root.resetReadTxn();
    return read();
  }

  list(): OperatorView[] {
    this.#db.root.resetReadTxn();
    const out: OperatorView[] = [];
    for (const { value } of this.#db.operators.getRange({})) out.push(view(value as OperatorRecord));
    return out;
  }

  get(username: string): OperatorView | undefined {
    const r = this.#fresh(() => this.#get(username));
    return r && view(r);
  }

  async create(req: { username: string; role: OperatorRole; password: string }, actor: string, now = Date.now()): Promise<Outcome<OperatorView>> {
    if (!validUsername(req.username)) return fail('INVALID', 'username must be 2-64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit');
    if (!isOperatorRole(req.role)) return fail('INVALID', `role must be one of ${OPERATOR_ROLES.join(', ')}`);
    const problem = passwordProblem(req.password);
    if (problem) return fail('INVALID', problem);
    const password = await hashPassword(req.password);
    return this.#db.root.childTransaction(() => {
      if (this.#get(req.username)) return fail('CONFLICT', `operator ${req.username} exists already`);
      const rec: OperatorRecord = { username: req.username, role: req.role, password, createdAt: now, createdBy: actor, failedLogins: 0 };
      this.#db.operators.put(req.username, rec);
      this.#audit.appendInTxn({ actor, action: 'operator.create', target: `operator:${req.username}`, details: { role: req.role } }, now);
      return done(view(rec));
    });
  }

  /** Changes an operator's role, password, lock or disabled flag; each change is its own audit entry. */
  async update(username: string, change: OperatorChange, actor: string, now = Date.now()): Promise<Outcome<OperatorView>> {
    if (change.role !== undefined && !isOperatorRole(change.role)) return fail('INVALID', `role must be one of ${OPERATOR_ROLES.join(', ')}`);
    const problem = change.password === undefined ? undefined : passwordProblem(change.password);
    if (problem) return fail('INVALID', problem);
    const password = change.password === undefined ? undefined : await hashPassword(change.password);
    return this.#db.root.childTransaction(() => {
      const rec = this.#get(username);
      if (!rec) return fail('NOT_FOUND', `no operator ${username}`);
      const next: OperatorRecord = { ...rec };
      const target = `operator:${username}`;
      const entries: { action: string; details: Record<string, string | number | boolean> }[] = [];
      const losesAdmin = rec.role === 'admin' && rec.disabledAt === undefined
        && ((change.role !== undefined && change.role !== 'admin') || change.disabled === true);
      if (losesAdmin && this.#activeAdmins() <= 1) return fail('CONFLICT', 'the last active admin cannot be demoted or disabled');
      if (change.role !== undefined && change.role !== rec.role) {
        next.role = change.role;
        entries.push({ action: 'operator.role', details: { from: rec.role, to: change.role } });
        // A manager who stops being one loses the caseload: made a manager again later, they start with none,
        // rather than silently seeing subjects assigned long before.
        if (rec.role === 'manager') {
          for (const { key, value } of this.#db.caseloads.getRange({ start: [username, ''], end: [username, '\uffff'] })) {
            this.#db.caseloads.remove(key);
            entries.push({ action: 'caseload.remove', details: { subjectId: (value as CaseloadEntry).subjectId } });
          }
        }
      }
      if (change.disabled === true && rec.disabledAt === undefined) {
        next.disabledAt = now;
        entries.push({ action: 'operator.disable', details: {} });
      } else if (change.disabled === false && rec.disabledAt !== undefined) {
        delete next.disabledAt;
        entries.push({ action: 'operator.enable', details: {} });
      }
      if (change.unlock === true) {
        next.failedLogins = 0;
        delete next.lockedUntil;
        entries.push({ action: 'operator.unlock', details: {} });
      }
      if (password !== undefined) {
        next.password = password;
        entries.push({ action: 'operator.password', details: {} });
      }
      this.#db.operators.put(username, next);
      // A disabled account or a new password ends every session the operator had.
      if (change.disabled === true || password !== undefined) this.#endSessions(username);
      for (const e of entries) this.#audit.appendInTxn({ actor, action: e.action, target, details: e.details }, now);
      return done(view(next));
    });
  }

  #activeAdmins(): number {
    let n = 0;
    for (const { value } of this.#db.operators.getRange({})) {
      const r = value as OperatorRecord;
      if (r.role === 'admin' && r.disabledAt === undefined) n++;
    }
    return n;
  }

  #endSessions(username: string): void {
    for (const { key, value } of this.#db.sessions.getRange({})) {
      if ((value as SessionRecord).username === username) this.#db.sessions.remove(key);
    }
  }

  /**
   * Checks a password and opens a session. Unknown users cost the same scrypt time as known ones, and
   * every answer but success is the same to the caller; the audit log records the real reason.
   */
  async login(username: string, password: string, from: string, now = Date.now()): Promise<LoginResult> {
    // A name no operator could have is not looked up: it is an unknown operator, whatever it holds.
    const possible = validUsername(username);
    const known = possible ? this.#fresh(() => this.#get(username)) : undefined;
    const matches = await verifyPassword(password, known?.password ?? await decoyHash());
    const { maxFailedLogins, lockoutSeconds, tokenTtlSeconds } = this.#policy;
    return this.#db.root.childTransaction((): LoginResult => {
      const rec = possible ? this.#get(username) : undefined;
      const failed = (reason: string, details: Record<string, string | number> = {}): LoginResult => {
        // The name an unknown operator was tried under is never kept (store/attempt-fingerprint.ts).
        const target = rec ? `operator:${rec.username}` : UNKNOWN_OPERATOR;
        const attempt = rec ? {} : { attempt: this.#attempts.of(username) };
        this.#audit.appendInTxn({ actor: 'anonymous', action: 'login.failed', target, details: { reason, from, ...attempt, ...details } }, now);
        return { ok: false, reason: reason === 'locked' ? 'locked' : 'invalid' };
      };
      if (!rec) return failed('unknown operator');
      if (rec.disabledAt !== undefined) return failed('disabled');
      if (rec.lockedUntil !== undefined && rec.lockedUntil > now) return failed('locked');
      if (!matches || !known || rec.password.hash !== known.password.hash) {
        const failures = (rec.lockedUntil !== undefined ? 0 : rec.failedLogins) + 1;
        const next: OperatorRecord = { ...rec, failedLogins: failures };
        delete next.lockedUntil;
        if (failures >= maxFailedLogins) {
          next.lockedUntil = now + lockoutSeconds * 1000;
          next.failedLogins = 0;
        }
        this.#db.operators.put(username, next);
        const result = failed('wrong password', { failures });
        if (next.lockedUntil !== undefined) {
          this.#audit.appendInTxn({ actor: 'system:login', action: 'operator.locked', target: `operator:${username}`,
            details: { failures, until: next.lockedUntil } }, now);
        }
        return result;
      }
      const sessionId = randomBytes(12).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      const expiresAt = now + tokenTtlSeconds * 1000;
      const next: OperatorRecord = { ...rec, failedLogins: 0 };
      delete next.lockedUntil;
      this.#db.operators.put(username, next);
      this.#db.sessions.put(sessionId, { sessionId, username, tokenHash: tokenHash(secret), createdAt: now, expiresAt } satisfies SessionRecord);
      this.#audit.appendInTxn({ actor: `operator:${username}`, action: 'login', target: `session:${sessionId}`,
        details: { from, role: rec.role, expiresAt } }, now);
      return { ok: true, token: `${TOKEN_PREFIX}.${sessionId}.${secret}`, expiresAt, role: rec.role };
    });
  }

  /** The operator behind a bearer token, or null for a malformed, unknown, expired or ended one. */
  authenticate(token: string, now = Date.now()): Principal | null {
    const parts = splitToken(token, TOKEN_PREFIX);
    if (!parts) return null;
    const sessionId = parts.id;
    const session = this.#fresh(() => this.#db.sessions.get(sessionId) as SessionRecord | undefined);
    if (!session || session.expiresAt <= now) return null;
    if (!secretMatches(parts.secret, session.tokenHash)) return null;
    const rec = this.#fresh(() => this.#get(session.username));
    if (!rec || rec.disabledAt !== undefined) return null;
    return { username: rec.username, role: rec.role, sessionId };
  }

  async logout(p: Principal, now = Date.now()): Promise<void> {
    await this.#db.root.childTransaction(() => {
      this.#db.sessions.remove(p.sessionId);
      this.#audit.appendInTxn({ actor: `operator:${p.username}`, action: 'logout', target: `session:${p.sessionId}` }, now);
    });
  }

  /** Removes expired sessions; returns how many. */
  async pruneSessions(now = Date.now()): Promise<number> {
    return this.#db.root.transaction(() => {
      let n = 0;
      for (const { key, value } of this.#db.sessions.getRange({})) {
        if ((value as SessionRecord).expiresAt <= now) { this.#db.sessions.remove(key); n++ }
      }
      return n;
    });
  }

  /** The subjects on a manager's caseload. */
  caseload(username: string): CaseloadEntry[] {
    const out: CaseloadEntry[] = [];
    for (const { value } of this.#db.caseloads.getRange({ start: [username, ''], end: [username, '\uffff'] })) {
      out.push(value as CaseloadEntry);
    }
    return out;
  }

  onCaseload(username: string, subjectId: string): boolean {
    return this.#fresh(() => this.#db.caseloads.get([username, subjectId])) !== undefined;
  }

  async addToCaseload(username: string, subjectId: string, actor: string, now = Date.now()): Promise<Outcome<CaseloadEntry>> {
    return this.#db.root.childTransaction(() => {
      const rec = this.#get(username);
      if (!rec) return fail('NOT_FOUND', `no operator ${username}`);
      if (rec.role !== 'manager') return fail('CONFLICT', `${username} is ${rec.role === 'admin' ? 'an' : 'a'} ${rec.role}; only managers have caseloads`);
      if (this.#db.subjects.get(subjectId) === undefined) return fail('NOT_FOUND', `no subject ${subjectId}`);
      const existing = this.#db.caseloads.get([username, subjectId]) as CaseloadEntry | undefined;
      if (existing) return done(existing);
      const entry: CaseloadEntry = { subjectId: asSubjectId(subjectId), addedAt: now, addedBy: actor };
      this.#db.caseloads.put([username, subjectId], entry);
      this.#audit.appendInTxn({ actor, action: 'caseload.add', target: `operator:${username}`, details: { subjectId } }, now);
      return done(entry);
    });
  }

  async removeFromCaseload(username: string, subjectId: string, actor: string, now = Date.now()): Promise<Outcome<null>> {
    return this.#db.root.childTransaction(() => {
      if (this.#db.caseloads.get([username, subjectId]) === undefined) {
        return fail('NOT_FOUND', `subject ${subjectId} is not on ${username}'s caseload`);
      }
      this.#db.caseloads.remove([username, subjectId]);
      this.#audit.appendInTxn({ actor, action: 'caseload.remove', target: `operator:${username}`, details: { subjectId } }, now);
      return done(null);
    });
  }
}
