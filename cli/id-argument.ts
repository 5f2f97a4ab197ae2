/**
 * `--device` and `--consumer` take an id (`dev-…`, `con-…`) or the whole token it is part of: what an operator has at
 * hand is often the token. Nothing that may be a secret is echoed: a token is named by its id, and a value that is
 * neither an id nor a token (a secret pasted alone, say) is not repeated.
 */
import { UsageError } from '../core/index.js';
import { tokenOwner } from '../store/index.js';

type Owner = 'device' | 'consumer';

const FORMS: Record<Owner, { flag: string; id: string; token: string; revoke: string }> = {
  device: { flag: '--device', id: 'dev-', token: 'vd1', revoke: 'vigil devices revoke --device' },
  consumer: { flag: '--consumer', id: 'con-', token: 'vc1', revoke: 'vigil tokens revoke --consumer' },
};

/** The id a `--device` or `--consumer` value names: the value itself, or the id part of a token of that kind. */
export function idArgument(raw: string, kind: Owner): string {
  const form = FORMS[kind];
  const owner = tokenOwner(raw);
  if (owner?.kind === kind) return owner.id;
  if (owner) throw new UsageError(`${form.flag} was given a ${owner.kind} token: revoke ${owner.kind === 'device' ? 'the device' : 'it'} with ${FORMS[owner.kind].revoke} ${owner.id}`);
  if (raw.startsWith(form.id) && /^[A-Za-z0-9_-]{1,64}$/.test(raw.slice(form.id.length))) return raw;
  throw new UsageError(`${form.flag} takes a ${kind} id (${form.id}…) or a ${kind} token (${form.token}.${form.id}….…); `
    + 'the value given is neither (it is not shown here, in case it is a secret)');
}
