import t from 'tap';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { TestDevice, enrolDevice, startTestServer, tempDir, text } from '../helpers/vigil.js';

t.test('data file - journal space is reused as events are matched: the file does not grow with every event', async (t) => {
  const tmp = tempDir();
  const srv = await startTestServer(tmp.dir, { ingest: { deviceRatePerSecond: 100_000, deviceBurst: 100_000 } });
  t.teardown(async () => { await srv.stop(); tmp.remove() });
  const { token } = await enrolDevice(tmp.dir);
  const dev = await TestDevice.connect(srv.port, token);
  const size = (): number => statSync(join(tmp.dir, 'db', 'data.mdb')).size;
  // Events that match nothing: once matched, their journal pages are deleted and nothing else is written.
  let seq = 0;
  const burst = async (n: number): Promise<void> => {
    for (let k = 0; k < n / 10; k++) {
      for (let j = 0; j < 10; j++) { seq++; dev.send(text(seq, `event ${seq} says nothing of note`)) }
      await new Promise((r) => setTimeout(r, 20));
    }
    await dev.waitForAck(seq, 20_000);
  };
  await burst(1000);
  const settled = size();
  await burst(4000);
  const grown = size() - settled;
  // A reader left open in a worker thread once made every page freed after it unusable: 3.3 KB more an event.
  t.ok(grown < 2_000_000, `4,000 more events grew the data file by ${grown} bytes`);
  await dev.close();
});
