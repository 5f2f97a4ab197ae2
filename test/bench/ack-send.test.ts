import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/vigil.js';

const script = fileURLToPath(new URL('../../bench/ack-send.js', import.meta.url));

t.test('bench ack-send - a small run has every ack read by the client process and prints and saves its figures', async (t) => {
  const tmp = tempDir('vigil-bench-ack-send-test-');
  t.teardown(tmp.remove);
  const res = spawnSync(process.execPath, [script, '--devices', '20', '--rounds', '3'], { cwd: tmp.dir, encoding: 'utf8', timeout: 60_000 });
  t.equal(res.status, 0, res.stderr);
  t.match(res.stdout, /acks: 80 written to 20 sockets and all read by the client process; 3 timed rounds/);
  t.match(res.stdout, /\| server: write \(cork, send\) \| [\d.]+ µs \| [\d.]+ µs \| [\d.]+ µs \|/);
  t.match(res.stdout, /at 1,000 devices, acks take of the server's core: acked every 10 ms \d+%/);
  const saved = JSON.parse(readFileSync(join(tmp.dir, 'bench/results/ack-send.json'), 'utf8')) as
    { figures: { writeMicros: { median: number }; callsMicros: { median: number } }; write: number[] };
  t.equal(saved.write.length, 3, 'one figure a timed round');
  t.ok(saved.figures.writeMicros.median > saved.figures.callsMicros.median, 'a write costs more than the calls alone');
});

t.test('bench ack-send - refuses a count that is not a positive whole number', async (t) => {
  const res = spawnSync(process.execPath, [script, '--rounds', '1.5'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(res.status, 2);
  t.match(res.stderr, /--rounds must be a positive integer, got "1.5"/);
});
