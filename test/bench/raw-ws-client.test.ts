import t from 'tap';
import { createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { openRawWs } from '../../bench/raw-ws-client.js';

/** A server frame (unmasked) holding `payload`. */
function serverFrame(payload: Buffer, opcode = 0x2): Buffer {
  const head = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length])
    : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}

t.test('raw ws client - frames cut anywhere across reads arrive whole, in order, however the reads fall', async (t) => {
  const payloads = [Buffer.from('a'), Buffer.alloc(300, 7), Buffer.from('hello there'), Buffer.alloc(70_000 % 65_536, 9), Buffer.from('z')];
  const stream = Buffer.concat(payloads.map((p) => serverFrame(p)));
  // Offsets: 'a' [0, 3), 300 bytes [3, 307), 'hello there' [307, 320), 4,464 bytes [320, 4788), 'z' [4788, 4791).
  // Each write but the last ends inside a frame: in a header after a whole frame (5: what is left starts at the
  // read's third byte, and the next read, longer, is made into the same memory), in a payload (200), in an
  // extended length (322) and in a payload again (1000).
  const cuts = [5, 200, 309, 322, 1000, stream.length];
  let server: Socket | undefined;
  const srv = createServer((s) => {
    server = s;
    s.setNoDelay(true);
    s.once('data', async () => {
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
      let at = 0;
      for (const cut of cuts) {
        await sleep(20);
        s.write(stream.subarray(at, cut));
        at = cut;
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => { server?.destroy(); srv.close() });
  const port = (srv.address() as { port: number }).port;
  const got: Buffer[] = [];
  const sock = await openRawWs('127.0.0.1', port, '/x', 'token', { message: (p) => { got.push(Buffer.from(p)) }, close() {} });
  t.teardown(() => sock.destroy());
  for (let i = 0; i < 100 && got.length < payloads.length; i++) await sleep(20);
  t.equal(got.length, payloads.length, 'every frame');
  t.ok(got.every((p, i) => p.equals(payloads[i]!)), 'each payload intact, though the buffer they were read into is reused');
});
