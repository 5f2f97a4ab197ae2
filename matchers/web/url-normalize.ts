import { domainToASCII } from 'node:url';

/**
 * Normalisation of the `domain` of a `dns` event and the `url` of a `url` event into the form list
 * entries are stored in, so that spellings of the same site meet. The rules, in order:
 *
 * - scheme: `http`, `https`, `ws`, `wss` and `ftp` are accepted, in any case; a URL written without a
 *   scheme is read as `http://`. The scheme is then dropped from the key: lists are written without it
 *   and the same content is served over both http and https.
 * - host: lowercased, IDN to punycode, IPv4 written any way (`0x7f.1`) to dotted decimal, IPv6 compressed
 *   in brackets (all by the WHATWG URL parser, via `node:url`); one trailing dot removed (`bad.example.`
 *   is the fully qualified spelling of `bad.example`); one leading `www.` removed (see `canonicalHost`).
 * - port: dropped when it is 80 or 443, whatever the scheme, since the key has no scheme; kept otherwise.
 * - userinfo and fragment: dropped; neither reaches the server that serves the page.
 * - path: dot segments resolved (also when percent-encoded), `\` read as `/`, then runs of `/` merged into
 *   one (see `mergeSlashes`); case kept.
 * - percent-encoding (RFC 3986 §6.2.2): escapes of unreserved characters decoded (`%7E` -> `~`), the hex
 *   digits of every other escape uppercased (`%2f` -> `%2F`), a `%` that starts no escape written `%25`.
 *   Reserved characters are not decoded: `%2F` and `/` differ. An empty query (`?` alone) is dropped.
 *
 * Garbage never throws: it comes back as `{ ok: false, reason }`.
 */

export type NormalizedDomain = { ok: true; domain: string } | { ok: false; reason: string };
export type NormalizedUrl = { ok: true; host: string; key: string } | { ok: false; reason: string };

const SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:']);
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** A scheme without `//`: `mailto:`, `data:`, `http:bad.example`... but not `bad.example:8080`, a port. */
const BARE_SCHEME = /^[a-z][a-z0-9+.-]*:(?![0-9])/i;
/** Characters that end a host in a URL; a domain that contains one is not a domain. */
const NOT_IN_DOMAIN = /[/\\?#@\s]/;

/**
 * Normalises the domain of a `dns` event (or a host) with the host rules above. An IPv6 address may come
 * with or without brackets; it is returned with them, as in a URL. A port, path or userinfo is refused.
 */
export function normalizeDomain(raw: string): NormalizedDomain {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, reason: 'empty domain' };
  if (isPlainDomain(raw)) return { ok: true, domain: canonicalHost(raw) };
  const ascii = plainAfterLowercasing(raw);
  if (ascii !== undefined) return { ok: true, domain: ascii.slice(wwwLength(ascii)) };
  if (NOT_IN_DOMAIN.test(raw)) return { ok: false, reason: `not a domain name: ${quote(raw)}` };
  const colons = raw.split(':').length - 1;
  if (colons === 1 && !raw.startsWith('[')) return { ok: false, reason: `a domain has no port: ${quote(raw)}` };
  const domain = canonicalHost(domainToASCII(colons > 1 && !raw.startsWith('[') ? `[${raw}]` : raw));
  if (domain === '') return { ok: false, reason: `not a valid domain name: ${quote(raw)}` };
  return { ok: true, domain };
}

/**
 * Normalises a URL with the rules above into `host` (as `normalizeDomain` gives it) and `key`: host,
 * `:port` if one is kept, path and query. URL prefix entries are keys of the same form.
 */
export function normalizeUrl(raw: string): NormalizedUrl {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text === '') return { ok: false, reason: 'empty URL' };
  let withScheme = text;
  if (!HAS_SCHEME.test(text)) {
    const scheme = BARE_SCHEME.exec(text)?.[0].toLowerCase();
    if (scheme === undefined) withScheme = text.startsWith('//') ? `http:${text}` : `http://${text}`;
    else if (!SCHEMES.has(scheme)) return { ok: false, reason: `unsupported scheme: ${quote(text)}` };
  }
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { ok: false, reason: `not a URL: ${quote(text)}` };
  }
  if (!SCHEMES.has(url.protocol)) return { ok: false, reason: `unsupported scheme ${url.protocol} in ${quote(text)}` };
  const host = canonicalHost(url.hostname);
  if (host === '') return { ok: false, reason: `no host in ${quote(text)}` };
  const port = url.port === '' || url.port === '80' || url.port === '443' ? '' : `:${url.port}`;
  return { ok: true, host, key: host + port + normalizePercent(mergeSlashes(url.pathname)) + normalizePercent(url.search) };
}

/** Runs of two or more `/`, in a path as the URL parser gives it (`\` already read as `/`). */
const SLASH_RUN = /\/{2,}/g;

/**
 * `path` (a `pathname` from the URL parser) with each run of `/` written as one. nginx (`merge_slashes`, on by
 * default) and Apache (`MergeSlashes`, on by default) serve `/a//b` as `/a/b`, so `bad.example//gallery/x` is
 * the page a listed `bad.example/gallery/` names; lists and events both come through here, so an entry written
 * with `//` is merged alike. Merged after the parser has read `\` as `/` and resolved dot segments, as a browser
 * sends the path: a browser asked for `/a//../b` sends `/a/b` (the `..` takes the empty segment), which is what
 * the server then serves. Only the path: the slashes after the scheme are none of it, and the query keeps its
 * `//` (`?next=//x` is data). `%2F` is not a `/` and stays, as the percent-encoding rule above has it.
 */
function mergeSlashes(path: string): string {
  return path.includes('//') ? path.replace(SLASH_RUN, '/') : path;
}

/**
 * True when `s` is already a lowercase ASCII domain name that the WHATWG host parser would return
 * unchanged: letters, digits, `-` and `_` in non-empty labels, no punycode label (`xn--`, which the parser
 * validates), and a last label that does not start with a digit (which the parser may read as IPv4).
 * Most names in `dns` events are, so matching skips the parser for them.
 */
export function isPlainDomain(s: string): boolean {
  if (typeof s !== 'string') return false;
  let labelStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (i === labelStart) return false;
      labelStart = i + 1;
    } else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f)) {
      return false;
    } else if (c === 0x2d && i === labelStart + 3 && s.startsWith('xn-', labelStart)) {
      return false;
    }
  }
  if (labelStart === s.length) return false;
  const last = s.charCodeAt(labelStart);
  return !(last >= 0x30 && last <= 0x39);
}

/**
 * For an ASCII name that is plain (`isPlainDomain`) once lowercased and stripped of one trailing dot, that
 * plain name; otherwise undefined. For such a name the host parser does no more than lowercase it (its
 * IDN mapping leaves ASCII letters, digits, `-` and `_` as they are, apart from case), so `BAD.Example.`
 * skips the parser too.
 */
function plainAfterLowercasing(raw: string): string | undefined {
  for (let i = 0; i < raw.length; i++) {
    if (raw.charCodeAt(i) > 0x7f) return undefined;
  }
  const lower = (raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase();
  return isPlainDomain(lower) ? lower : undefined;
}

/**
 * Removes one trailing dot and then one leading `www.` from a parsed host (see `wwwLength`).
 * Because hosts in URLs lose their `www.`, domain entries must lose it too, or a listed `www.bad.example`
 * would never match a URL; a listed `www.bad.example` therefore covers `bad.example` and its subdomains.
 */
export function canonicalHost(host: string): string {
  const bare = host.endsWith('.') ? host.slice(0, -1) : host;
  return bare.slice(wwwLength(bare));
}

/**
 * 4 if `host` starts with a `www.` that normalisation removes, else 0. Only one `www.`: `www.www.bad.example`
 * is a different host, which still matches `bad.example` as a subdomain. And only when what remains still has
 * a dot, so that `www.example` does not become the whole `example` TLD.
 */
export function wwwLength(host: string): number {
  return host.startsWith('www.') && host.indexOf('.', 4) > 4 ? 4 : 0;
}

/** RFC 3986 §6.2.2 percent-encoding normalisation of a path or query the URL parser has already encoded. */
export function normalizePercent(s: string): string {
  let at = s.indexOf('%');
  if (at === -1) return s;
  let out = '';
  let copied = 0;
  for (; at !== -1; at = s.indexOf('%', at + 1)) {
    const hi = hexValue(s.charCodeAt(at + 1));
    const lo = hexValue(s.charCodeAt(at + 2));
    out += s.slice(copied, at);
    if (hi < 0 || lo < 0) {
      out += '%25';
      copied = at + 1;
      continue;
    }
    const code = hi * 16 + lo;
    out += isUnreserved(code) ? String.fromCharCode(code) : s.slice(at, at + 3).toUpperCase();
    copied = at + 3;
  }
  return out + s.slice(copied);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 §2.3). */
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e
  );
}

/** Quotes device or list text for a reason, cut short so that a huge input cannot make a huge message. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}...` : s);
}
