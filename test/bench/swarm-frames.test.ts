import t from 'tap';
import { Packr, Unpackr } from 'msgpackr';
import { EncodedMix, deviceFrame, encodeFields } from '../../bench/swarm-frames.js';
import { SwarmMix } from '../../bench/swarm-mix.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** The payload of a masked client frame with a zero mask key. */
function payloadOf(frame: Buffer): Buffer {
  t.equal(frame[0], 0x82, 'FIN and binary');
  const len7 = frame[1]! & 0x7f;
  t.ok(frame[1]! & 0x80, 'masked');
  const [len, hdr] = len7 === 126 ? [frame.readUInt16BE(2), 4] : len7 === 127 ? [Number(frame.readBigUInt64BE(2)), 10] : [len7, 2];
  t.equal(frame.readUInt32BE(hdr), 0, 'zero mask key');
  t.equal(frame.length, hdr + 4 + len);
  return frame.subarray(hdr + 4);
}

t.test('swarm frames - a frame decodes to the event with its seq and at, as msgpackr would encode it', async (t) => {
  const packr = new Packr({ useRecords: false });
  const at = Date.now();
  const events = [
    { type: 'text' as const, fields: { type: 'text' as const, app: 'com.example.chat', text: 'hello there' }, expect: undefined },
    { type: 'url' as const, fields: { type: 'url' as const, url: `https://site.example/${'p'.repeat(300)}` }, expect: undefined },
    { type: 'image' as const, fields: { type: 'image' as const, bytes: Buffer.alloc(70_000, 7), source: 'camera' }, expect: undefined },
  ];
  for (const ev of events) {
    const payload = payloadOf(deviceFrame(encodeFields(ev), 4_000_000_000, at));
    t.same(unpackr.unpack(payload), { ...ev.fields, seq: 4_000_000_000, at }, ev.type);
    t.same(payload, packr.pack({ ...ev.fields, seq: 4_000_000_000, at }), `${ev.type}: the bytes msgpackr writes`);
  }
});

t.test('swarm frames - the encoded mix cycles through the mix\'s first events in order', async (t) => {
  const shares = { text: 0.5, dns: 0.25, heartbeat: 0.25 };
  const reference = new SwarmMix(7, shares, 0.1, 0, { listed: [], unlisted: [] });
  const first = Array.from({ length: 8 }, () => reference.next().fields);
  const encoded = new EncodedMix(new SwarmMix(7, shares, 0.1, 0, { listed: [], unlisted: [] }), 8);
  const cycle = Array.from({ length: 16 }, () => encoded.next().ev.fields);
  t.same(cycle, [...first, ...first]);
});
