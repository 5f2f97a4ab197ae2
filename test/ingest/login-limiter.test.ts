import t from 'tap';
import { LoginLimiter, loginSource } from '../../ingest/login-limiter.js';

t.test('login limiter - an IPv6 /64 is one source; an IPv4 address written as IPv6 is that address', async (t) => {
  t.equal(loginSource('192.0.2.7'), '192.0.2.7');
  t.equal(loginSource('2001:db8:1:2::1'), '2001:db8:1:2::/64');
  t.equal(loginSource('2001:0db8:0001:0002:ffff:0000:0000:0009'), '2001:db8:1:2::/64', 'the full form uWS writes');
  t.equal(loginSource('::ffff:192.0.2.7'), '192.0.2.7');
  t.equal(loginSource('0000:0000:0000:0000:0000:ffff:c000:0207'), '192.0.2.7');
  t.equal(loginSource('::1'), '0:0:0:0::/64');
  t.equal(loginSource('not:an::address::'), 'not:an::address::', 'anything else is its own source');
  const limiter = new LoginLimiter(3);
  const tries = ['2001:db8::1', '2001:db8::2', '2001:db8::3', '2001:db8::4'].map((a) => limiter.allow(a, 0));
  t.same(tries, [true, true, true, false], 'addresses of one /64 share the bucket');
  t.ok(limiter.allow('2001:db8:0:1::1', 0), 'the next /64 has its own');
});

t.test('login limiter - many sources do not wipe the count of one that used its attempts (they cleared every bucket at 10,000)', async (t) => {
  const limiter = new LoginLimiter(3, 100);
  for (let i = 0; i < 3; i++) t.ok(limiter.allow('198.51.100.1', 0));
  t.notOk(limiter.allow('198.51.100.1', 0), 'its attempts used');
  // 500 more sources, one attempt each, none idle long enough to refill: the limit makes room among them.
  for (let i = 0; i < 500; i++) limiter.allow(`203.0.113.${i % 250}.${i}`, 1000);
  t.ok(limiter.size <= 100, `bounded (${limiter.size})`);
  t.notOk(limiter.allow('198.51.100.1', 1000), 'the source that used its attempts is still counted (the oldest, it went first before)');

  // 60 a minute: one a second. A used all 60; B and C one each, so they are full again a second later.
  const small = new LoginLimiter(60, 3);
  for (let i = 0; i < 60; i++) small.allow('198.51.100.9', 0);
  small.allow('203.0.113.8', 0);
  small.allow('203.0.113.9', 0);
  small.allow('192.0.2.200', 2_000); // a fourth source: the full buckets make room
  t.equal(small.size, 2, 'the refilled sources went');
  const tries = [0, 1, 2].map(() => small.allow('198.51.100.9', 2_000));
  t.same(tries, [true, true, false], 'the source that used its attempts is still counted: 2 refilled in 2 s, not a fresh 60');
  // When no bucket has refilled, those with most attempts left go, not the one that used them up.
  for (let i = 0; i < 5; i++) small.allow(`192.0.2.${i}`, 2_000);
  t.equal(small.size, 3, 'still bounded');
  t.notOk(small.allow('198.51.100.9', 2_000), 'and the exhausted source is still among them');
});
