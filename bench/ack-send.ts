/**
 * Question: what does one acknowledgement cost on this machine — one small frame written to one device's socket
 * over loopback — on the server's thread, and on the reading side? And so: what share of a core do acks take
 * with a given number of devices, each acked every so many milliseconds?
 *
 * A uWebSockets.js server (the native build) runs in this process; `--devices` raw WebSocket clients
 * (bench/raw-ws-client.ts, as the load generator uses) run in a child process, which counts the frames it reads.
 * Each round writes one ack frame (Vigil's `encodeAck`) to every socket, corked as the gateway sends acks outside a
 * uWS callback, and is timed; then it waits until the child has read them all, so rounds never overlap. Rounds
 * alternate with rounds that make only the calls the gateway makes before writing (`getBufferedAmount`), which
 * gives what the calls cost without the write. Prints the median, p10 and p90 over `--rounds` per send, the
 * child's CPU time per frame read (a mean over the timed rounds, its one message a round to this process included),
 * and what acks cost a core at 1,000 devices for a few ack spacings (a device is
 * acked once per group commit that holds any of its events, so the spacing is the commit interval at most).
 * Writes bench/results/ack-send.json.
 *
 *   node dist/bench/ack-send.js [--devices 1000] [--rounds 30]
 */
import { fork } from 'node:child_process';
import type { Socket } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { WebSocket } from 'uWebSockets.js';
import { encodeAck } from '../ingest/frame-codec.js';
import { loadNativeUws } from '../ingest/native-uws.js';
import { benchCommand } from './bench-command.js';
import { openRawWs } from './raw-ws-client.js';
import { benchMachine, machineLine } from './suite-machine.js';
import { summarise } from './stats.js';

/** From the parent: how many frames to have read before answering. From the child: that it is ready, or how far it got. */
type ToChild = { expect: number } | { done: true };
type ToParent = { ready: true } | { read: number; cpuMicros: number };

const { values } = benchCommand({
  run: 'node dist/bench/ack-send.js',
  summary: 'What one acknowledgement costs: one ack frame to every socket per round, timed on the server\'s thread, and the\n'
    + 'reading side\'s CPU per frame. Writes bench/results/ack-send.json.',
  options: {
    devices: { kind: 'int', default: 1000, min: 1, help: 'sockets, each sent one ack a round' },
    rounds: { kind: 'int', default: 30, min: 1, help: 'timed rounds (each alternating with a round without the write)' },
    'clients-of': { kind: 'int', min: 1, max: 65535, arg: 'PORT', help: '(internal) run as the client process of the server on PORT' },
  },
});

if (values['clients-of'] !== undefined) await clients(values['clients-of'], values.devices);
else await server();

/** The child: `devices` sockets to the server on `port`; answers once it has read as many frames as asked. */
async function clients(port: number, devices: number): Promise<void> {
  let read = 0;
  let expect = Infinity;
  const cpuAtStart = process.cpuUsage();
  const tell = (m: ToParent): void => { process.send!(m) };
  const answer = (): void => {
    if (read < expect) return;
    expect = Infinity;
    const cpu = process.cpuUsage(cpuAtStart);
    tell({ read, cpuMicros: cpu.user + cpu.system });
  };
  const sockets: Socket[] = [];
  for (let i = 0; i < devices; i++) {
    sockets.push(await openRawWs('127.0.0.1', port, '/ack', 'bench', { message() { read++; answer() }, close() {} }));
  }
  process.on('message', (m: ToChild) => {
    if ('done' in m) { for (const s of sockets) s.destroy(); process.disconnect(); return }
    expect = m.expect;
    answer();
  });
  tell({ ready: true });
}

async function server(): Promise<void> {
  const { devices, rounds } = values;
  const machine = benchMachine();
  const command = `node dist/bench/ack-send.js --devices ${devices} --rounds ${rounds}`;
  console.log(machineLine(machine));
  console.log(command);

  const uws = loadNativeUws();
  const sockets: WebSocket<object>[] = [];
  const app = uws.App().ws<object>('/ack', {
    upgrade: (res, req, ctx) => res.upgrade({}, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'), ctx),
    open: (ws) => { sockets.push(ws) },
    close: (ws) => { const at = sockets.indexOf(ws); if (at >= 0) sockets.splice(at, 1) },
  });
  const listen = await new Promise<unknown>((resolve) => app.listen('127.0.0.1', 0, resolve));
  if (!listen) throw new Error('could not listen on 127.0.0.1');
  const port = uws.us_socket_local_port(listen as Parameters<typeof uws.us_socket_local_port>[0]);

  const child = fork(fileURLToPath(import.meta.url), ['--clients-of', String(port), '--devices', String(devices)]);
  let waiting: { resolve(m: ToParent): void; reject(err: Error): void } | undefined;
  child.on('message', (m) => { const w = waiting; waiting = undefined; w?.resolve(m as ToParent) });
  child.on('exit', (code) => { const w = waiting; waiting = undefined; w?.reject(new Error(`the client process exited (${code})`)) });
  const next = (): Promise<ToParent> => new Promise((resolve, reject) => { waiting = { resolve, reject } });
  try {
    await next(); // ready
    while (sockets.length < devices) await sleep(10);
    const frame = encodeAck(123_456);
    const write: number[] = [];
    const calls: number[] = [];
    let sent = 0;
    let cpuBefore = 0;
    let cpuAfter = 0;
    for (let r = 0; r < rounds + 1; r++) {
      let t = process.hrtime.bigint();
      for (const ws of sockets) ws.getBufferedAmount();
      const callsNs = Number(process.hrtime.bigint() - t);
      t = process.hrtime.bigint();
      for (const ws of sockets) {
        if (ws.getBufferedAmount() > 1 << 20) continue;
        ws.cork(() => ws.send(frame, true));
      }
      const writeNs = Number(process.hrtime.bigint() - t);
      sent += sockets.length;
      child.send({ expect: sent } satisfies ToChild);
      const got = await next();
      if (!('read' in got)) throw new Error('the client process answered out of turn');
      if (r === 0) { cpuBefore = got.cpuMicros; continue } // the first round warms up
      cpuAfter = got.cpuMicros;
      write.push(writeNs / sockets.length / 1000);
      calls.push(callsNs / sockets.length / 1000);
    }
    child.send({ done: true } satisfies ToChild);
    const figures = {
      writeMicros: summarise(write),
      callsMicros: summarise(calls),
      clientCpuMicrosPerRead: (cpuAfter - cpuBefore) / (devices * rounds),
    };
    const round = (x: number): string => x.toFixed(2);
    console.log(`acks: ${sent} written to ${devices} sockets and all read by the client process; ${rounds} timed rounds`);
    console.log('| per ack | median | p10 | p90 |\n|---|---|---|---|');
    console.log(`| server: write (cork, send) | ${round(figures.writeMicros.median)} µs | ${round(figures.writeMicros.p10)} µs | ${round(figures.writeMicros.p90)} µs |`);
    console.log(`| server: the calls before it only | ${round(figures.callsMicros.median)} µs | ${round(figures.callsMicros.p10)} µs | ${round(figures.callsMicros.p90)} µs |`);
    console.log(`| client: CPU per frame read (all its threads, mean) | ${round(figures.clientCpuMicrosPerRead)} µs | | |`);
    const spacings = [10, 20, 25, 50];
    const share = (ms: number): number => (1000 * figures.writeMicros.median) / (ms * 1000);
    console.log(`at 1,000 devices, acks take of the server's core: ${spacings.map((ms) => `acked every ${ms} ms ${(share(ms) * 100).toFixed(0)}%`).join(', ')}`);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/ack-send.json', JSON.stringify({
      machine, command, options: { devices, rounds }, figures,
      shareOfCoreAt1000Devices: Object.fromEntries(spacings.map((ms) => [`${ms}ms`, share(ms)])), write, calls,
    }, null, 2));
  } finally {
    if (child.connected) child.disconnect();
    child.kill();
    uws.us_listen_socket_close(listen as Parameters<typeof uws.us_listen_socket_close>[0]);
    for (const ws of [...sockets]) ws.close();
  }
}
