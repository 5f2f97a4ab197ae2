import t from 'tap';
import { decodeFrame, encodeAck, encodeFrame } from '../../ingest/frame-codec.js';
import { seededRandom } from '../../core/index.js';

t.test('frame codec - the direct ack encoder writes what the general encoder writes (seed 0xac4)', async (t) => {
  const next = seededRandom(0xac4);
  const values = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 2 ** 32, 2 ** 53 - 1];
  for (let i = 0; i < 2000; i++) values.push(Math.floor(next() * 2 ** (1 + Math.floor(next() * 40))));
  let differ = 0;
  for (const upTo of values) {
    const direct = encodeAck(upTo);
    if (!direct.equals(encodeFrame({ type: 'ack', upTo })) && differ++ < 5) t.fail(`ack ${upTo}: ${direct.toString('hex')}`);
    if ((decodeFrame(direct) as { upTo: number }).upTo !== upTo && differ++ < 5) t.fail(`ack ${upTo} does not decode back`);
  }
  t.equal(differ, 0, `${values.length} acks, byte for byte`);
  t.same(decodeFrame(encodeAck(300)), { type: 'ack', upTo: 300 });
});
