import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { runCSwarm, type CSwarmOptions } from '../../bench/c-swarm.js';
import { startServer, type ServerHandle } from '../../bench/server-process.js';
import { prepareDataDir } from '../../bench/suite-data.js';
import { httpGet, readAlerts, tempDir } from '../helpers/vigil.js';

let compiler = true;
try { execFileSync(process.env.CC ?? 'cc', ['--version'], { stdio: 'ignore' }) } catch { compiler = false }

const DEVICES = 12;
const PER_DEVICE = 20;

t.test('bench - the C generator drives real devices through the whole path', { skip: compiler ? false : 'no C compiler (cc) on this machine' }, async (t) => {
  const tmp = tempDir('vigil-c-generator-');
  t.teardown(tmp.remove);
  const creds = await prepareDataDir(tmp.dir, DEVICES, {}, undefined);
  const server: ServerHandle = await startServer('vigil', tmp.dir);
  t.teardown(() => server.stop());
  const edges: string[] = [];
  const options: CSwarmOptions = {
    host: '127.0.0.1', port: server.port, tokens: creds.tokens, perDevice: PER_DEVICE,
    shares: { text: 0.5, dns: 0.3, heartbeat: 0.2 }, hitRate: 0.3, seed: 7,
    warmupSeconds: 0.5, seconds: 1.5, settleSeconds: 10,
    sampleServer: () => server.sample(), atWindowEdge: (edge) => edges.push(edge), progress: () => {},
  };
  const f = await runCSwarm(options);

  t.same(edges, ['start', 'end'], 'the measured interval is announced as it starts and as it ends');
  t.ok(Math.abs(f.seconds - 1.5) < 0.2, `the interval lasted ${f.seconds} s`);
  const offered = DEVICES * PER_DEVICE;
  t.ok(f.ackedPerSecond > offered * 0.8 && f.ackedPerSecond < offered * 1.2, `${f.ackedPerSecond} acked/s of ${offered} offered`);
  t.same(f.rejects, {}, 'no event refused: every frame is a valid event');
  t.equal(f.unacked, 0, 'every measured event was acked');
  t.equal(f.skipped, 0);
  t.same(f.closes, {});
  t.ok(f.ack !== undefined && f.ack.p50 > 0 && f.ack.p50 <= f.ack.p99 && f.ack.p99 <= f.ack.max, 'ack latency percentiles in order');
  t.ok(f.sendLag !== undefined && f.sendLag.p50 >= 0, 'send lag measured');
  t.ok(f.server !== undefined && f.server.cpuPercent >= 0, 'the server was sampled over the interval');

  // The server stored and matched what was sent: its counters hold every event, and listed content raised alerts.
  const metrics = (await httpGet(`http://127.0.0.1:${server.port}/metrics`)).body;
  const events = [...metrics.matchAll(/^vigil_events_total\{type="(\w+)"\} (\d+)/gm)].reduce((n, m) => n + Number(m[2]), 0);
  t.ok(events >= f.ackedPerSecond * f.seconds, `${events} events counted by the server`);
  const { alerts } = await readAlerts(`http://127.0.0.1:${server.port}`, creds.consumerToken!, 0, 5000);
  t.ok(alerts.length > 0, `${alerts.length} alerts raised from the generator's listed terms and domains`);
});

t.test('bench - the C generator fails in one line when the server refuses a device', { skip: compiler ? false : 'no C compiler (cc) on this machine' }, async (t) => {
  const tmp = tempDir('vigil-c-generator-');
  t.teardown(tmp.remove);
  const creds = await prepareDataDir(tmp.dir, 1, {}, undefined);
  const server = await startServer('vigil', tmp.dir);
  t.teardown(() => server.stop());
  const lines: string[] = [];
  await t.rejects(runCSwarm({
    host: '127.0.0.1', port: server.port, tokens: [`${creds.tokens[0]!}x`], perDevice: 1, shares: { heartbeat: 1 }, hitRate: 0, seed: 1,
    warmupSeconds: 0, seconds: 1, settleSeconds: 1, sampleServer: () => undefined, atWindowEdge: () => {}, progress: (l) => lines.push(l),
  }), /C generator exited with 1/);
  t.match(lines.join('\n'), /upgrade refused: HTTP\/1\.1 401/, 'the refusal is printed with the server\'s status line');
});

t.test('bench - the C generator counts the rejects of measured events only, as the Node swarm does (it counted the warm-up\'s too)', { skip: compiler ? false : 'no C compiler (cc) on this machine' }, async (t) => {
  const tmp = tempDir('vigil-c-generator-');
  t.teardown(tmp.remove);
  // A device may send 10 events a second, with no burst: of the 40 a second each device is sent, most are refused.
  const creds = await prepareDataDir(tmp.dir, 4, { ingest: { deviceRatePerSecond: 10, deviceBurst: 1 } }, undefined);
  const server = await startServer('vigil', tmp.dir);
  t.teardown(() => server.stop());
  const f = await runCSwarm({
    host: '127.0.0.1', port: server.port, tokens: creds.tokens, perDevice: 40, shares: { heartbeat: 1 }, hitRate: 0, seed: 3,
    warmupSeconds: 2, seconds: 0.5, settleSeconds: 5, sampleServer: () => undefined, atWindowEdge: () => {}, progress: () => {},
  });
  const measured = 4 * 40 * f.seconds;
  const refused = f.rejects.RATE_LIMITED ?? 0;
  t.ok(refused > 0, `${refused} measured events refused RATE_LIMITED`);
  // Sent in the 2 s of warm-up, 4 times as many were refused as in the measured 0.5 s; only those may be counted.
  t.ok(refused <= measured * 1.2, `no more than the ${measured} events sent in the measured interval (${JSON.stringify(f.rejects)})`);
  t.equal(f.unacked, 0, 'every measured event was acked or refused');
});

t.test('bench - the C generator stops on a server frame whose 64-bit length wraps its bounds check (it looped for ever)', { skip: compiler ? false : 'no C compiler (cc) on this machine', timeout: 30_000 }, async (t) => {
  // A server that upgrades, then sends a binary frame claiming 2^64 - 10 bytes: `head + len` wrapped to 0, passed
  // the check against the read buffer, and the frame loop then went on reading it without moving.
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      socket.write(Buffer.from([0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf6, 0x80, 0x80, 0x80]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close() });
  const lines: string[] = [];
  await t.rejects(runCSwarm({
    host: '127.0.0.1', port: (server.address() as AddressInfo).port, tokens: ['vd1.dev-x.y'], perDevice: 1, shares: { heartbeat: 1 },
    hitRate: 0, seed: 1, warmupSeconds: 0, seconds: 1, settleSeconds: 1, sampleServer: () => undefined, atWindowEdge: () => {},
    progress: (l) => lines.push(l),
  }), /C generator exited with 1/);
  t.match(lines.join('\n'), /server frame of 18446744073709551606 bytes/, 'it says what it was sent');
});
