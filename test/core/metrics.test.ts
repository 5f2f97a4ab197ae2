import t from 'tap';
import { Counter } from '../../core/metrics.js';

t.test('metrics - a counter renders each label set once, escaped, whatever the route to its key', async (t) => {
  const c = new Counter('vigil_test_total', 'Test counter');
  t.match(c.render(), /^vigil_test_total 0$/m, 'a counter with no values renders 0');
  c.inc({ type: 'text' });
  c.inc({ type: 'text' }, 2);
  c.inc({ type: 'say "hi"\\\n' });
  c.inc({ code: 'A', endpoint: 'device' });
  c.inc({ endpoint: 'device', code: 'A' });
  c.inc();
  t.equal(c.get({ type: 'text' }), 3);
  t.equal(c.get({ endpoint: 'device', code: 'A' }), 2, 'label order does not matter');
  const lines = c.render().split('\n');
  t.ok(lines.includes('vigil_test_total{type="text"} 3'));
  t.ok(lines.includes('vigil_test_total{type="say \\"hi\\"\\\\\\n"} 1'), 'quotes, backslashes and newlines escaped');
  t.ok(lines.includes('vigil_test_total{code="A",endpoint="device"} 2'));
  t.ok(lines.includes('vigil_test_total 1'));
});

t.test('metrics - past the values a counter remembers, every value is still counted apart', async (t) => {
  const c = new Counter('vigil_many_total', 'Many values');
  for (let round = 0; round < 2; round++) for (let i = 0; i < 1500; i++) c.inc({ v: `x${i}` });
  let wrong = 0;
  for (let i = 0; i < 1500; i++) if (c.get({ v: `x${i}` }) !== 2) wrong++;
  t.equal(wrong, 0);
  t.equal(c.render().split('\n').length, 2 + 1500);
});

t.test('metrics - a labelled handle counts into the same series as inc with those labels', async (t) => {
  const c = new Counter('vigil_handle_total', 'Handle counter');
  const text = c.labelled({ type: 'text' });
  const both = c.labelled({ endpoint: 'device', code: 'A' });
  text.inc();
  c.inc({ type: 'text' });
  text.inc(3);
  both.inc();
  c.inc({ code: 'A', endpoint: 'device' });
  t.equal(c.get({ type: 'text' }), 5, 'one series, whichever way it was counted');
  t.equal(c.get({ endpoint: 'device', code: 'A' }), 2);
  const lines = c.render().split('\n');
  t.equal(lines.filter((l) => l.startsWith('vigil_handle_total{type="text"}')).length, 1, 'rendered once');
  t.ok(lines.includes('vigil_handle_total{code="A",endpoint="device"} 2'));
  t.notOk(lines.includes('vigil_handle_total 0'), 'no empty series once something is counted');
});
