import { Worker } from 'node:worker_threads';
import t from 'tap';
import { blake3Hex, EXACT_HASH_HEX_LENGTH, EXACT_HASH_TYPES, exactHashes, type ExactHashes } from '../../matchers/exact/index.js';

/** The BLAKE3 test-vector input: byte i is i mod 251. */
function pattern(length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = i % 251;
  return b;
}
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

t.test('exact - matches the standard test vectors for md5, sha1 and sha256', async (t) => {
  t.same(exactHashes(ascii('')), {
    md5: 'd41d8cd98f00b204e9800998ecf8427e',
    sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    blake3: 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
  });
  t.same(exactHashes(ascii('abc')), {
    md5: '900150983cd24fb0d6963f7d28e17f72',
    sha1: 'a9993e364706816aba3e25717850c26c9cd0d89d',
    sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    blake3: '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85',
  });
  const quick = exactHashes(ascii('The quick brown fox jumps over the lazy dog'));
  t.equal(quick.md5, '9e107d9d372bb6826bd81d3542a419d6');
  t.equal(quick.sha1, '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12');
  t.equal(quick.sha256, 'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592');
});

t.test('exact - matches the official blake3 test vectors', async (t) => {
  // From the BLAKE3 reference test_vectors.json (input byte i = i % 251), default 32-byte output.
  const vectors: [number, string][] = [
    [0, 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'],
    [1, '2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213'],
    [1024, '42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7'],
    [102400, 'bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085'],
  ];
  for (const [length, hex] of vectors) t.equal(blake3Hex(pattern(length)), hex, `${length} bytes`);
});

t.test('exact - hashes a payload larger than the blake3 chunk as if in one piece', async (t) => {
  // 3 MiB + 7 bytes, past the 1 MiB chunking; digests from b3sum and Python's hashlib.
  t.same(exactHashes(pattern(3 * 1024 * 1024 + 7)), {
    md5: '62a22cb245a4cfdb1a8a8ba579b2f38a',
    sha1: '0b64c63613488a28f59c3a9dae42ff54f5c501b1',
    sha256: 'f578a61853ca2f4272dba551bd868420e22302fbb6d6dfc0cc80da1d2c7b779f',
    blake3: '8f3f67e881a256c8a2cc45cce1a0b500a1dd0500623fe5363fe7f77518267c5a',
  });
});

t.test('exact - returns lowercase hex of each type\'s length', async (t) => {
  const h = exactHashes(pattern(5000));
  for (const type of EXACT_HASH_TYPES) {
    t.match(h[type], new RegExp(`^[0-9a-f]{${EXACT_HASH_HEX_LENGTH[type]}}$`), type);
  }
});

t.test('exact - hashes in a worker thread with no initialisation step', async (t) => {
  const moduleUrl = new URL('../../matchers/exact/index.js', import.meta.url).href;
  // The worker imports the module fresh, so blake3-wasm loads its wasm inside that thread.
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.moduleUrl).then((m) => {
      const bytes = new Uint8Array(workerData.length);
      for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
      parentPort.postMessage(m.exactHashes(bytes));
    });`;
  const length = 2 * 1024 * 1024 + 3;
  const worker = new Worker(source, { eval: true, workerData: { moduleUrl, length } });
  const fromWorker = await new Promise<ExactHashes>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  t.same(fromWorker, exactHashes(pattern(length)));
});
