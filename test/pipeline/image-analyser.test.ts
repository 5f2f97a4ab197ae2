import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import sharp from 'sharp';
import { pino } from 'pino';
import { Metrics, asDeviceId, type ImageEvent } from '../../core/index.js';
import { ImageAnalyser, ListWatcher, WorkerPool } from '../../pipeline/index.js';
import type { CompiledList } from '../../pipeline/worker-messages.js';
import { analyseImage } from '../../pipeline/image-task.js';
import { HashIndex } from '../../matchers/hash-index/index.js';
import { exactHashes } from '../../matchers/exact/index.js';
import { ListStore, openDatabases } from '../../store/index.js';
import { tempDir } from '../helpers/vigil.js';
import { slowPng } from '../helpers/images.js';

t.test('image analyser - image bytes are transferred to the worker, not copied', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  const pool = new WorkerPool(1, 'cd'.repeat(32));
  t.teardown(async () => { await pool.close(); await db.root.close(); tmp.remove() });
  const watcher = new ListWatcher(new ListStore(db), pool, tmp.dir, pino({ level: 'silent' }));
  const analyser = new ImageAnalyser(pool, watcher, { limits: { maxBytes: 1 << 24, maxPixels: 1e7, maxDecodeSeconds: 60 }, maxInFlight: 4, threads: 1 }, new Metrics());
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } }).png().toBuffer();
  const bytes = new Uint8Array(png); // its own ArrayBuffer, as the event parser makes
  const event: ImageEvent = { type: 'image', seq: 1, at: Date.now(), bytes, source: 'camera' };
  const outcome = await analyser.analyse(asDeviceId('dev-x'), event);
  t.match(outcome, { ok: true, event: { type: 'image', seq: 1, hits: [] } });
  t.equal(bytes.byteLength, 0, 'the buffer was detached: it moved to the worker thread');
  t.notOk('bytes' in (outcome.ok ? outcome.event : {}), 'the stored form carries no bytes');
});

t.test('image analyser - a WebP too large for libvips\' disc threshold is decoded in memory, never into a temporary file, at full size or shrunk', async (t) => {
  // libvips decodes a WebP of more than 100 MB of pixels (6000x6000 RGB: 108 MB) into a file in TMPDIR unless told
  // otherwise: pixels of an image that may match nothing, on disk. So does its shrink-on-load of a 9000x6000 WebP
  // (54 MP, over the 50 MP decoded at full size) to 8660x5773 (150 MB). With TMPDIR a folder that does not exist,
  // any such file fails the decode, so a child process shows whether one was attempted, in its main thread and in a
  // worker; and one without keepDecodesInMemory shows that the test would see it.
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  const files = { full: join(tmp.dir, 'big.webp'), shrunk: join(tmp.dir, 'over-50-mp.webp') };
  writeFileSync(files.full, await sharp({ create: { width: 6000, height: 6000, channels: 3, background: '#7a8090' } }).webp({ quality: 10 }).toBuffer());
  writeFileSync(files.shrunk, await sharp({ create: { width: 9000, height: 6000, channels: 3, background: '#7a8090' } }).webp({ quality: 10 }).toBuffer());
  const dist = (p: string): string => new URL(p, import.meta.url).href;
  const script = `
    import { readFileSync } from 'node:fs';
    import { decodeImage } from ${JSON.stringify(dist('../../matchers/image/index.js'))};
    import { WorkerPool } from ${JSON.stringify(dist('../../pipeline/index.js'))};
    const pool = new WorkerPool(1, 'cd'.repeat(32));
    const out = {};
    for (const [name, file] of Object.entries(${JSON.stringify(files)})) {
      const bytes = readFileSync(file);
      const main = await decodeImage(bytes, { maxBytes: 1 << 24, maxPixels: 250_000_000, fullDecodePixels: 50_000_000, maxDecodeSeconds: 60 });
      const worker = await pool.run({ type: 'image', snapshot: { id: 0, lists: [] }, bytes: new Uint8Array(bytes), deviceId: 'dev-x', seq: 1,
        maxBytes: 1 << 24, maxPixels: 250_000_000, maxDecodeSeconds: 60 });
      out[name] = { main: main.ok ? main.image.width + 'x' + main.image.height : main.message, worker: worker.type === 'image' ? worker.ok || worker.message : worker };
    }
    await pool.close();
    console.log(JSON.stringify(out));`;
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: join(tmp.dir, 'no-such-folder') };
  delete env.VIPS_DISC_THRESHOLD;
  writeFileSync(join(tmp.dir, 'decode.mjs'), script);
  const out = execFileSync(process.execPath, [join(tmp.dir, 'decode.mjs')], { env, encoding: 'utf8' });
  t.same(JSON.parse(out.trim().split('\n').pop()!), {
    full: { main: '6000x6000', worker: true },
    shrunk: { main: '8660x5773', worker: true },
  }, 'decoded in both threads with no temporary file, the 54 MP one shrunk');

  // The same shrink with sharp alone, libvips' threshold left as it is: the decode goes to a file, and fails.
  const control = `
    import sharp from ${JSON.stringify(import.meta.resolve('sharp'))};
    const r = await sharp(${JSON.stringify(files.shrunk)}).resize({ width: 8660, height: 5773, fit: 'inside' }).raw().toBuffer().then(() => 'ok', (e) => e.message);
    console.log(JSON.stringify(r));`;
  writeFileSync(join(tmp.dir, 'control.mjs'), control);
  const seen = execFileSync(process.execPath, [join(tmp.dir, 'control.mjs')], { env, encoding: 'utf8' });
  t.match(JSON.parse(seen.trim()), /unable to write to .*no-such-folder/, 'without keepDecodesInMemory the shrunk decode is written to TMPDIR');
});

t.test('image analyser - an image over the pixel limit is refused IMAGE_TOO_LARGE even when its exact hash is listed', async (t) => {
  // Only a refusal by the decoder (IMAGE_UNDECODABLE) is looked up before it is refused (docs/protocol.md); an image
  // over ingest.maxImagePixels is refused by its header, whatever its hashes.
  const png = new Uint8Array(await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } }).png().toBuffer());
  const index = HashIndex.build([{ hashType: 'md5', value: exactHashes(png).md5 }]);
  const list = { list: { name: 'h', kind: 'hashes', version: 1 } as CompiledList, index };
  const task = { type: 'image' as const, snapshot: { id: 0, lists: [] }, bytes: png, deviceId: 'dev-x', seq: 1, maxBytes: 1 << 24, maxPixels: 1000, maxDecodeSeconds: 60 };
  t.match(await analyseImage(task, [list], new Uint8Array(32)), { ok: false, code: 'IMAGE_TOO_LARGE' });
  t.match(await analyseImage({ ...task, maxPixels: 1e7 }, [list], new Uint8Array(32)), { ok: true, hits: [{ hashType: 'md5' }] }, 'within the limit: matched');
});

t.test('image analyser - an empty payload is refused before any look-up, though the empty file\'s MD5 is listed (it is in many real hash sets)', async (t) => {
  const empty = new Uint8Array(0);
  const index = HashIndex.build([{ hashType: 'md5', value: exactHashes(empty).md5 }, { hashType: 'sha256', value: exactHashes(empty).sha256 }]);
  const list = { list: { name: 'h', kind: 'hashes', version: 1 } as CompiledList, index };
  const task = { type: 'image' as const, snapshot: { id: 0, lists: [] }, bytes: empty, deviceId: 'dev-x', seq: 1, maxBytes: 1 << 24, maxPixels: 1e7, maxDecodeSeconds: 60 };
  t.match(await analyseImage(task, [list], new Uint8Array(32)), { ok: false, code: 'IMAGE_UNDECODABLE', message: /empty payload/ });
});

t.test('image analyser - a decode stopped at maxDecodeSeconds is not tried again leniently: one time budget covers both decodes', async (t) => {
  // A decode that fails is tried again leniently, and a stopped one failed: it would have taken the budget twice.
  // sharp tells its queue listeners when a pipeline is queued and when it ends, twice a decode (the header read is not one).
  let told = 0;
  const listener = (): void => { told++ };
  sharp.queue.on('change', listener);
  t.teardown(() => { sharp.queue.off('change', listener) });
  const task = { type: 'image' as const, snapshot: { id: 0, lists: [] }, bytes: new Uint8Array(slowPng()), deviceId: 'dev-x', seq: 1,
    maxBytes: 1 << 24, maxPixels: 250_000_000, maxDecodeSeconds: 1 };
  t.match(await analyseImage(task, [], new Uint8Array(32)), { ok: false, code: 'IMAGE_UNDECODABLE', timedOut: true, message: /took too long/ });
  t.equal(told / 2, 1, 'decoded once');
});

t.test('image analyser - images take at most imageThreads of the pool\'s threads, so journal pages find one free while large images decode', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  const pool = new WorkerPool(2, 'cd'.repeat(32));
  t.teardown(async () => { await pool.close(); await db.root.close(); tmp.remove() });
  const watcher = new ListWatcher(new ListStore(db), pool, tmp.dir, pino({ level: 'silent' }));
  const analyser = new ImageAnalyser(pool, watcher, {
    limits: { maxBytes: 1 << 24, maxPixels: 250_000_000, maxDecodeSeconds: 3 }, maxInFlight: 4, threads: 1,
  }, new Metrics());
  // Two devices' slow images (each held a thread 3 s, stopped at the limit), then a batch of pages: with both threads
  // decoding, the pages waited for one of them.
  const done: string[] = [];
  const images = [1, 2].map((seq) => analyser.analyse(asDeviceId(`dev-${seq}`), { type: 'image', seq, at: Date.now(), bytes: new Uint8Array(slowPng()), source: 'camera' })
    .then((outcome) => { done.push(`image ${seq}`); return outcome }));
  const pages = await pool.run({ type: 'pages', snapshot: watcher.snapshot, pages: [] });
  done.push('pages');
  t.equal(pages.type, 'pages');
  t.equal(analyser.inFlight, 2, 'the pages were matched while both images were in flight');
  for (const outcome of await Promise.all(images)) t.match(outcome, { ok: false, code: 'IMAGE_UNDECODABLE', message: /took too long/ });
  t.same(done, ['pages', 'image 1', 'image 2'], 'and the images were decoded one after the other');
});
