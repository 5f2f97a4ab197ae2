/**
 * The OpenAPI 3.1 description of the operator and consumer HTTP endpoints, served at
 * `GET /v1/openapi.json`. Each operation names the roles that may call it in `x-vigil-roles`
 * (`public` needs no token); the tests call every operation with every role and check both the
 * status codes and the response bodies against these schemas.
 */
type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const int = { type: 'integer' };
const str = { type: 'string' };
const nullable = (schema: Json): Json => ({ oneOf: [{ type: 'null' }, schema] });
const obj = (properties: Json, required: string[] = Object.keys(properties)): Json => ({ type: 'object', properties, required });
const json = (schema: Json): Json => ({ content: { 'application/json': { schema } } });
const reply = (description: string, schema: Json): Json => ({ description, ...json(schema) });
const error = (description: string): Json => reply(description, ref('Error'));

const E401 = error('No token, or an invalid, expired or ended one');
const E403 = error('The caller\'s role may not do this, or the subject is not on the caller\'s caseload');
const E404 = error('No such record');
const E400 = error('A parameter or the body is malformed; `RATIONALE_REQUIRED` when a decision has no rationale');
const E409 = error('The change conflicts with the record\'s state (an illegal review move, a held alert, an existing name)');

interface OpSpec {
  summary: string;
  roles: readonly string[] | 'public';
  ok: [number, Json];
  errors?: Record<number, Json>;
  body?: Json;
  parameters?: Json[];
}

function op(s: OpSpec): Json {
  const responses: Json = { [s.ok[0]]: s.ok[1], ...(s.roles === 'public' ? {} : { 401: E401, 403: E403 }), ...s.errors };
  return {
    summary: s.summary,
    'x-vigil-roles': s.roles === 'public' ? ['public'] : s.roles,
    ...(s.roles === 'public' ? { security: [] } : {}),
    ...(s.parameters ? { parameters: s.parameters } : {}),
    ...(s.body ? { requestBody: { required: true, ...json(s.body) } } : {}),
    responses,
  };
}

const pathParam = (name: string): Json => ({ name, in: 'path', required: true, schema: str });
const queryParam = (name: string, schema: Json, description: string): Json => ({ name, in: 'query', required: false, schema, description });
const ALERT_ID = pathParam('id');
const USERNAME = pathParam('username');
const REASON_BODY = obj({ reason: { type: 'string', minLength: 1, maxLength: 1000 } });

const CATEGORY = { type: 'string', enum: ['keyboard', 'web', 'image', 'heartbeat', 'location'] };
const SEVERITY = { type: 'string', enum: ['low', 'medium', 'high', 'critical'] };
const STATE = { type: 'string', enum: ['new', 'in_review', 'confirmed', 'dismissed'] };
const ROLE = { type: 'string', enum: ['admin', 'manager', 'auditor'] };

const schemas: Json = {
  Error: obj({ error: obj({ code: str, message: str }) }),
  CursorAhead: obj({ error: obj({ code: { type: 'string', enum: ['CURSOR_AHEAD'] }, message: str, head: int }) }),
  LoginRequest: obj({ username: str, password: str }),
  LoginResult: obj({ token: str, expiresAt: int, role: ROLE }),
  Me: obj({ username: str, role: ROLE, caseload: { type: 'array', items: str } }),
  Match: { type: 'object', required: ['kind'], properties: { kind: { type: 'string', enum: ['keyword', 'domain', 'url', 'app', 'hash', 'rule'] } } },
  Review: obj({ from: STATE, to: STATE, by: str, at: int, rationale: str }, ['from', 'to', 'by', 'at']),
  Hold: obj({ by: str, at: int, reason: str }),
  Alert: obj({
    id: str, sequence: int, category: CATEGORY, subjectId: str, deviceId: str, eventSeq: int, eventAt: int, raisedAt: int,
    severity: SEVERITY, state: STATE, match: ref('Match'), captureId: nullable(str),
    evidence: nullable(obj({ id: str, href: str, format: str, bytes: int }, ['id', 'href'])),
    evidenceDeleted: nullable(obj({ at: int, by: str })),
    review: nullable(ref('Review')),
    hold: nullable(ref('Hold')),
  }),
  AlertPage: obj({ alerts: { type: 'array', items: ref('Alert') }, next: nullable(int) }),
  ReviewRequest: obj({ state: STATE, rationale: { type: 'string', maxLength: 4000 } }, ['state']),
  ReviewResult: obj({ alert: ref('Alert'), feedSequence: nullable(int), auditSeq: int }),
  HoldRequest: obj({ held: { type: 'boolean' }, reason: { type: 'string', minLength: 1, maxLength: 1000 } }),
  HoldResult: obj({ alert: ref('Alert'), auditSeq: nullable(int) }),
  DeletionRequest: REASON_BODY,
  DeletionReceipt: obj({
    receipt: obj({ auditSeq: int, at: int, by: str, action: str, target: str, hash: str }),
    scrubbed: obj({ copies: int, bytes: int }),
    feedSequences: { type: 'array', items: int },
  }),
  AuditEntry: obj({ seq: int, at: int, actor: str, action: str, target: str, details: { type: 'object' }, prevHash: str, hash: str }),
  AuditPage: obj({
    entries: { type: 'array', items: ref('AuditEntry') }, next: nullable(int), prevHash: str, head: obj({ seq: int, hash: str }),
  }),
  ChainCheck: {
    oneOf: [
      obj({ ok: { const: true }, count: int, head: obj({ seq: int, hash: str }) }),
      obj({ ok: { const: false }, count: int, seq: int, reason: str }),
    ],
  },
  Operator: obj({
    username: str, role: ROLE, createdAt: int, createdBy: str, disabled: { type: 'boolean' }, lockedUntil: nullable(int), failedLogins: int,
  }),
  OperatorList: obj({ operators: { type: 'array', items: ref('Operator') } }),
  OperatorCreate: obj({ username: str, role: ROLE, password: { type: 'string', minLength: 12 } }),
  OperatorChange: obj({ role: ROLE, disabled: { type: 'boolean' }, unlock: { type: 'boolean' }, password: str }, []),
  OperatorResult: obj({ operator: ref('Operator') }),
  CaseloadEntry: obj({ subjectId: str, addedAt: int, addedBy: str }),
  Caseload: obj({ username: str, subjects: { type: 'array', items: ref('CaseloadEntry') } }),
  CaseloadAdded: obj({ username: str, entry: ref('CaseloadEntry') }),
  CaseloadRemoved: obj({ username: str, removed: str }),
  RetentionSettings: obj({ journalMaxAgeHours: int, alertDays: int, dismissedAlertDays: int, evidenceDays: int }),
  RetentionChange: obj({ journalMaxAgeHours: int, alertDays: int, dismissedAlertDays: int, evidenceDays: int }, []),
  RetentionResult: obj({ settings: ref('RetentionSettings') }),
  SweepResult: obj({
    report: obj({
      at: int, settings: ref('RetentionSettings'), alertsDeleted: int, evidenceDeleted: int, noticesDeleted: int,
      keptHeld: int, keptInReview: int, journalExpired: int, sessionsPruned: int, scrubbed: obj({ copies: int, bytes: int }), auditSeq: int,
    }),
  }),
  ListInfo: obj({
    name: str, kind: { type: 'string', enum: ['hashes', 'urls', 'keywords', 'apps'] }, version: int, count: int, importedAt: int, source: str,
  }),
  Lists: obj({ lists: { type: 'array', items: ref('ListInfo') } }),
  ListImported: obj({ list: ref('ListInfo') }),
  CloudEvent: obj({
    specversion: { const: '1.0' }, id: str, source: str, type: str, time: str, subject: str, sequence: str,
    datacontenttype: { const: 'application/json' }, data: { type: 'object' },
  }),
  FeedPage: obj({ alerts: { type: 'array', items: ref('CloudEvent') }, next: int, head: int }),
};

export const OPENAPI_DOCUMENT: Readonly<Json> = Object.freeze({
  openapi: '3.1.0',
  info: {
    title: 'Vigil operator and consumer API',
    version: '1',
    description: 'Human review of alerts, the audit log, administration, and the alert feed. See docs/protocol.md. '
      + 'Every alert is indicative only: a trained offender manager reviews it before anyone acts.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'operator session token (vo1.…) or feed consumer token (vc1.…)' } },
    schemas,
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/login': { post: op({ summary: 'Log in: a bearer token valid for operators.tokenTtlSeconds', roles: 'public',
      body: ref('LoginRequest'), ok: [200, reply('Logged in', ref('LoginResult'))],
      errors: { 400: E400, 401: error('Wrong username or password, or the account is locked'), 429: error('Too many attempts from this address') } }) },
    '/v1/logout': { post: op({ summary: 'End this session', roles: ['admin', 'manager', 'auditor'],
      ok: [200, reply('Logged out', obj({ loggedOut: { const: true } }))] }) },
    '/v1/me': { get: op({ summary: 'Who the token belongs to, with a manager\'s caseload', roles: ['admin', 'manager', 'auditor'],
      ok: [200, reply('The caller', ref('Me'))] }) },
    '/v1/openapi.json': { get: op({ summary: 'This document', roles: 'public', ok: [200, reply('OpenAPI 3.1', { type: 'object' })] }) },
    '/v1/operator/alerts': { get: op({
      summary: 'Alerts of the subjects on the caller\'s caseload, filtered, in feed order', roles: ['manager'],
      parameters: [
        queryParam('subject', str, 'one subject (must be on the caseload)'),
        queryParam('category', CATEGORY, ''), queryParam('severity', SEVERITY, ''), queryParam('state', STATE, ''),
        queryParam('held', { type: 'string', enum: ['true', 'false'] }, ''),
        queryParam('from', str, 'raised at or after: ms since the epoch or ISO 8601'),
        queryParam('to', str, 'raised at or before: ms since the epoch or ISO 8601'),
        queryParam('order', { type: 'string', enum: ['asc', 'desc'] }, 'asc (default) or newest first'),
        queryParam('cursor', int, 'the `next` of the previous page'),
        queryParam('limit', int, '1..500, default 50'),
      ],
      ok: [200, reply('A page of alerts; `next` is null at the end', ref('AlertPage'))], errors: { 400: E400 } }) },
    '/v1/operator/alerts/{id}': {
      get: op({ summary: 'One alert, with its evidence metadata and review state', roles: ['manager'], parameters: [ALERT_ID],
        ok: [200, reply('The alert', ref('Alert'))], errors: { 404: E404 } }),
      delete: op({ summary: 'Delete the alert, its notices and (unless shared) its evidence; a receipt stays in the audit log',
        roles: ['manager'], parameters: [ALERT_ID], body: ref('DeletionRequest'),
        ok: [200, reply('Deleted', ref('DeletionReceipt'))], errors: { 400: E400, 404: E404, 409: E409 } }),
    },
    '/v1/operator/alerts/{id}/evidence': {
      get: op({ summary: 'The evidence image, decrypted', roles: ['manager'], parameters: [ALERT_ID],
        ok: [200, { description: 'The image; application/octet-stream for listed bytes no decoder reads, kept by their exact hash',
          content: { 'image/*': { schema: { type: 'string', contentMediaType: 'image/*' } },
            'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } }],
        errors: { 404: E404, 410: error('The evidence was deleted') } }),
      delete: op({ summary: 'Delete the evidence (for every alert of the event that shares it); the alerts stay',
        roles: ['manager'], parameters: [ALERT_ID], body: ref('DeletionRequest'),
        ok: [200, reply('Deleted', ref('DeletionReceipt'))], errors: { 400: E400, 404: E404, 409: E409, 410: error('Already deleted') } }),
    },
    '/v1/operator/alerts/{id}/review': { post: op({
      summary: 'Move the alert along new -> in_review -> confirmed | dismissed; a decision needs a rationale. Published on the feed.',
      roles: ['manager'], parameters: [ALERT_ID], body: ref('ReviewRequest'),
      ok: [200, reply('Changed', ref('ReviewResult'))], errors: { 400: E400, 404: E404, 409: E409 } }) },
    '/v1/operator/alerts/{id}/hold': { post: op({
      summary: 'Hold the alert past its retention period, or release it', roles: ['manager'], parameters: [ALERT_ID],
      body: ref('HoldRequest'), ok: [200, reply('Held or released', ref('HoldResult'))], errors: { 400: E400, 404: E404 } }) },
    '/v1/audit': { get: op({
      summary: 'Audit entries with their hashes, from `from` to `to`', roles: ['auditor'],
      parameters: [queryParam('from', int, 'first sequence (default 1)'), queryParam('to', int, 'last sequence'), queryParam('limit', int, '1..1000')],
      ok: [200, reply('A page of entries; `prevHash` is what the first one links to', ref('AuditPage'))], errors: { 400: E400 } }) },
    '/v1/audit/verify': { get: op({ summary: 'Check the whole chain; reports the first broken link', roles: ['auditor'],
      ok: [200, reply('The result', ref('ChainCheck'))] }) },
    '/v1/admin/operators': {
      get: op({ summary: 'Operator accounts', roles: ['admin'], ok: [200, reply('Operators', ref('OperatorList'))] }),
      post: op({ summary: 'Create an operator', roles: ['admin'], body: ref('OperatorCreate'),
        ok: [201, reply('Created', ref('OperatorResult'))], errors: { 400: E400, 409: E409 } }),
    },
    '/v1/admin/operators/{username}': { patch: op({
      summary: 'Change role, password, lock or disabled flag', roles: ['admin'], parameters: [USERNAME], body: ref('OperatorChange'),
      ok: [200, reply('Changed', ref('OperatorResult'))], errors: { 400: E400, 404: E404, 409: E409 } }) },
    '/v1/admin/operators/{username}/caseload': { get: op({
      summary: 'A manager\'s caseload', roles: ['admin'], parameters: [USERNAME], ok: [200, reply('Caseload', ref('Caseload'))],
      errors: { 404: E404 } }) },
    '/v1/admin/operators/{username}/caseload/{subject}': {
      put: op({ summary: 'Assign a subject to a manager', roles: ['admin'], parameters: [USERNAME, pathParam('subject')],
        ok: [200, reply('Assigned', ref('CaseloadAdded'))], errors: { 404: E404, 409: E409 } }),
      delete: op({ summary: 'Take a subject off a manager\'s caseload', roles: ['admin'], parameters: [USERNAME, pathParam('subject')],
        ok: [200, reply('Removed', ref('CaseloadRemoved'))], errors: { 404: E404 } }),
    },
    '/v1/admin/retention': {
      get: op({ summary: 'Retention periods in force', roles: ['admin'], ok: [200, reply('Settings', ref('RetentionResult'))] }),
      put: op({ summary: 'Change retention periods', roles: ['admin'], body: ref('RetentionChange'),
        ok: [200, reply('Settings', ref('RetentionResult'))], errors: { 400: E400 } }),
    },
    '/v1/admin/retention/sweep': { post: op({ summary: 'Run a retention sweep now', roles: ['admin'],
      ok: [200, reply('What the sweep did', ref('SweepResult'))] }) },
    '/v1/admin/lists': { get: op({ summary: 'The active version of every list', roles: ['admin'], ok: [200, reply('Lists', ref('Lists'))] }) },
    '/v1/admin/lists/{name}': { post: op({
      summary: 'Import a CSV list (docs/protocol.md §5) as a new version', roles: ['admin'],
      parameters: [pathParam('name'), { name: 'kind', in: 'query', required: true, schema: { type: 'string', enum: ['hashes', 'urls', 'keywords', 'apps'] } },
        { name: 'allowEmpty', in: 'query', required: false, description: 'true to apply a file with a header and no rows (it empties the list)',
          schema: { type: 'string', enum: ['true', 'false'] } }],
      ok: [200, reply('Imported', ref('ListImported'))],
      errors: { 400: E400, 409: E409, 413: error('Over operators.maxListUploadBytes'), 415: error('Not text/csv') } }) },
    '/v1/alerts': { get: op({
      summary: 'The alert feed (PROTOCOL.md §4): alerts and review/deletion notices after `after`, long-poll with `waitMs`',
      roles: ['consumer'],
      parameters: [queryParam('after', int, 'feed sequence'), queryParam('limit', int, ''), queryParam('waitMs', int, '')],
      ok: [200, reply('Feed page', ref('FeedPage'))],
      errors: { 400: E400, 409: reply('`CURSOR_AHEAD`: `after` is beyond the feed\'s head (given as `error.head`), so not a cursor from '
        + 'this feed: another server\'s, or this one was restored from an older backup', ref('CursorAhead')) } }) },
    '/v1/feed': { get: op({
      summary: 'The alert feed as a WebSocket (upgrade): one CloudEvent per text frame. A socket opened with `after` beyond the '
        + 'feed\'s head is closed at once with code 4409 and reason `CURSOR_AHEAD: after=<after> is beyond the feed\'s head, <head>`',
      roles: ['consumer'],
      parameters: [queryParam('after', int, 'feed sequence')],
      ok: [101, { description: 'Switching to WebSocket' }] }) },
  },
});
