/**
 * Device frames for the swarm, built without encoding each event afresh. The mix's first events are
 * kept with their fields encoded once (MessagePack map entries, as msgpackr writes them), and the swarm
 * cycles through them: a frame is then a map header, those bytes, `seq` and `at`, in a masked WebSocket
 * frame. Encoding every event cost the generator about a quarter of its CPU at 50,000 events/s, CPU the
 * server it measures then lacked on this 2-core machine. Images are encoded when sent (they are large and
 * few), and the cycle keeps the mix's proportions exactly, since the mix is a round robin over its shares.
 */
import { Packr } from 'msgpackr';
import type { MixedEvent, SwarmMix } from './swarm-mix.js';
import { allocClientFrame } from './raw-ws-client.js';

const packr = new Packr({ useRecords: false });
/** `seq` (fixstr) then uint32, `at` (fixstr) then float64: what msgpackr writes for these two fields. */
const TAIL_BYTES = 4 + 5 + 3 + 9;
const SEQ_KEY = [0xa3, 0x73, 0x65, 0x71];
const AT_KEY = [0xa2, 0x61, 0x74];

/** An event with its fields as MessagePack map entries (no map header), and how many entries. */
export interface EncodedEvent { ev: MixedEvent; entries: Buffer; count: number }

/** Encodes an event's fields as map entries. Fields must not include `seq` or `at`. */
export function encodeFields(ev: MixedEvent): EncodedEvent {
  const packed = packr.pack(ev.fields);
  // msgpackr (useRecords: false) writes every object as a map16: 0xde, then the entry count in two bytes.
  if (packed[0] !== 0xde) throw new Error(`unexpected MessagePack map header 0x${packed[0]?.toString(16)}`);
  return { ev, entries: packed.subarray(3), count: packed.readUInt16BE(1) };
}

/** The masked WebSocket frame of `{ ...fields, seq, at }`, with a zero mask key as the raw client sends. */
export function deviceFrame(e: EncodedEvent, seq: number, at: number): Buffer {
  const { frame: out, payloadAt } = allocClientFrame(3 + e.entries.length + TAIL_BYTES);
  let o = payloadAt;
  out[o] = 0xde;
  out.writeUInt16BE(e.count + 2, o + 1);
  o += 3;
  o += e.entries.copy(out, o);
  out.set(SEQ_KEY, o);
  out[o + 4] = 0xce;
  out.writeUInt32BE(seq, o + 5);
  o += 9;
  out.set(AT_KEY, o);
  out[o + 3] = 0xcb;
  out.writeDoubleBE(at, o + 4);
  return out;
}

/** The mix's first `size` events, encoded once and handed out in a cycle. */
export class EncodedMix {
  readonly #pool: (EncodedEvent | MixedEvent)[] = [];
  #next = 0;

  constructor(mix: SwarmMix, size: number) {
    for (let i = 0; i < size; i++) {
      const ev = mix.next();
      this.#pool.push(ev.type === 'image' ? ev : encodeFields(ev));
    }
  }

  next(): EncodedEvent {
    const e = this.#pool[this.#next]!;
    this.#next = (this.#next + 1) % this.#pool.length;
    return 'entries' in e ? e : encodeFields(e);
  }
}
