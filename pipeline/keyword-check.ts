/**
 * The import's check that a keyword list compiles, in a thread of its own. Compiling takes about a second for every
 * ten thousand terms; on the server's main thread (a list uploaded over HTTP) that held up ingest, acks, heartbeat
 * checks and every other request for as long. The server compiles lists in its builder thread for the same reason.
 */
import { Worker } from 'node:worker_threads';
import { VigilError, type VigilErrorCode } from '../core/index.js';

type CheckResult = { ok: true } | { ok: false; code?: string; message: string };

/** Resolves when `terms` compile as the server will compile them; rejects as `KeywordIndex.build` would throw. */
export function checkKeywordsCompile(terms: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./keyword-check-worker.js', import.meta.url), { workerData: terms });
    let result: CheckResult | undefined;
    worker.once('message', (m: CheckResult) => { result = m });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result?.ok) resolve();
      else if (result) reject(result.code === undefined ? new Error(result.message) : new VigilError(result.code as VigilErrorCode, result.message));
      else reject(new Error(`the keyword compile check ended with exit code ${code}`));
    });
  });
}
