import t from 'tap';
import sharp from 'sharp';
import { pino } from 'pino';
import { Metrics, asDeviceId, type ImageEvent } from '../../core/index.js';
import { ImageAnalyser, ListWatcher, WorkerPool } from '../../pipeline/index.js';
import { ListStore, openDatabases } from '../../store/index.js';
import { tempDir } from '../helpers/vigil.js';

t.test('image analyser - image bytes are transferred to the worker, not copied', async (t) => {
  const tmp = tempDir();
  const db = openDatabases(tmp.dir);
  const pool = new WorkerPool(1, 'cd'.repeat(32));
  t.teardown(async () => { await pool.close(); await db.root.close(); tmp.remove() });
  const watcher = new ListWatcher(new ListStore(db), pool, tmp.dir, pino({ level: 'silent' }));
  const analyser = new ImageAnalyser(pool, watcher, { maxBytes: 1 << 24, maxPixels: 1e7 }, 4, new Metrics());
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } }).png().toBuffer();
  const bytes = new Uint8Array(png); // its own ArrayBuffer, as the event parser makes
  const event: ImageEvent = { type: 'image', seq: 1, at: Date.now(), bytes, source: 'camera' };
  const outcome = await analyser.analyse(asDeviceId('dev-x'), event);
  t.match(outcome, { ok: true, event: { type: 'image', seq: 1, hits: [] } });
  t.equal(bytes.byteLength, 0, 'the buffer was detached: it moved to the worker thread');
  t.notOk('bytes' in (outcome.ok ? outcome.event : {}), 'the stored form carries no bytes');
});
