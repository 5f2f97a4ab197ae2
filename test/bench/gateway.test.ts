import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/vigil.js';

const script = fileURLToPath(new URL('../../bench/gateway.js', import.meta.url));

t.test('bench gateway - a small run acknowledges every event and prints and saves its figures', async (t) => {
  const tmp = tempDir('vigil-bench-gateway-test-');
  t.teardown(tmp.remove);
  const res = spawnSync(process.execPath, [script, '--devices', '20', '--per-turn', '50', '--turns', '4', '--runs', '2'],
    { cwd: tmp.dir, encoding: 'utf8', timeout: 60_000 });
  t.equal(res.status, 0, res.stderr);
  t.match(res.stdout, /events: \d+ from 20 devices, all acknowledged; 2 timed passes of 200/);
  t.match(res.stdout, /\| reading \(decode, checks, journal append\) \| [\d.]+ µs \|/);
  t.match(res.stdout, /allocated: about \d+ bytes an event/);
  const saved = JSON.parse(readFileSync(join(tmp.dir, 'bench/results/gateway.json'), 'utf8')) as { figures: { totalMicros: { median: number } }; passes: unknown[] };
  t.ok(saved.figures.totalMicros.median > 0, 'the figures are saved');
  t.equal(saved.passes.length, 2);
});

t.test('bench gateway - refuses a count that is not a positive whole number', async (t) => {
  const res = spawnSync(process.execPath, [script, '--devices', '0'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(res.status, 2);
  t.match(res.stderr, /--devices must be a positive integer, got "0"/);
});
