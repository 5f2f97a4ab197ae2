/** The thread of `checkKeywordsCompile`: compiles the terms it is given and says how that went. */
import { parentPort, workerData } from 'node:worker_threads';
import { VigilError } from '../core/index.js';
import { KeywordIndex } from '../matchers/index.js';

try {
  KeywordIndex.build(workerData as string[]);
  parentPort!.postMessage({ ok: true });
} catch (err) {
  parentPort!.postMessage(err instanceof VigilError ? { ok: false, code: err.code, message: err.message } : { ok: false, message: String(err) });
}
