import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig, asDeviceId } from '../../core/index.js';
import { Journal, openDatabases } from '../../store/index.js';
import { startServer } from '../../cli/vigil-server.js';
import { TestDevice, consumerToken, enrolDevice, heartbeat, tempDir, text, waitForAlerts } from '../helpers/vigil.js';

t.test('journal - a server whose journal holds a damaged page starts, says so, and matches the rest', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.remove);
  const consumer = await consumerToken(tmp.dir);
  const { deviceId, token } = await enrolDevice(tmp.dir);
  let damaged = 0;
  {
    // What an earlier run left: one page with a listed term, not yet matched, and one page damaged on disk.
    const db = openDatabases(tmp.dir);
    const journal = new Journal(db, 100, { durable() {}, failed() {} });
    journal.append({ deviceId: asDeviceId(deviceId), event: text(1, 'left over with badword in it') as never });
    journal.append({ deviceId: asDeviceId(deviceId), event: heartbeat(2) as never });
    await journal.settle();
    damaged = Math.max(...([...db.journal.getKeys({})] as number[])) + 1;
    await db.journal.put(damaged, Uint8Array.of(0xdd, 0, 0, 0, 3, 0xc1, 0xc1, 0xc1));
    await db.root.close();
  }
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done() } });
  const env = { VIGIL_EVIDENCE_KEY: '0'.repeat(63) + '1' };
  const srv = await startServer(loadConfig({ dataDir: tmp.dir, port: 0, host: '127.0.0.1' }, env), pino({ level: 'info' }, sink));
  t.teardown(() => srv.close());
  const said = lines.find((l) => typeof l.msg === 'string' && l.msg.includes('cannot be read'));
  t.match(said, { level: 50, pages: [damaged], count: 1 }, 'the damaged page is named in an error at start');
  const base = `http://127.0.0.1:${srv.port}`;
  const alerts = await waitForAlerts(base, consumer, 1);
  t.match(alerts[0], { data: { deviceId, eventSeq: 1 } }, 'the readable page left over was matched');
  const dev = await TestDevice.connect(srv.port, token);
  t.teardown(() => dev.close());
  const hello = await dev.waitFor((m) => m.type === 'hello');
  t.equal(hello.lastSeq, 2, 'the device\'s seq comes from the readable page');
  dev.send(heartbeat(3));
  await dev.waitForAck(3, 5000);
  t.pass('and new events are stored and acknowledged');
});
