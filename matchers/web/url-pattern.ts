import { normalizeDomain, normalizeUrl, quote } from './url-normalize.js';

/**
 * One row of a `urls` list (PROTOCOL.md §5), parsed. A bare domain matches itself and every subdomain;
 * a prefix matches URLs on exactly `host` whose normalised key starts with `prefix` at a boundary
 * (see `WebIndex.matchUrl`). `prefix` is a key as `normalizeUrl` makes it: host, `:port` if any, path, query.
 */
export type UrlPattern = { kind: 'domain'; domain: string } | { kind: 'prefix'; host: string; prefix: string };

export type ParsedUrlPattern = { ok: true; pattern: UrlPattern } | { ok: false; reason: string };

/** A listed host: lowercase ASCII labels, none empty; or an IP address as the URL parser writes it. */
const LISTABLE_HOST = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/;
/** Characters that make a pattern a URL rather than a bare domain. */
const URL_SYNTAX = /[/\\:?#@]/;

/**
 * Parses and normalises one `pattern` cell of a `urls` list; the list importer calls it on every row.
 * With or without a scheme: `bad.example`, `https://bad.example/x`, `bad.example/x?id=1` are all patterns.
 * A URL whose path is `/` and that has no query and no kept port is a bare domain (`http://www.bad.example/`
 * is the domain `bad.example`). Refused, with a reason: empty cells, wildcards (`*.bad.example`: a bare
 * domain already covers its subdomains), hosts with empty labels or characters DNS names do not have,
 * IPv6 addresses without brackets, and anything `normalizeUrl` refuses.
 */
export function parseUrlPattern(raw: string): ParsedUrlPattern {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text === '') return { ok: false, reason: 'empty pattern' };
  if (text.includes('*')) {
    return { ok: false, reason: `wildcards are not supported (a bare domain matches its subdomains): ${quote(text)}` };
  }
  if (!URL_SYNTAX.test(text)) {
    const parsed = normalizeDomain(text);
    if (!parsed.ok) return parsed;
    return listable(parsed.domain) ?? { ok: true, pattern: { kind: 'domain', domain: parsed.domain } };
  }
  const parsed = normalizeUrl(text);
  if (!parsed.ok) return parsed;
  const { host, key } = parsed;
  const refused = listable(host);
  if (refused !== undefined) return refused;
  if (key === `${host}/`) return { ok: true, pattern: { kind: 'domain', domain: host } };
  return { ok: true, pattern: { kind: 'prefix', host, prefix: key } };
}

function listable(host: string): { ok: false; reason: string } | undefined {
  return LISTABLE_HOST.test(host) ? undefined : { ok: false, reason: `not a host name a list can hold: ${quote(host)}` };
}
