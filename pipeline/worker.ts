/**
 * Worker thread entry (piscina). Thin on purpose: decode the task, call pure matchers, return plain
 * results. Compiled indexes arrive as SharedArrayBuffers; a worker wraps them once per snapshot and
 * keeps the wrappers until the snapshot changes, so switching lists costs no rebuild here.
 */
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import sharp from 'sharp';
import { AppIndex, HashIndex, KeywordIndex, WebIndex } from '../matchers/index.js';
import { openDatabases, ListStore, type Databases } from '../store/index.js';
import type { CompiledList, IndexSnapshot, MatchHit, MatchInput, WorkerResult, WorkerTask } from './worker-messages.js';
import { buildIndex } from './index-builder.js';
import { analyseImage, type LiveHashList } from './image-task.js';

// Every device image is new: libvips' operation cache would only hold memory. One libvips thread
// per worker, since the pool already runs one worker per core.
sharp.cache(false);
sharp.concurrency(1);

type Live =
  | { list: CompiledList; index: KeywordIndex | WebIndex | AppIndex; hashes?: undefined }
  | { list: CompiledList; index: HashIndex; hashes: true };

const evidenceKeyHex = (Piscina.workerData as { evidenceKey?: string } | undefined)?.evidenceKey;
const evidenceKey = evidenceKeyHex ? Buffer.from(evidenceKeyHex, 'hex') : undefined;

let liveId = -1;
let live: Live[] = [];
const dbs = new Map<string, Databases>();

function wrap(snapshot: IndexSnapshot): Live[] {
  if (snapshot.id === liveId) return live;
  for (const l of live) l.index.dispose();
  live = snapshot.lists.map((list): Live => {
    const s = list.index;
    switch (s.kind) {
      case 'keywords': return { list, index: KeywordIndex.fromShared(s) };
      case 'web': return { list, index: WebIndex.fromShared(s) };
      case 'apps': return { list, index: AppIndex.fromShared(s) };
      case 'hashes': return { list, index: HashIndex.fromShared(s), hashes: true };
    }
  });
  liveId = snapshot.id;
  return live;
}

function match(snapshot: IndexSnapshot, inputs: MatchInput[]): MatchHit[] {
  const hits: MatchHit[] = [];
  const lists = wrap(snapshot);
  for (const input of inputs) {
    for (const { list, index } of lists) {
      if (input.type === 'text' && index instanceof KeywordIndex) {
        for (const m of index.match(input.text)) {
          hits.push({ i: input.i, list: list.name, version: list.version, entry: m.entry, distance: m.distance, threshold: m.threshold, start: m.start, end: m.end });
        }
        continue;
      }
      let found;
      if (input.type === 'dns' && index instanceof WebIndex) found = index.matchDomain(input.domain);
      else if (input.type === 'url' && index instanceof WebIndex) found = index.matchUrl(input.url);
      else if (input.type === 'app' && index instanceof AppIndex) found = index.match(input.package);
      if (!found) continue;
      for (const m of found) {
        hits.push({ i: input.i, list: list.name, version: list.version, entry: m.entry, distance: m.distance, threshold: m.threshold });
      }
    }
  }
  return hits;
}

export default async function run(task: WorkerTask): Promise<WorkerResult> {
  const t0 = performance.now();
  const micros = (): number => Math.round((performance.now() - t0) * 1000);
  switch (task.type) {
    case 'match':
      return { type: 'match', hits: match(task.snapshot, task.inputs), micros: micros() };
    case 'image': {
      const hashLists = wrap(task.snapshot).filter((l): l is LiveHashList & Live => l.hashes === true);
      return analyseImage(task, hashLists, evidenceKey);
    }
    case 'build': {
      let db = dbs.get(task.dataDir);
      if (!db) { db = openDatabases(task.dataDir); dbs.set(task.dataDir, db); }
      const entries = new ListStore(db).entries(task.name, task.version);
      const index = buildIndex(task.kind, entries);
      return { type: 'build', list: { name: task.name, kind: task.kind, version: task.version, index }, micros: micros() };
    }
  }
}
