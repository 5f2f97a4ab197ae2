import t, { type Test } from 'tap';
import { once } from 'node:events';
import { domainToASCII } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { IndexMatch } from '../../matchers/index-match.js';
import {
  AppIndex, WebIndex, normalizeDomain, normalizeUrl, parseAppPackage, parseUrlPattern,
} from '../../matchers/web/index.js';
import { tagReverse } from '../../matchers/web/string-hash.js';
import { canonicalHost, isPlainDomain } from '../../matchers/web/url-normalize.js';
import { ListEntryError, seededRandom } from '../../core/index.js';

const entries = (matches: readonly IndexMatch[]): number[] => matches.map((m) => m.entry).sort((a, b) => a - b);
const keyOf = (url: string): string | undefined => {
  const n = normalizeUrl(url);
  return n.ok ? n.key : undefined;
};
const domainOf = (raw: string): string | undefined => {
  const n = normalizeDomain(raw);
  return n.ok ? n.domain : undefined;
};

t.test('web - normalisation lowercases the scheme and host but keeps the path case', async (t) => {
  t.equal(keyOf('HTTPS://Bad.EXAMPLE/Some/Path?Q=A'), 'bad.example/Some/Path?Q=A');
  t.equal(domainOf('Bad.EXAMPLE'), 'bad.example');
});

t.test('web - normalisation turns IDN hosts into punycode', async (t) => {
  t.equal(domainOf('Bücher.example'), 'xn--bcher-kva.example');
  t.equal(keyOf('http://bücher.example/x'), 'xn--bcher-kva.example/x');
  t.equal(domainOf('xn--bcher-kva.example'), 'xn--bcher-kva.example');
  t.equal(domainOf('ａｂｃ.example'), 'abc.example', 'full-width letters map to ASCII');
});

t.test('web - normalisation removes one leading www. and only while a dot remains', async (t) => {
  t.equal(domainOf('www.bad.example'), 'bad.example');
  t.equal(domainOf('www.www.bad.example'), 'www.bad.example');
  t.equal(domainOf('www.example'), 'www.example', 'a www. before a TLD stays');
  t.equal(domainOf('www1.bad.example'), 'www1.bad.example');
  t.equal(keyOf('http://WWW.bad.example/x'), 'bad.example/x');
});

t.test('web - normalisation removes the trailing dot of a fully qualified host', async (t) => {
  t.equal(domainOf('bad.example.'), 'bad.example');
  t.equal(keyOf('http://bad.example./x'), 'bad.example/x');
  t.equal(domainOf('www.bad.example.'), 'bad.example');
});

t.test('web - normalisation drops default ports 80 and 443 and keeps others', async (t) => {
  t.equal(keyOf('http://bad.example:80/x'), 'bad.example/x');
  t.equal(keyOf('https://bad.example:443/x'), 'bad.example/x');
  t.equal(keyOf('http://bad.example:443/x'), 'bad.example/x', 'the key has no scheme, so 443 is dropped on http too');
  t.equal(keyOf('http://bad.example:8080/x'), 'bad.example:8080/x');
  t.equal(domainOf('bad.example:8080'), undefined, 'a domain has no port');
});

t.test('web - normalisation drops userinfo and the fragment', async (t) => {
  t.equal(keyOf('http://user:secret@bad.example/x#section'), 'bad.example/x');
  t.equal(keyOf('http://bad.example/x?q=1#frag'), 'bad.example/x?q=1');
  t.equal(keyOf('http://bad.example/x?'), 'bad.example/x', 'an empty query goes too');
});

t.test('web - normalisation resolves dot segments, also percent-encoded ones', async (t) => {
  t.equal(keyOf('http://bad.example/a/./b/../c'), 'bad.example/a/c');
  t.equal(keyOf('http://bad.example/a/%2e%2E/b'), 'bad.example/b');
  t.equal(keyOf('http://bad.example/../../x'), 'bad.example/x');
  t.equal(keyOf('http://bad.example\\a\\b'), 'bad.example/a/b');
});

t.test('web - normalisation merges repeated slashes in the path (bad.example//gallery/x escaped bad.example/gallery/)', async (t) => {
  t.equal(keyOf('https://bad.example//gallery/x'), 'bad.example/gallery/x');
  t.equal(keyOf('http://bad.example/a///b//'), 'bad.example/a/b/');
  t.equal(keyOf('http://bad.example/a/\\/\\b'), 'bad.example/a/b', '\\ is read as / in a run too');
  t.equal(keyOf('http://bad.example/a/\t/b'), 'bad.example/a/b', 'the URL parser drops a tab, leaving //');
  t.equal(keyOf('bad.example//x'), 'bad.example/x', 'without a scheme');
  t.equal(keyOf('//bad.example//x'), 'bad.example/x');
  t.equal(keyOf('HTTP://user@bad.example:8080//x'), 'bad.example:8080/x');
  t.equal(keyOf('https:////bad.example/x'), 'bad.example/x', 'the slashes after the scheme are no path');
  t.equal(keyOf('http://bad.example/a//../b'), 'bad.example/a/b', 'merged after dot segments, as a browser sends the path');
  t.equal(keyOf('http://bad.example/a/.//./b'), 'bad.example/a/b');
  t.equal(keyOf('http://bad.example/a/%2F/b'), 'bad.example/a/%2F/b', '%2F is not a / and is not merged');
  t.equal(keyOf('http://bad.example/a%2f%2Fb'), 'bad.example/a%2F%2Fb');
  t.equal(keyOf('http://bad.example/a?next=//x//y'), 'bad.example/a?next=//x//y', 'a query is not a path');
  t.equal(keyOf('http://bad.example//a?next=//x#//f'), 'bad.example/a?next=//x');
  t.equal(keyOf('http://bad.example?q=//x'), 'bad.example/?q=//x');
});

t.test('web - normalisation decodes unreserved escapes and uppercases the others', async (t) => {
  t.equal(keyOf('http://bad.example/%7Euser'), 'bad.example/~user');
  t.equal(keyOf('http://bad.example/%7euser'), keyOf('http://bad.example/~user'));
  t.equal(keyOf('http://bad.example/%41%2d%5F?%61=%7e'), 'bad.example/A-_?a=~');
  t.equal(keyOf('http://bad.example/a%2fb'), 'bad.example/a%2Fb', 'a reserved escape stays escaped');
  t.equal(keyOf('http://bad.example/100%'), 'bad.example/100%25', 'a lone % is escaped');
  t.equal(keyOf('http://bad.example/%zz'), 'bad.example/%25zz');
  t.equal(keyOf('http://bad.example/é'), 'bad.example/%C3%A9');
});

t.test('web - normalisation handles IPv4 and IPv6 hosts', async (t) => {
  t.equal(domainOf('192.0.2.1'), '192.0.2.1');
  t.equal(domainOf('0xc0.0.2.1'), '192.0.2.1');
  t.equal(keyOf('http://3221225985/x'), '192.0.2.1/x');
  t.equal(domainOf('2001:DB8:0:0::1'), '[2001:db8::1]');
  t.equal(domainOf('[2001:db8::1]'), '[2001:db8::1]');
  t.equal(keyOf('http://[2001:DB8::1]:443/x'), '[2001:db8::1]/x');
  t.equal(keyOf('http://[2001:db8::1]:8443/x'), '[2001:db8::1]:8443/x');
});

t.test('web - normalisation reads a URL without a scheme as http and refuses other schemes', async (t) => {
  t.equal(keyOf('bad.example/x'), 'bad.example/x');
  t.equal(keyOf('//bad.example/x'), 'bad.example/x');
  t.equal(keyOf('bad.example:8080/x'), 'bad.example:8080/x');
  t.equal(keyOf('ftp://bad.example/f'), 'bad.example/f');
  for (const url of ['mailto:a@bad.example', 'javascript:alert(1)', 'file:///etc/passwd', 'data:text/html,x']) {
    t.equal(normalizeUrl(url).ok, false, url);
  }
});

t.test('web - garbage domains and URLs give a reason and never throw', async (t) => {
  const garbage = ['', ' ', 'http://', 'http://[::1', 'http://a b.example/', 'bad example', 'a/b', 'a@b.example',
    'xn--zz.example', 'a.b.0x10', '.', '%', 'http://bad.example:99999/', '\u0000', 'a\tb.example'];
  for (const raw of garbage) {
    const url = normalizeUrl(raw);
    const domain = normalizeDomain(raw);
    if (!url.ok) t.type(url.reason, 'string');
    t.equal(domain.ok, false, `domain ${JSON.stringify(raw)}`);
    if (!domain.ok) t.ok(domain.reason.length > 0);
  }
  t.equal(normalizeUrl('http://a b.example/').ok, false);
  t.equal(normalizeUrl('http://bad.example:99999/').ok, false);
  const notText = 42 as unknown as string;
  t.equal(normalizeUrl(notText).ok, false);
  t.equal(normalizeDomain(notText).ok, false);
  t.equal(parseUrlPattern(notText).ok, false);
  t.same(WebIndex.build(['bad.example']).matchDomain(notText), []);
});

t.test('web - a bare pattern is a domain and a pattern with a path is a prefix, with or without scheme', async (t) => {
  t.same(parseUrlPattern('Bad.Example'), { ok: true, pattern: { kind: 'domain', domain: 'bad.example' } });
  t.same(parseUrlPattern('https://www.bad.example/'), { ok: true, pattern: { kind: 'domain', domain: 'bad.example' } });
  t.same(parseUrlPattern(' bad.example '), { ok: true, pattern: { kind: 'domain', domain: 'bad.example' } });
  const prefix = { ok: true, pattern: { kind: 'prefix', host: 'host.example', prefix: 'host.example/some/path' } };
  t.same(parseUrlPattern('host.example/some/path'), prefix);
  t.same(parseUrlPattern('http://host.example/some/path'), prefix);
  t.same(parseUrlPattern('HTTPS://WWW.host.example:443/some/./path#x'), prefix);
  t.same(parseUrlPattern('bad.example:8080'), { ok: true, pattern: { kind: 'prefix', host: 'bad.example', prefix: 'bad.example:8080/' } });
  t.same(parseUrlPattern('[2001:db8::1]'), { ok: true, pattern: { kind: 'domain', domain: '[2001:db8::1]' } });
});

t.test('web - invalid patterns are refused with a reason', async (t) => {
  for (const raw of ['', '   ', '*.bad.example', 'bad..example', '.bad.example', 'a!b.example', 'mailto:x@bad.example',
    'http://', 'bad example', '2001:db8::1', 'xn--zz.example']) {
    const parsed = parseUrlPattern(raw);
    t.equal(parsed.ok, false, JSON.stringify(raw));
    if (!parsed.ok) t.ok(parsed.reason.length > 0);
  }
  t.match(parseUrlPattern('*.bad.example'), { ok: false, reason: /wildcards/ });
});

t.test('web - building from an invalid pattern throws a LIST_INVALID error naming its position', async (t) => {
  t.throws(() => WebIndex.build(['bad.example', 'host.example/x', '*.bad.example']), {
    name: 'ListEntryError', code: 'LIST_INVALID', index: 2, message: /^entry 2: wildcards/,
  });
  t.throws(() => AppIndex.build(['com.example.a', '']), { code: 'LIST_INVALID', index: 1 });
  t.ok(new ListEntryError(0, 'x') instanceof Error);
});

t.test('web - a listed domain matches its subdomains but not a lookalike', async (t) => {
  const index = WebIndex.build(['bad.example', 'other.test']);
  for (const hit of ['bad.example', 'www.bad.example', 'a.b.bad.example', 'BAD.Example.', 'x.WWW.bad.example']) {
    t.same(entries(index.matchDomain(hit)), [0], hit);
  }
  for (const miss of ['notbad.example', 'bad.example.test', 'bad-example', 'ad.example', 'example', 'bad.exampl', 'other.example']) {
    t.same(index.matchDomain(miss), [], miss);
  }
  t.same(index.matchDomain('bad.example'), [{ entry: 0, distance: 0, threshold: 0 }]);
});

t.test('web - nested listed domains and duplicates all match, widest first', async (t) => {
  const index = WebIndex.build(['sub.bad.example', 'bad.example', 'www.bad.example', 'example']);
  t.same(index.matchDomain('x.sub.bad.example').map((m) => m.entry), [3, 1, 2, 0]);
  t.same(entries(index.matchDomain('bad.example')), [1, 2, 3]);
  t.same(entries(index.matchDomain('fine.test')), []);
});

t.test('web - an IP address entry matches only that address', async (t) => {
  const index = WebIndex.build(['192.0.2.1', '2.1', '[2001:db8::1]']);
  t.same(entries(index.matchDomain('192.0.2.1')), [0]);
  t.same(entries(index.matchDomain('0xc0.0.2.1')), [0]);
  t.same(entries(index.matchDomain('2.0.0.1')), [1], '"2.1" is the IPv4 address 2.0.0.1');
  t.same(entries(index.matchDomain('198.51.2.1')), []);
  t.same(entries(index.matchUrl('http://[2001:db8:0::1]/x')), [2]);
});

t.test('web - a domain entry matches URLs on its host and subdomains, a prefix never matches a dns event', async (t) => {
  const index = WebIndex.build(['bad.example', 'host.example/some/path']);
  t.same(entries(index.matchUrl('https://www.bad.example/anything?x=1')), [0]);
  t.same(entries(index.matchUrl('http://cdn.bad.example:8080/')), [0]);
  t.same(entries(index.matchUrl('http://notbad.example/')), []);
  t.same(entries(index.matchDomain('host.example')), []);
  t.same(entries(index.matchUrl('not a url at all')), []);
});

t.test('web - a prefix matches at path-segment and query-parameter boundaries only', async (t) => {
  const index = WebIndex.build([
    'host.example/some/path', 'host.example/dir/', 'host.example/page?id=1', 'host.example/q?name=', 'host.example:8080',
  ]);
  const cases: [string, number[]][] = [
    ['http://host.example/some/path', [0]],
    ['https://www.host.example/some/path/', [0]],
    ['http://host.example/some/path/deeper/still', [0]],
    ['http://host.example/some/path?x=1', [0]],
    ['http://host.example/some/./other/../path#frag', [0]],
    ['http://host.example/some/pathology', []],
    ['http://host.example/some', []],
    ['http://host.example/Some/Path', []],
    ['http://sub.host.example/some/path', []],
    ['http://host.example/dir/', [1]],
    ['http://host.example/dir/anything', [1]],
    ['http://host.example/dir', []],
    ['http://host.example/page?id=1', [2]],
    ['http://host.example/page?id=1&x=2', [2]],
    ['http://host.example/page?id=12', []],
    ['http://host.example/page?x=2&id=1', []],
    ['http://host.example/q?name=anything', [3]],
    ['http://host.example:8080/any', [4]],
    ['http://host.example/any', []],
  ];
  for (const [url, expected] of cases) t.same(entries(index.matchUrl(url)), expected, url);
});

t.test('web - a prefix matches URLs that repeat slashes in the path, and an entry that repeats them matches one', async (t) => {
  const index = WebIndex.build(['bad.example/gallery/', 'host.example//a//b', 'host.example/q?next=//x', 'www.bad.example//']);
  t.same(entries(index.matchUrl('https://bad.example//gallery/x')), [0, 3], 'the evasion matches');
  t.same(entries(index.matchUrl('https://bad.example/gallery//x')), [0, 3]);
  t.same(entries(index.matchUrl('http://host.example/a/b')), [1], 'the entry written with // matches the single-slash URL');
  t.same(entries(index.matchUrl('http://host.example/a/bc')), [], 'still at a segment boundary');
  t.same(entries(index.matchUrl('http://host.example/q?next=//x')), [2]);
  t.same(entries(index.matchUrl('http://host.example/q?next=/x')), [], 'a query keeps its //');
  t.same(entries(index.matchUrl('http://host.example/a%2Fb')), [], '%2F is not a /');
  t.same(parseUrlPattern('www.bad.example//'), { ok: true, pattern: { kind: 'domain', domain: 'bad.example' } });
});

t.test('web - a prefix written with %7E matches a URL written with ~', async (t) => {
  const index = WebIndex.build(['host.example/%7euser/files']);
  t.same(entries(index.matchUrl('http://host.example/~user/files/a')), [0]);
  t.same(entries(index.matchUrl('http://host.example/%7Euser/files')), [0]);
  t.same(entries(index.matchUrl('http://host.example/%7Fuser/files')), []);
});

t.test('web - app package ids match exactly and case-sensitively', async (t) => {
  const index = AppIndex.build(['com.example.chat', 'com.example.Chat', 'org.example.vault', 'com.example.chat', 'Vid€o\\x.exe']);
  t.same(entries(index.match('com.example.chat')), [0, 3]);
  t.same(entries(index.match('com.example.Chat')), [1]);
  t.same(entries(index.match('COM.EXAMPLE.CHAT')), []);
  t.same(entries(index.match('com.example.chat.beta')), []);
  t.same(entries(index.match('com.example.cha')), []);
  t.same(entries(index.match(' com.example.chat')), []);
  t.same(entries(index.match('Vid€o\\x.exe')), [4]);
  t.same(entries(index.match('Vid\\20aco\\x.exe')), [], 'an id that spells the escape of € is a different id');
  t.equal(index.size, 5);
  t.same(parseAppPackage('com.example.chat'), { ok: true, package: 'com.example.chat' });
  for (const bad of ['', ' com.example.chat', 'com.example.chat\n', 'com.\u0000example']) t.equal(parseAppPackage(bad).ok, false);
});

t.test('web - two names with the same hash tag do not match each other', async (t) => {
  const next = seededRandom(0x7a9);
  const seen = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; pair === undefined && i < 1_000_000; i++) {
    const name = `${Math.floor(next() * 36 ** 10).toString(36)}.example`;
    const other = seen.get(tagReverse(name));
    if (other !== undefined && other !== name) pair = [other, name];
    seen.set(tagReverse(name), name);
  }
  if (pair === undefined) throw new Error('no colliding pair found');
  const [listed, unlisted] = pair;
  const index = WebIndex.build([listed]);
  t.same(entries(index.matchDomain(listed)), [0]);
  t.same(entries(index.matchDomain(unlisted)), [], `${unlisted} shares its tag with ${listed}`);
  t.same(entries(WebIndex.build([listed, unlisted]).matchDomain(unlisted)), [1]);
});

/** Two different names that `make` gives and that share a hash tag (a birthday search over 32 bits). */
function collidingPair(make: () => string): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; i < 1_000_000; i++) {
    const name = make();
    const other = seen.get(tagReverse(name));
    if (other !== undefined && other !== name) return [other, name];
    seen.set(tagReverse(name), name);
  }
  throw new Error('no colliding pair found');
}

t.test('web - names with the same hash tag and length, or the same first 23 characters, do not match each other', async (t) => {
  const next = seededRandom(0x51a7);
  const base36 = (): string => Math.floor(next() * 36 ** 10).toString(36).padStart(10, '0');
  // Short: the characters in the slot decide. Long: the first 23 are the same, so the rest, in the record, decides.
  const pairs = [collidingPair(() => `${base36()}.example`), collidingPair(() => `${'a'.repeat(25)}${base36()}.example`)];
  for (const [listed, unlisted] of pairs) {
    t.equal(listed.length, unlisted.length);
    const index = WebIndex.build([listed]);
    t.same(entries(index.matchDomain(listed)), [0], listed);
    t.same(entries(index.matchDomain(`x.${listed}`)), [0]);
    t.same(entries(index.matchDomain(unlisted)), [], `${unlisted} shares its tag with ${listed}`);
    t.same(entries(index.matchDomain(`x.${unlisted}`)), []);
    const both = WebIndex.build([listed, unlisted, listed]);
    t.same(entries(both.matchDomain(unlisted)), [1]);
    t.same(entries(both.matchDomain(listed)), [0, 2]);
  }
});

t.test('web - names either side of the 23 characters a slot holds and of 255 characters match only themselves', async (t) => {
  const name = (length: number, last = 'a'): string => `${'b'.repeat(length - 9)}${last}.example`;
  const lengths = [22, 23, 24, 25, 254, 255, 256, 300];
  const index = WebIndex.build(lengths.map((n) => name(n)));
  lengths.forEach((n, i) => {
    t.equal(name(n).length, n);
    t.same(entries(index.matchDomain(name(n))), [i], `${n} characters`);
    t.same(entries(index.matchDomain(`x.${name(n)}`)), [i]);
    t.same(entries(index.matchDomain(name(n, 'c'))), [], `${n} characters, the last letter changed`);
  });
  for (const n of [21, 26, 253, 257]) t.same(entries(index.matchDomain(name(n))), [], `${n} characters, not listed`);
  const apps = AppIndex.build(['com.example.a.very.long.package.name', 'com.example.a.very.long.package.name']);
  t.same(entries(apps.match('com.example.a.very.long.package.name')), [0, 1]);
  t.same(entries(apps.match('com.example.a.very.long.package.nam')), []);
});

t.test('web - a name of more than 32 labels is matched against every listed parent', async (t) => {
  const labels = Array.from({ length: 40 }, (_, i) => `l${i}`);
  const suffix = (k: number): string => `${labels.slice(k).join('.')}.example`;
  const index = WebIndex.build([suffix(39), suffix(20), suffix(3), suffix(0)]);
  t.same(index.matchDomain(suffix(0)).map((m) => m.entry), [0, 1, 2, 3]);
  t.same(index.matchDomain(`x.${suffix(1)}`).map((m) => m.entry), [0, 1, 2]);
  t.same(index.matchDomain(suffix(21)).map((m) => m.entry), [0]);
});

t.test('web - long entries and an entry listed hundreds of times are kept whole', async (t) => {
  const longPath = `host.example/${'seg/'.repeat(5000)}end`;
  const longLabel = `${'a'.repeat(200)}.example`;
  const patterns = [longPath, longLabel, ...Array.from({ length: 300 }, () => 'dup.example')];
  const index = WebIndex.build(patterns);
  t.same(entries(index.matchUrl(`http://${longPath}/x`)), [0]);
  t.same(entries(index.matchUrl(`http://${longPath.slice(0, -1)}`)), []);
  t.same(entries(index.matchDomain(`x.${longLabel}`)), [1]);
  t.same(entries(index.matchDomain(`a${longLabel}`)), []);
  t.same(entries(index.matchDomain('www.dup.example')), Array.from({ length: 300 }, (_, i) => i + 2));
});

t.test('web - an empty list matches nothing', async (t) => {
  const web = WebIndex.build([]);
  t.equal(web.size, 0);
  t.same(web.matchDomain('bad.example'), []);
  t.same(web.matchUrl('http://bad.example/x'), []);
  t.same(AppIndex.build([]).match('com.example.chat'), []);
});

t.test('web - fromShared wraps the same memory and gives the same results', async (t) => {
  const web = WebIndex.build(['bad.example', 'host.example/a/', 'www.other.test']);
  const shared = web.toShared();
  const again = WebIndex.fromShared(shared);
  t.equal(again.toShared().domains.buffer, shared.domains.buffer, 'same SharedArrayBuffer, not a copy');
  t.ok(shared.domains.buffer instanceof SharedArrayBuffer);
  t.equal(again.size, 3);
  t.equal(again.byteLength, web.byteLength);
  for (const q of ['x.bad.example', 'other.test', 'fine.test']) t.same(again.matchDomain(q), web.matchDomain(q), q);
  for (const q of ['http://host.example/a/b', 'http://host.example/b']) t.same(again.matchUrl(q), web.matchUrl(q), q);
  const apps = AppIndex.build(['com.example.chat']);
  t.same(AppIndex.fromShared(apps.toShared()).match('com.example.chat'), [{ entry: 0, distance: 0, threshold: 0 }]);
});

t.test('web - a worker thread wraps the shared indexes and matches as the main thread does', async (t) => {
  const web = WebIndex.build(['bad.example', 'host.example/some/path', 'sub.other.test', 'bad.example']);
  const apps = AppIndex.build(['com.example.chat', 'org.example.vault']);
  const domains = ['bad.example', 'a.bad.example', 'notbad.example', 'x.sub.other.test', 'other.test'];
  const urls = ['http://www.bad.example/', 'http://host.example/some/path/x', 'http://host.example/some/pathology'];
  const packages = ['com.example.chat', 'org.example.Vault'];
  const code = `
    const { parentPort, workerData: d } = require('node:worker_threads');
    import(d.moduleUrl).then(({ WebIndex, AppIndex }) => {
      const web = WebIndex.fromShared(d.web);
      const apps = AppIndex.fromShared(d.apps);
      parentPort.postMessage({
        shared: d.web.domains.buffer instanceof SharedArrayBuffer,
        domains: d.domains.map((q) => web.matchDomain(q)),
        urls: d.urls.map((q) => web.matchUrl(q)),
        packages: d.packages.map((q) => apps.match(q)),
      });
    });`;
  const moduleUrl = new URL('../../matchers/web/index.js', import.meta.url).href;
  const worker = new Worker(code, {
    eval: true,
    workerData: { moduleUrl, web: web.toShared(), apps: apps.toShared(), domains, urls, packages },
  });
  const [reply] = (await once(worker, 'message')) as [{ shared: boolean; domains: IndexMatch[][]; urls: IndexMatch[][]; packages: IndexMatch[][] }];
  await worker.terminate();
  t.equal(reply.shared, true);
  t.same(reply.domains, domains.map((q) => web.matchDomain(q)));
  t.same(reply.urls, urls.map((q) => web.matchUrl(q)));
  t.same(reply.packages, packages.map((q) => apps.match(q)));
  t.same(entries(reply.domains[1] ?? []), [0, 3], 'and the results are not all empty');
});

t.test('web - a disposed index refuses to be used', async (t) => {
  const web = WebIndex.build(['bad.example']);
  web.dispose();
  t.throws(() => web.matchDomain('bad.example'), /after dispose/);
  const apps = AppIndex.build(['com.example.chat']);
  apps.dispose();
  t.throws(() => apps.match('com.example.chat'), /after dispose/);
});

t.test('web - the fast path for plain domains agrees with the URL host parser', async (t) => {
  const next = seededRandom(0x5eed);
  const alphabet = 'ab0-_.x9n';
  let plain = 0;
  for (let n = 0; n < 20000; n++) {
    let s = '';
    const length = 1 + Math.floor(next() * 12);
    for (let i = 0; i < length; i++) s += next() < 0.05 ? 'xn--' : alphabet[Math.floor(next() * alphabet.length)];
    if (!isPlainDomain(s)) continue;
    plain++;
    if (domainToASCII(s) !== s) t.fail(`plain ${JSON.stringify(s)} parses as ${JSON.stringify(domainToASCII(s))}`);
  }
  t.ok(plain > 2000, `${plain} plain names among the samples`);
  t.equal(isPlainDomain('bad.example'), true);
  for (const s of ['Bad.example', 'a..b', '.a', 'a.', 'a.b.1', 'xn--a.example', 'a b', '']) t.equal(isPlainDomain(s), false, s);
});

t.test('web - lowercasing and a trailing dot take the fast path only where the URL host parser agrees', async (t) => {
  const next = seededRandom(0xcafe);
  const pieces = ['a', 'B', '0', '9', '-', '_', '.', 'x', 'N', 'xn--', 'XN--', 'www.', 'WWW.', 'é'];
  for (let n = 0; n < 20000; n++) {
    let s = '';
    const length = 1 + Math.floor(next() * 8);
    for (let i = 0; i < length; i++) s += pieces[Math.floor(next() * pieces.length)];
    if (next() < 0.3) s += '.';
    const parsed = canonicalHost(domainToASCII(s));
    const expected = parsed === '' ? undefined : parsed;
    if (domainOf(s) !== expected) t.fail(`${JSON.stringify(s)}: ${JSON.stringify(domainOf(s))}, the parser gives ${JSON.stringify(expected)}`);
  }
  t.equal(domainOf('WWW.Bad.Example.'), 'bad.example');
  t.equal(domainOf('A.1.'), undefined, 'a last label of digits is IPv4, and 1 is not a valid address');
});

/** The reference: normalise by hand, then a Set-like map and a loop over label suffixes. */
function referenceDomainIndex(patterns: readonly string[]): (query: string) => number[] {
  const canonical = (s: string): string => {
    let d = s.toLowerCase();
    if (d.endsWith('.')) d = d.slice(0, -1);
    return d.startsWith('www.') && d.slice(4).includes('.') ? d.slice(4) : d;
  };
  const byName = new Map<string, number[]>();
  patterns.forEach((p, i) => byName.set(canonical(p), [...(byName.get(canonical(p)) ?? []), i]));
  return (query) => {
    const labels = canonical(query).split('.');
    const found: number[] = [];
    for (let k = 0; k < labels.length; k++) found.push(...(byName.get(labels.slice(k).join('.')) ?? []));
    return found.sort((a, b) => a - b);
  };
}

/**
 * Makes `count` queries and checks that the index (`got`) gives each the entries the reference (`expected`)
 * does, in the same order; reports the first five that differ in full. Returns how many queries hit.
 */
function agreeOnQueries(t: Test, count: number, query: () => string, expected: (q: string) => number[],
  got: (q: string) => number[]): number {
  let hits = 0;
  let mismatches = 0;
  for (let n = 0; n < count; n++) {
    const q = query();
    const want = expected(q);
    if (want.length > 0) hits++;
    const have = got(q);
    if (JSON.stringify(have) !== JSON.stringify(want) && mismatches++ < 5) t.same(have, want, q);
  }
  t.equal(mismatches, 0);
  return hits;
}

t.test('web - randomised domains match as a naive suffix loop does (seed 0xd0a1)', async (t) => {
  const next = seededRandom(0xd0a1);
  const labels = ['a', 'b', 'ab', 'ba', 'www', 'a-b', 'bb'];
  const name = (minLabels: number, maxLabels: number): string => {
    const parts: string[] = [];
    const count = minLabels + Math.floor(next() * (maxLabels - minLabels + 1));
    for (let i = 0; i < count; i++) parts.push(labels[Math.floor(next() * labels.length)] ?? 'a');
    parts.push(next() < 0.5 ? 'example' : 'test');
    return parts.join('.');
  };
  const spell = (s: string): string => {
    const r = next();
    if (r < 0.1) return s.toUpperCase();
    if (r < 0.2) return `${s}.`;
    if (r < 0.3) return `www.${s}`;
    return s;
  };
  const patterns = Array.from({ length: 400 }, () => spell(name(2, 3)));
  const index = WebIndex.build(patterns);
  const reference = referenceDomainIndex(patterns);
  const hits = agreeOnQueries(t, 20000, () => spell(name(1, 5)), reference, (q) => entries(index.matchDomain(q)));
  t.ok(hits > 2000 && hits < 18000, `${hits} of 20000 queries hit: both outcomes are exercised`);
});

t.test('web - the one-pass match of plain names agrees with normalising first (seed 0x0e1f)', async (t) => {
  const next = seededRandom(0x0e1f);
  const pieces = ['a', 'b', '1', '-', '_', 'xn--a', 'www', 'A', '.', '..', 'é', '0x1', '2'];
  const spell = (minPieces: number): string => {
    let s = '';
    const count = minPieces + Math.floor(next() * 6);
    for (let i = 0; i < count; i++) s += pieces[Math.floor(next() * pieces.length)];
    return next() < 0.5 ? `${s}.example` : s;
  };
  const patterns: string[] = [];
  while (patterns.length < 300) {
    const p = spell(1);
    if (parseUrlPattern(p).ok) patterns.push(p);
  }
  const index = WebIndex.build(patterns);
  const byName = new Map<string, number[]>();
  patterns.forEach((p, i) => {
    const d = domainOf(p) ?? '';
    byName.set(d, [...(byName.get(d) ?? []), i]);
  });
  const hits = agreeOnQueries(t, 20000,
    () => (next() < 0.5 ? spell(0) : `${spell(0)}.${patterns[Math.floor(next() * patterns.length)] ?? ''}`),
    (query) => {
      const d = domainOf(query);
      const labels = d === undefined ? [] : d.split('.');
      const expected: number[] = [];
      for (let k = 0; k < labels.length; k++) expected.push(...(byName.get(labels.slice(k).join('.')) ?? []));
      return expected.sort((a, b) => a - b);
    },
    (q) => entries(index.matchDomain(q)));
  t.ok(hits > 1000 && hits < 19000, `${hits} of 20000 queries hit: both outcomes are exercised`);
});

t.test('web - matching a batch of domains gives what matching them one by one gives, in the same order (seed 0xba7c)', async (t) => {
  const next = seededRandom(0xba7c);
  const pieces = ['a', 'b', '1', '-', 'xn--a', 'www', 'A', '.', '..', 'é', '2', 'example'];
  const spell = (): string => {
    let s = '';
    const count = Math.floor(next() * 6);
    for (let i = 0; i < count; i++) s += pieces[Math.floor(next() * pieces.length)];
    return s;
  };
  const patterns: string[] = ['example', 'a.example', 'www.b.example', 'b.example', 'b.example', '192.0.2.1'];
  while (patterns.length < 300) {
    const p = `${spell()}.example`;
    if (parseUrlPattern(p).ok) patterns.push(p);
  }
  const index = WebIndex.build(patterns);
  const long = `${'a.'.repeat(300)}b.example`; // 302 labels: past the 32 filter bits and the scratch's first size
  const queries: unknown[] = [long, 42, undefined, '', 'B.Example.', '192.0.2.1', 'x.y.www.b.example', `${'c'.repeat(400)}.example`];
  for (let n = 0; n < 5000; n++) {
    const r = next();
    queries.push(r < 0.4 ? `${spell()}.${patterns[Math.floor(next() * patterns.length)] ?? ''}` : r < 0.8 ? `${spell()}.example` : spell());
  }
  const expected: string[] = [];
  queries.forEach((q, k) => { for (const m of index.matchDomain(q as string)) expected.push(`${k}:${m.entry}`); });
  // Whole, and in batches of every size from 1 to 70, so that every chunk boundary falls somewhere.
  for (const size of [queries.length, 1, 7, 31, 32, 33, 64, 70]) {
    const got: string[] = [];
    for (let first = 0; first < queries.length; first += size) {
      index.matchDomains(queries.slice(first, first + size), (k, entry) => { got.push(`${first + k}:${entry}`); });
    }
    t.equal(got.length, expected.length, `batches of ${size}: as many matches`);
    t.ok(got.every((g, i) => g === expected[i]), `batches of ${size}: the same matches in the same order`);
  }
  t.ok(expected.length > 1000, `${expected.length} matches: the batch has plenty to agree on`);
  t.ok(expected.some((e) => e.startsWith('0:')), 'the 302-label name matches');
});

/** The boundary rule restated: a prefix ends where the URL ends, or at `/`, `?` in the path, `&` in the query. */
function referencePrefixMatch(prefix: string, key: string): boolean {
  if (!key.startsWith(prefix)) return false;
  if (key.length === prefix.length) return true;
  const last = prefix[prefix.length - 1];
  const after = key[prefix.length];
  if (!prefix.includes('?')) return last === '/' || after === '/' || after === '?';
  return last === '&' || last === '=' || after === '&';
}

t.test('web - randomised URLs match as a naive prefix scan does (seed 0x0b1d)', async (t) => {
  const next = seededRandom(0x0b1d);
  const pick = (options: readonly string[]): string => options[Math.floor(next() * options.length)] ?? '';
  const url = (hosts: readonly string[], segments: readonly string[], maxSegments: number): string => {
    let path = '';
    const count = 1 + Math.floor(next() * maxSegments);
    for (let i = 0; i < count; i++) path += `/${pick(segments)}`;
    if (next() < 0.2) path += '/';
    let query = '';
    if (next() < 0.3) {
      const params = 1 + Math.floor(next() * 2);
      for (let i = 0; i < params; i++) query += `${i === 0 ? '?' : '&'}${pick(['k', 'kk', 'j'])}=${pick(['', '1', '12'])}`;
    }
    return `${pick(['http://', 'https://', ''])}${pick(hosts)}${path}${query}`;
  };
  const listedHosts = ['h.example', 'www.h.example', 'g.test', 'h.example:8080'];
  const patterns = Array.from({ length: 300 }, () => url(listedHosts, ['a', 'b', 'ab', '%61', 'a.'], 3));
  patterns.push('g.test', '1.g.test');
  const index = WebIndex.build(patterns);
  const parsed = patterns.map((p) => {
    const r = parseUrlPattern(p);
    if (!r.ok) throw new Error(r.reason);
    return r.pattern;
  });
  const hits = agreeOnQueries(t, 10000,
    () => url([...listedHosts, 'x.g.test', 'sub.h.example', 'f.test'], ['a', 'b', 'ab', '%61', 'a.', '..', '.'], 5),
    (query) => {
      const normal = normalizeUrl(query);
      if (!normal.ok) throw new Error(normal.reason);
      const expected: number[] = [];
      parsed.forEach((p, i) => {
        const hit = p.kind === 'domain'
          ? normal.host === p.domain || normal.host.endsWith(`.${p.domain}`)
          : referencePrefixMatch(p.prefix, normal.key);
        if (hit) expected.push(i);
      });
      return expected;
    },
    (q) => entries(index.matchUrl(q)));
  t.ok(hits > 1000 && hits < 9000, `${hits} of 10000 queries hit: both outcomes are exercised`);
});

t.test('web - a large index finds every listed domain and none of the unlisted ones', async (t) => {
  const next = seededRandom(7);
  const name = (): string => `${Math.floor(next() * 2 ** 40).toString(36)}.${next() < 0.5 ? 'example' : 'test'}`;
  const listed = Array.from({ length: 100000 }, name);
  const index = WebIndex.build(listed);
  const set = new Set(listed);
  let missing = 0;
  listed.forEach((d, i) => {
    if (!index.matchDomain(`x.${d}`).some((m) => m.entry === i)) missing++;
  });
  t.equal(missing, 0);
  let wrong = 0;
  for (let n = 0; n < 100000; n++) {
    const d = name();
    if (index.matchDomain(d).length > 0 !== set.has(d)) wrong++;
  }
  t.equal(wrong, 0);
});
