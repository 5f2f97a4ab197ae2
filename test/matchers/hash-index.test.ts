import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { exactHashes } from '../../matchers/exact/index.js';
import {
  DEFAULT_BLOCKHASH_THRESHOLD,
  HashIndex,
  type HashMatch,
  type SharedHashIndex,
} from '../../matchers/hash-index/index.js';
import { decodeImage, type DecodedImage } from '../../matchers/image/index.js';
import {
  PDQ_DIHEDRAL_ORDER,
  PDQ_MATCH_THRESHOLD,
  pdqDihedralHashes,
  pdqFromHex,
  pdqHamming,
  pdqHash,
  pdqToHex,
  type PdqHash,
} from '../../matchers/pdq/index.js';
import { ListEntryError, seededUint32 } from '../../core/index.js';

const PDQ_DATA = fileURLToPath(new URL('../../../../shared/data/pdq/', import.meta.url));
/** Lists at least this long are indexed (multi-index hashing) by default rather than scanned. */
const INDEXED = 5000;

function randomHash(random: () => number): PdqHash {
  const h = new Uint32Array(8);
  for (let i = 0; i < 8; i++) h[i] = random();
  return h as PdqHash;
}

/** `hash` with the given bits flipped; bit k is bit (k & 31) of word k >> 5. */
function flip(hash: PdqHash, bits: Iterable<number>): PdqHash {
  const out = new Uint32Array(hash) as PdqHash;
  for (const k of bits) out[k >>> 5] = (out[k >>> 5]! ^ (1 << (k & 31))) >>> 0;
  return out;
}

/** `count` distinct random bits in [from, from + span). */
function someBits(random: () => number, from: number, span: number, count: number): number[] {
  const bits = new Set<number>();
  while (bits.size < count) bits.add(from + (random() % span));
  return [...bits];
}

/** `hash` at exactly `distance`, with the flipped bits spread at random. */
function near(hash: PdqHash, distance: number, random: () => number): PdqHash {
  return flip(hash, someBits(random, 0, 256, distance));
}

const pdqEntries = (hashes: readonly PdqHash[]): { hashType: string; value: string }[] =>
  hashes.map((h) => ({ hashType: 'pdq', value: pdqToHex(h) }));

/** The matches a list should give, by plain pairwise distances: an oracle independent of the index. */
function expected(list: readonly PdqHash[], queries: readonly PdqHash[], threshold: number, offset = 0): HashMatch[] {
  const out: HashMatch[] = [];
  list.forEach((h, i) => {
    const d = Math.min(...queries.map((q) => pdqHamming(h, q)));
    if (d <= threshold) out.push({ entry: i + offset, distance: d, threshold, hashType: 'pdq' });
  });
  return out;
}

t.test('hash index - finds a planted near-duplicate at distance 0 and 31 but not 32', async (t) => {
  const random = seededUint32(1);
  const query = randomHash(random);
  // Per word, bits flipped in its (high, low) halves. At 31 only one word is within 3, which exercises
  // every way the index can reach it: through the high half or the low half, at 0 or 1 bit.
  const layouts: [string, [number, number][]][] = [
    ['distance 0', Array.from({ length: 8 }, (): [number, number] => [0, 0])],
    ['31, close word 0+3', [[2, 2], [2, 2], [2, 2], [2, 2], [2, 2], [2, 2], [2, 2], [0, 3]]],
    ['31, close word 1+2', [[2, 2], [2, 2], [2, 2], [1, 2], [2, 2], [2, 2], [2, 2], [2, 2]]],
    ['31, close word 2+1', [[2, 2], [2, 1], [2, 2], [2, 2], [2, 2], [2, 2], [2, 2], [2, 2]]],
    ['31, close word 3+0', [[3, 0], [2, 2], [2, 2], [2, 2], [2, 2], [2, 2], [2, 2], [2, 2]]],
    ['31, spread at random', []],
    ['32, every word at 4', Array.from({ length: 8 }, (): [number, number] => [2, 2])],
    ['32, spread at random', []],
  ];
  const planted = layouts.map(([name, layout]) => {
    if (layout.length === 0) return near(query, name.startsWith('31') ? 31 : 32, random);
    const bits = layout.flatMap(([high, low], w) => [
      ...someBits(random, w * 32 + 16, 16, high),
      ...someBits(random, w * 32, 16, low),
    ]);
    return flip(query, bits);
  });
  const list = Array.from({ length: INDEXED }, () => randomHash(random));
  const at = planted.map(() => random() % INDEXED);
  at.forEach((position, k) => (list[position] = planted[k]!));
  t.same(planted.map((h) => pdqHamming(h, query)), [0, 31, 31, 31, 31, 31, 32, 32], 'planted distances');

  const index = HashIndex.build(pdqEntries(list));
  const want = at.slice(0, 6).map((entry, k) => ({ entry, distance: k === 0 ? 0 : 31 })).sort((a, b) => a.entry - b.entry);
  const got = (m: HashMatch[]): { entry: number; distance: number }[] => m.map(({ entry, distance }) => ({ entry, distance }));
  t.same(got(index.match({ pdq: [query] })), want, 'multi-index');
  t.same(got(index.scanPdq([query])), want, 'scan');
  t.ok(index.match({ pdq: [query] }).every((m) => m.threshold === PDQ_MATCH_THRESHOLD && m.hashType === 'pdq'));
});

t.test('hash index - matches any of the 8 dihedral hashes of an image, each entry once at its smallest distance', async (t) => {
  const random = seededUint32(2);
  const queries = Array.from({ length: 8 }, () => randomHash(random));
  // Entry 900 is near query hash 2 (at 20) and hash 5 (at 9); entry 100k is near query hash k.
  const both = near(queries[2]!, 20, random);
  queries[5] = near(both, 9, random);
  const list = Array.from({ length: INDEXED }, () => randomHash(random));
  queries.forEach((q, k) => (list[k * 100] = near(q, 5 + k, random)));
  list[900] = both;
  const index = HashIndex.build(pdqEntries(list));
  const got = index.match({ pdq: queries });
  t.same(got, expected(list, queries, PDQ_MATCH_THRESHOLD), 'as the pairwise oracle says');
  t.same(got.map((m) => m.entry), [0, 100, 200, 300, 400, 500, 600, 700, 900], 'each near entry, once');
  t.equal(got.find((m) => m.entry === 900)?.distance, 9, 'the smaller of its two distances');
  t.same(index.match({ pdq: queries.slice(0, 1) }).map((m) => m.entry), [0], 'the first hash alone finds only its own');
});

t.test('hash index - matches a rotated image by its dihedral hashes (a hit on the rot90 hash counts)', async (t) => {
  const decode = async (file: string): Promise<DecodedImage> => {
    const r = await decodeImage(readFileSync(`${PDQ_DATA}${file}`));
    if (!r.ok) throw new Error(`${file}: ${r.message}`);
    return r.image;
  };
  // Listed: the photo as it is. Seen: the same photo rotated by 90 degrees.
  const listed = pdqHash(await decode('lossless/dih__bridge-1-original.png')).hash;
  const seen = pdqDihedralHashes(await decode('lossless/dih__bridge-2-rotate-90.png'));
  const random = seededUint32(3);
  const list = Array.from({ length: INDEXED }, () => randomHash(random));
  list[1234] = listed;
  const index = HashIndex.build(pdqEntries(list));

  t.ok(pdqHamming(seen.hashes.original, listed) > PDQ_MATCH_THRESHOLD, 'the rotated image alone does not match');
  t.same(index.match({ pdq: [seen.hashes.original] }), []);
  const all = PDQ_DIHEDRAL_ORDER.map((name) => seen.hashes[name]);
  const got = index.match({ pdq: all, pdqQuality: seen.quality });
  t.same(got.map((m) => m.entry), [1234], 'all 8 dihedral hashes: found');
  // The two files were rotated and re-encoded separately, so they differ by a few pixels: 16 bits here.
  t.equal(got[0]?.distance, pdqHamming(seen.hashes.rot270, listed), `through the hash that undoes the rotation (${got[0]?.distance} bits)`);

  // And the other way round: the rot90 hash of the listed photo is listed, the photo itself is seen.
  const original = pdqDihedralHashes(await decode('lossless/dih__bridge-1-original.png'));
  const rotatedList = [...list];
  rotatedList[1234] = pdqHash(await decode('lossless/dih__bridge-2-rotate-90.png')).hash;
  const rotatedIndex = HashIndex.build(pdqEntries(rotatedList));
  const hit = rotatedIndex.match({ pdq: PDQ_DIHEDRAL_ORDER.map((name) => original.hashes[name]) });
  t.same(hit.map((m) => m.entry), [1234]);
  t.equal(hit[0]?.distance, pdqHamming(original.hashes.rot90, rotatedList[1234]!), 'through the rot90 hash');
});

t.test('hash index - multi-index results equal the brute-force scan on random data (fixed seed)', async (t) => {
  const random = seededUint32(20240611);
  const list = Array.from({ length: 20_000 }, () => randomHash(random));
  const queries = Array.from({ length: 40 }, () => Array.from({ length: 8 }, () => randomHash(random)));
  // Near-duplicates at every distance from 0 to 63 around the queries' hashes.
  for (let i = 0; i < 1500; i++) {
    const q = queries[random() % queries.length]![random() & 7]!;
    list[random() % list.length] = near(q, random() % 64, random);
  }
  let compared = 0;
  for (const threshold of [0, 7, 8, 15, 16, 24, 31, 32, 40, 47, 48, 64]) {
    const index = HashIndex.build(pdqEntries(list), { pdqThreshold: threshold });
    let matches = 0;
    for (const q of queries) {
      const want = expected(list, q, threshold);
      const got = index.match({ pdq: q });
      matches += got.length;
      if (JSON.stringify(got) !== JSON.stringify(want)) t.same(got, want, `threshold ${threshold}: multi-index`);
      const scanned = index.scanPdq(q);
      if (JSON.stringify(scanned) !== JSON.stringify(want)) t.same(scanned, want, `threshold ${threshold}: scan`);
      compared++;
    }
    t.ok(matches > 0 || threshold === 0, `threshold ${threshold}: ${matches} matches, all as the oracle says`);
  }
  t.equal(compared, 12 * 40);
});

t.test('hash index - multi-index stays exact on adversarial data with shared slices', async (t) => {
  const random = seededUint32(7);
  // Half-words drawn from 4 values: buckets of thousands, runs of equal words, many duplicate hashes.
  const halves = [0x0000, 0xffff, 0x00ff, 0x0001];
  const skewed = (): PdqHash => {
    const h = new Uint32Array(8);
    for (let i = 0; i < 8; i++) h[i] = ((halves[random() & 3]! << 16) | halves[random() & 3]!) >>> 0;
    return h as PdqHash;
  };
  const list = [
    ...Array.from({ length: 3000 }, skewed),
    ...Array.from({ length: 3000 }, () => near(skewed(), random() % 40, random)),
    ...Array.from({ length: 500 }, () => new Uint32Array(8) as PdqHash), // 500 identical all-zero hashes
  ];
  const queries = [
    [new Uint32Array(8) as PdqHash],
    ...Array.from({ length: 15 }, () => Array.from({ length: 8 }, () => near(skewed(), random() % 20, random))),
  ];
  for (const threshold of [0, 16, 31, 47]) {
    const index = HashIndex.build(pdqEntries(list), { pdqThreshold: threshold, mihMinEntries: 0 });
    for (const [i, q] of queries.entries()) {
      const want = expected(list, q, threshold);
      t.same(index.match({ pdq: q }), want, `threshold ${threshold}, query ${i}: ${want.length} matches`);
    }
  }
});

t.test('hash index - looks up md5, sha1, sha256 and blake3 digests exactly', async (t) => {
  const bytes = ['alpha', 'beta', 'gamma'].map((s) => new TextEncoder().encode(s));
  const [a, b, c] = bytes.map(exactHashes) as [ReturnType<typeof exactHashes>, ReturnType<typeof exactHashes>, ReturnType<typeof exactHashes>];
  const random = seededUint32(4);
  const entries = [
    { hashType: 'pdq', value: pdqToHex(randomHash(random)) },
    { hashType: 'md5', value: a.md5 },
    { hashType: 'sha1', value: a.sha1.toUpperCase() }, // either case
    { hashType: 'sha256', value: a.sha256 },
    { hashType: 'blake3', value: a.blake3 },
    { hashType: 'md5', value: b.md5 },
    { hashType: 'MD5', value: a.md5 }, // listed twice, type in capitals
    // Same first 64 bits as c's SHA-256, different after: must not match c.
    { hashType: 'sha256', value: `${c.sha256.slice(0, 16)}${'0'.repeat(48)}` },
  ];
  const index = HashIndex.build(entries);
  const exact = (m: HashMatch[]): [number, string][] => m.map((x) => [x.entry, x.hashType]);
  t.same(exact(index.match(a)), [[1, 'md5'], [2, 'sha1'], [3, 'sha256'], [4, 'blake3'], [6, 'md5']]);
  t.ok(index.match(a).every((m) => m.distance === 0 && m.threshold === 0), 'exact: distance 0, threshold 0');
  t.same(exact(index.match({ md5: b.md5.toUpperCase() })), [[5, 'md5']]);
  t.same(index.match(c), [], 'a digest sharing only its first 64 bits does not match');
  t.same(index.match({ sha1: a.md5.padEnd(40, '0') }), [], 'an MD5 is not looked up as a SHA-1');
  t.throws(() => index.match({ md5: 'xyz' }), TypeError, 'a malformed query digest is a bug');

  // Many digests: the table probes past collisions of its slot bits.
  const many = Array.from({ length: 50_000 }, (_, i) => exactHashes(new TextEncoder().encode(`item ${i}`)));
  const big = HashIndex.build(many.map((h) => ({ hashType: 'sha1', value: h.sha1 })));
  let found = 0;
  for (let i = 0; i < many.length; i += 97) found += big.match({ sha1: many[i]!.sha1 }).filter((m) => m.entry === i).length;
  t.equal(found, Math.ceil(many.length / 97), 'every sampled digest found at its own entry');
  t.same(big.match({ sha1: a.sha1 }), []);
});

t.test('hash index - matches blockhash within its threshold', async (t) => {
  const random = seededUint32(5);
  const query = randomHash(random);
  for (const size of [50, INDEXED]) {
    const list = Array.from({ length: size }, () => randomHash(random));
    list[10] = near(query, DEFAULT_BLOCKHASH_THRESHOLD, random);
    list[20] = near(query, DEFAULT_BLOCKHASH_THRESHOLD + 1, random);
    const entries = list.map((h) => ({ hashType: 'blockhash', value: pdqToHex(h) }));
    const q = { blockhash: pdqToHex(query) };
    t.same(HashIndex.build(entries).match(q).map((m) => [m.entry, m.distance, m.threshold, m.hashType]), [
      [10, DEFAULT_BLOCKHASH_THRESHOLD, DEFAULT_BLOCKHASH_THRESHOLD, 'blockhash'],
    ], `${size} listed, default threshold`);
    t.same(HashIndex.build(entries, { blockhashThreshold: 11 }).match(q).map((m) => m.entry), [10, 20], `${size} listed, threshold 11`);
    t.same(HashIndex.build(entries).match({ pdq: [query] }), [], 'a blockhash is not matched as PDQ');
  }
});

t.test('hash index - skips PDQ when pdqQuality is below 50', async (t) => {
  const random = seededUint32(6);
  const query = randomHash(random);
  const digests = exactHashes(new TextEncoder().encode('image bytes'));
  const index = HashIndex.build([
    { hashType: 'pdq', value: pdqToHex(near(query, 3, random)) },
    { hashType: 'sha256', value: digests.sha256 },
  ]);
  const types = (quality: number): string[] => index.match({ pdq: [query], pdqQuality: quality, sha256: digests.sha256 }).map((m) => m.hashType);
  t.same(types(49), ['sha256'], 'quality 49: PDQ skipped, exact still matched');
  t.same(types(50), ['pdq', 'sha256'], 'quality 50: PDQ matched');
  t.same(index.match({ pdq: [query] }).length, 1, 'no quality given: PDQ matched');
});

t.test('hash index - takes a PDQ threshold per list', async (t) => {
  const random = seededUint32(8);
  const query = randomHash(random);
  const list = Array.from({ length: INDEXED }, () => randomHash(random));
  list[1] = near(query, 15, random);
  list[2] = near(query, 16, random);
  list[3] = near(query, 40, random);
  const at = (pdqThreshold: number): number[] => HashIndex.build(pdqEntries(list), { pdqThreshold }).match({ pdq: [query] }).map((m) => m.entry);
  t.same(at(15), [1]);
  t.same(at(31), [1, 2]);
  t.same(at(40), [1, 2, 3]);
  t.throws(() => HashIndex.build([], { pdqThreshold: 257 }), RangeError);
  t.throws(() => HashIndex.build([], { blockhashThreshold: 1.5 }), RangeError);
});

t.test('hash index - gives the same matches from shared memory, in this thread and in a worker thread', async (t) => {
  const random = seededUint32(9);
  const queries = Array.from({ length: 8 }, () => randomHash(random));
  const list = Array.from({ length: INDEXED }, () => randomHash(random));
  for (let k = 0; k < 40; k++) list[random() % INDEXED] = near(queries[k & 7]!, random() % 40, random);
  const digest = exactHashes(new TextEncoder().encode('listed'));
  const index = HashIndex.build([...pdqEntries(list), { hashType: 'md5', value: digest.md5 }, { hashType: 'blockhash', value: pdqToHex(queries[0]!) }]);
  const query = { pdq: queries, md5: digest.md5, blockhash: pdqToHex(queries[0]!) };
  const want = index.match(query);
  t.ok(want.length > 3, `${want.length} matches`);

  const shared = index.toShared();
  t.equal(structuredClone(shared).kind, 'hashes', 'structured-clonable');
  const local = HashIndex.fromShared(shared);
  t.same(local.match(query), want, 'fromShared in this thread');
  t.equal(local.bytes, index.bytes);

  const moduleUrl = new URL('../../matchers/hash-index/index.js', import.meta.url).href;
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.moduleUrl).then(({ HashIndex }) => {
      const index = HashIndex.fromShared(workerData.shared);
      const query = { ...workerData.query, pdq: workerData.query.pdq.map((h) => new Uint32Array(h)) };
      parentPort.postMessage({ match: index.match(query), scan: index.scanPdq(query.pdq) });
      // Then, on request, scan again: memory changed by the main thread must show (a view, not a copy).
      parentPort.once('message', () => parentPort.postMessage(index.scanPdq(query.pdq)));
    });`;
  const worker = new Worker(source, {
    eval: true,
    workerData: { moduleUrl, shared, query: { ...query, pdq: queries.map((h) => Array.from(h)) } },
  });
  const next = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  try {
    const first = (await next()) as { match: HashMatch[]; scan: HashMatch[] };
    t.same(first.match, want, 'fromShared in a worker: match');
    t.same(first.scan, index.scanPdq(queries), 'fromShared in a worker: scan');
    // Overwrite listed hash 4999 with query 3 in the shared memory, from this thread.
    new Uint32Array((shared as SharedHashIndex).pdq.hashes).set(queries[3]!, 4999 * 8);
    const reply = next();
    worker.postMessage('again');
    const again = (await reply) as HashMatch[];
    t.ok(again.some((m) => m.entry === 4999 && m.distance === 0), 'the worker sees the change');
  } finally {
    await worker.terminate();
  }
});

t.test('hash index - names the index of an invalid entry', async (t) => {
  const good = { hashType: 'pdq', value: 'f'.repeat(64) };
  const cases: [string, { hashType: string; value: string }][] = [
    ['unknown type', { hashType: 'sha512', value: 'a'.repeat(128) }],
    ['short PDQ', { hashType: 'pdq', value: 'f'.repeat(63) }],
    ['non-hex PDQ', { hashType: 'pdq', value: `${'f'.repeat(63)}g` }],
    ['md5 of sha1 length', { hashType: 'md5', value: 'a'.repeat(40) }],
    ['non-hex blake3', { hashType: 'blake3', value: `${'0'.repeat(63)} ` }],
    ['value not a string', { hashType: 'sha1', value: 42 as unknown as string }],
  ];
  for (const [name, bad] of cases) {
    const err = t.throws(() => HashIndex.build([good, good, good, bad, good])) as unknown;
    t.ok(err instanceof ListEntryError, `${name}: ListEntryError`);
    if (!(err instanceof ListEntryError)) continue;
    t.equal(err.code, 'LIST_INVALID');
    t.equal(err.index, 3, `${name}: names entry 3`);
    t.match(err.message, /^entry 3: /);
  }
});

t.test('hash index - reports its size and memory, and refuses use after dispose', async (t) => {
  const random = seededUint32(10);
  const indexed = HashIndex.build(pdqEntries(Array.from({ length: INDEXED }, () => randomHash(random))));
  const scanned = HashIndex.build(pdqEntries(Array.from({ length: 100 }, () => randomHash(random))));
  t.equal(indexed.size, INDEXED);
  t.equal(indexed.stats().pdq.count, INDEXED);
  // 32 bytes of hash and 64 of postings per hash, plus 16 tables of 65,537 bucket starts.
  t.equal(indexed.stats().pdq.bytes, INDEXED * (32 + 64) + 16 * 65537 * 4);
  t.equal(scanned.stats().pdq.bytes, 100 * 32, 'a small list is scanned: its hashes only');
  t.ok(indexed.bytes >= indexed.stats().pdq.bytes);
  const q = randomHash(random);
  t.same(scanned.match({ pdq: [q] }), expected([], [q], 31));
  indexed.dispose();
  t.throws(() => indexed.match({ pdq: [q] }), /after dispose/);
  t.throws(() => indexed.toShared(), /after dispose/);
});

t.test('hash index - agrees with pdqFromHex on the hex it stores', async (t) => {
  const hex = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
  const index = HashIndex.build([{ hashType: 'pdq', value: hex.toUpperCase() }]);
  const q = pdqFromHex(hex);
  t.same(index.match({ pdq: [q] }), [{ entry: 0, distance: 0, threshold: PDQ_MATCH_THRESHOLD, hashType: 'pdq' }]);
  t.same(index.match({ pdq: [flip(q, [255, 0, 100])] }).map((m) => m.distance), [3], 'bit 255 is the top of the first word');
});
