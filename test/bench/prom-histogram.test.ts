import t from 'tap';
import { Metrics } from '../../core/index.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { atMost, histogramDelta, loopBusyShare, readHistogram, readSample } from '../../bench/prom-histogram.js';

const NAME = 'vigil_ack_latency_seconds';

t.test('prom histogram - what the ack latency histogram counted between two scrapes of /metrics', async (t) => {
  const metrics = new Metrics();
  for (let i = 0; i < 500; i++) metrics.ackLatency.observe(0.2); // before the window: must not count
  const before = readHistogram(metrics.render(), NAME);
  t.equal(before.get(Infinity), 500, 'the +Inf bucket holds every observation');
  // In the window: 60 at 3 ms, 30 at 20 ms, 9 at 40 ms, 1 at 3 s.
  for (let i = 0; i < 60; i++) metrics.ackLatency.observe(0.003);
  for (let i = 0; i < 30; i++) metrics.ackLatency.observe(0.02);
  for (let i = 0; i < 9; i++) metrics.ackLatency.observe(0.04);
  metrics.ackLatency.observe(3);
  const d = histogramDelta(before, readHistogram(metrics.render(), NAME))!;
  t.equal(d.count, 100);
  t.equal(d.p50AtMostMs, 5, 'p50 in the 5 ms bucket');
  t.equal(d.p99AtMostMs, 50, 'p99 in the 50 ms bucket (the 99th of 100 is the last at 40 ms)');
  const within = (ms: number) => d.within.find((w) => w.ms === ms)?.share;
  t.equal(within(5), 0.6);
  t.equal(within(25), 0.9);
  t.equal(within(50), 0.99);
  t.equal(within(2500), 0.99);
  t.equal(within(5000), 1);
  t.equal(atMost(d.p99AtMostMs), '≤ 50 ms');
});

t.test('prom histogram - no observations in the window, a tail past the last bound, and a missing metric', async (t) => {
  const metrics = new Metrics();
  metrics.ackLatency.observe(0.001);
  const text = metrics.render();
  t.equal(histogramDelta(readHistogram(text, NAME), readHistogram(text, NAME)), undefined, 'nothing counted: no figures');
  const before = readHistogram(metrics.render(), NAME);
  for (let i = 0; i < 10; i++) metrics.ackLatency.observe(20); // past the 10 s bound
  const d = histogramDelta(before, readHistogram(metrics.render(), NAME))!;
  t.equal(d.p99AtMostMs, Infinity);
  t.equal(atMost(d.p99AtMostMs), '> 10000 ms');
  t.equal(d.lastBoundMs, 10_000, 'the delta knows its last bound');
  const age = new Metrics();
  const ageBefore = readHistogram(age.render(), 'vigil_event_age_seconds');
  age.eventAge.observe(2 * 86_400); // two days
  const a = histogramDelta(ageBefore, readHistogram(age.render(), 'vigil_event_age_seconds'))!;
  t.equal(atMost(a.p99AtMostMs, a.lastBoundMs), '> 86400000 ms', 'past the last bound of a histogram whose buckets reach a day');
  t.equal(readHistogram(text, 'vigil_no_such_metric').size, 0);
});

t.test('prom histogram - the event loop counter reads how busy the loop was between two scrapes', async (t) => {
  const metrics = new Metrics();
  await sleep(10); // the loop has turned at least once, so it has idle time to report
  const first = metrics.render();
  const active0 = readSample(first, 'vigil_event_loop_seconds_total', 'state="active"');
  const idle0 = readSample(first, 'vigil_event_loop_seconds_total', 'state="idle"');
  t.type(active0, 'number', 'active time is exported');
  t.type(idle0, 'number', 'idle time is exported');
  t.match(first, /# TYPE vigil_event_loop_seconds_total counter/);
  const spinUntil = performance.now() + 60;
  while (performance.now() < spinUntil); // 60 ms of callback, no waiting
  const busy = metrics.render();
  t.ok(readSample(busy, 'vigil_event_loop_seconds_total', 'state="active"')! - active0! >= 0.055, 'a 60 ms callback counts as active');
  t.ok(loopBusyShare(first, busy)! > 0.9, `a loop that only ran a callback was busy (${loopBusyShare(first, busy)})`);
  await sleep(200); // waiting for a timer: idle
  const rested = metrics.render();
  t.ok(readSample(rested, 'vigil_event_loop_seconds_total', 'state="idle"')! - idle0! >= 0.15, 'waiting counts as idle');
  t.ok(loopBusyShare(busy, rested)! < 0.5, `a loop that waited was mostly idle (${loopBusyShare(busy, rested)})`);
  t.equal(loopBusyShare(first, first), undefined, 'no time between the scrapes: no share');
  t.equal(loopBusyShare('', busy), undefined, 'a scrape without the counter: no share');
  t.equal(readSample(first, 'vigil_no_such_metric'), undefined);
  t.equal(readSample('plain_gauge 42\n', 'plain_gauge'), 42, 'a sample without labels');
});
