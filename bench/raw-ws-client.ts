/**
 * A minimal WebSocket client for load generation: it does the HTTP upgrade itself and then writes
 * pre-built, masked binary frames straight to the TCP socket, many per write. A general client
 * (`ws`) spends ~10-20 µs per message, which on this 2-core machine would make the generator, not
 * the server, the bottleneck. Only what a device needs is implemented: binary frames out,
 * unfragmented binary, text and close frames in, and pongs to the server's pings (uWS closes a
 * socket that stays silent past its idle timeout).
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * A client frame (FIN, `opcode`, masked with a zero key, which leaves the payload as is) with room for
 * `length` payload bytes, and where they start.
 */
export function allocClientFrame(length: number, opcode = 0x2): { frame: Buffer; payloadAt: number } {
  const headerLen = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLen + 4 + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 65536) { frame[1] = 0x80 | 126; frame.writeUInt16BE(length, 2) }
  else { frame[1] = 0x80 | 127; frame.writeBigUInt64BE(BigInt(length), 2) }
  frame.writeUInt32BE(0, headerLen); // mask key 0
  return { frame, payloadAt: headerLen + 4 };
}

/** Frames a message as a client must. */
export function clientFrame(payload: Uint8Array, opcode = 0x2): Buffer {
  const { frame, payloadAt } = allocClientFrame(payload.byteLength, opcode);
  frame.set(payload, payloadAt);
  return frame;
}

export interface RawWsHandlers {
  /** One unfragmented data frame; `text` for opcode 1. `payload` is valid only during the call (its memory is reused). */
  message(payload: Buffer, text: boolean): void;
  /** The socket closed; `code` is the server's close code when it sent one. */
  close(code?: number): void;
}

/**
 * Where every socket of the process reads into (`onread`), rather than a new Buffer a read handed on through the
 * stream machinery: a read calls back at once and the callback copies what it keeps, so one buffer serves all.
 * Reading the server's acks that way is about half the generator's work (bench/ack-send.ts, ninth session).
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const EMPTY = Buffer.alloc(0);

/** Opens a WebSocket to `path` with a bearer token; resolves once the server has switched protocols. */
export function openRawWs(host: string, port: number, path: string, token: string, h: RawWsHandlers): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect({
      host, port, noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n) => { read(READ_BUFFER.subarray(0, n)); return true } },
    });
    let buf: Buffer = EMPTY;
    let upgraded = false;
    let closeCode: number | undefined;
    sock.on('connect', () => {
      sock.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
        + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`
        + `Authorization: Bearer ${token}\r\n\r\n`);
    });
    /** `chunk` is in READ_BUFFER: whatever is left of it once the frames in it are handled is copied. */
    const read = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) { buf = Buffer.from(buf); return }
        const head = buf.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) { sock.destroy(); reject(new Error(head.split('\r\n')[0])); return }
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve(sock);
      }
      let off = 0;
      while (buf.length - off >= 2) {
        const b1 = buf[off + 1] as number;
        let len = b1 & 0x7f;
        let hdr = 2;
        if (len === 126) { if (buf.length - off < 4) break; len = buf.readUInt16BE(off + 2); hdr = 4 }
        else if (len === 127) { if (buf.length - off < 10) break; len = Number(buf.readBigUInt64BE(off + 2)); hdr = 10 }
        if (buf.length - off < hdr + len) break;
        const opcode = (buf[off] as number) & 0x0f;
        const payload = buf.subarray(off + hdr, off + hdr + len);
        off += hdr + len;
        if (opcode === 0x2 || opcode === 0x1) h.message(payload, opcode === 0x1);
        else if (opcode === 0x8) { closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005; sock.end(); break }
        else if (opcode === 0x9) sock.write(clientFrame(payload, 0xa));
      }
      buf = off >= buf.length ? EMPTY : Buffer.from(buf.subarray(off));
    };
    sock.on('error', (err) => { if (!upgraded) reject(err) });
    sock.on('close', () => h.close(closeCode));
  });
}
