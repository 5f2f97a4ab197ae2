import t from 'tap';
import { randomBytes } from 'node:crypto';
import { openEvidence, sealEvidence } from '../../store/index.js';

const KEY = randomBytes(32);
const BYTES = randomBytes(5000);

t.test('evidence cipher - seals and opens an image bound to its device and event', async (t) => {
  const sealed = sealEvidence(KEY, 'dev-a', 7, BYTES, 'jpeg');
  t.same(openEvidence(KEY, 'dev-a', 7, sealed), BYTES);
  t.throws(() => openEvidence(KEY, 'dev-a', 8, sealed), 'another event');
  t.throws(() => openEvidence(KEY, 'dev-b', 7, sealed), 'another device');
  const altered = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext) };
  altered.ciphertext[10]! ^= 1;
  t.throws(() => openEvidence(KEY, 'dev-a', 7, altered), 'an altered ciphertext');
});

t.test('evidence cipher - refuses a tag cut short (GCM would check only the bytes left: 4 of them is a 1 in 2^32 forgery)', async (t) => {
  const sealed = sealEvidence(KEY, 'dev-a', 7, BYTES, 'jpeg');
  for (const length of [4, 8, 12, 15]) {
    t.throws(() => openEvidence(KEY, 'dev-a', 7, { ...sealed, tag: sealed.tag.subarray(0, length) }), `a ${length}-byte tag`);
  }
});
