/**
 * Worker thread entry (piscina). Thin on purpose: decode the task, call pure matchers, return plain
 * results. Compiled indexes arrive as SharedArrayBuffers; a worker wraps them once per snapshot and
 * keeps the wrappers until the snapshot changes, so switching lists costs no rebuild here.
 */
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import sharp from 'sharp';
import { AppIndex, HashIndex, KeywordIndex, WebIndex } from '../matchers/index.js';
import { decodeRecord, openDatabases, ListStore, type Databases } from '../store/index.js';
import type { CompiledList, IndexSnapshot, MatchHit, PageEntry, WorkerResult, WorkerTask } from './worker-messages.js';
import { hasRules } from './alert-builder.js';
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

/** The part of an event a matcher needs; `i` is its position in the batch. */
type MatchInput =
  | { i: number; type: 'text'; text: string }
  | { i: number; type: 'dns'; domain: string }
  | { i: number; type: 'url'; url: string }
  | { i: number; type: 'app'; package: string };

/**
 * Decodes a batch of journal pages and matches their events. Returns the hits, and the entries the pipeline needs
 * to make alerts (`PageEntry`); the rest of the events stay here, so the pipeline holds no object for them.
 */
function matchPages(snapshot: IndexSnapshot, pages: readonly Uint8Array[]): { hits: MatchHit[]; entries: PageEntry[]; events: number } {
  const inputs: MatchInput[] = [];
  const all: PageEntry[] = [];
  for (const page of pages) {
    for (const { deviceId, event: e } of decodeRecord(page)) {
      const i = all.length;
      all.push({ i, deviceId, event: e });
      switch (e.type) {
        case 'text': inputs.push({ i, type: 'text', text: e.text }); break;
        case 'dns': inputs.push({ i, type: 'dns', domain: e.domain }); break;
        case 'url': inputs.push({ i, type: 'url', url: e.url }); break;
        case 'app': inputs.push({ i, type: 'app', package: e.package }); break;
      }
    }
  }
  const hits = inputs.length > 0 && snapshot.lists.length > 0 ? match(snapshot, inputs) : [];
  const hit = new Set(hits.map((h) => h.i));
  // In batch order, each once (an event can have hits from several lists).
  const entries = all.filter(({ i, event: e }) => hit.has(i) || hasRules(e) || (e.type === 'image' && e.hits.length > 0));
  return { hits, entries, events: all.length };
}

function match(snapshot: IndexSnapshot, inputs: MatchInput[]): MatchHit[] {
  const hits: MatchHit[] = [];
  const lists = wrap(snapshot);
  const domainHits = matchDomains(lists, inputs);
  for (const [position, input] of inputs.entries()) {
    for (const [l, { list, index }] of lists.entries()) {
      if (input.type === 'text' && index instanceof KeywordIndex) {
        for (const m of index.match(input.text)) {
          hits.push({ i: input.i, list: list.name, version: list.version, entry: m.entry, distance: m.distance, threshold: m.threshold, start: m.start, end: m.end });
        }
        continue;
      }
      if (input.type === 'dns' && index instanceof WebIndex) {
        for (const entry of domainHits.get(l)?.get(position) ?? []) {
          hits.push({ i: input.i, list: list.name, version: list.version, entry, distance: 0, threshold: 0 });
        }
        continue;
      }
      let found;
      if (input.type === 'url' && index instanceof WebIndex) found = index.matchUrl(input.url);
      else if (input.type === 'app' && index instanceof AppIndex) found = index.match(input.package);
      if (!found) continue;
      for (const m of found) {
        hits.push({ i: input.i, list: list.name, version: list.version, entry: m.entry, distance: m.distance, threshold: m.threshold });
      }
    }
  }
  return hits;
}

/**
 * The `dns` events of a batch, matched against each web list together (`WebIndex.matchDomains`, which overlaps
 * the cache misses of neighbouring lookups): per list (by position), the entries each input (by position) matched.
 * Only inputs that matched something appear.
 */
function matchDomains(lists: readonly Live[], inputs: readonly MatchInput[]): Map<number, Map<number, number[]>> {
  const byList = new Map<number, Map<number, number[]>>();
  const positions: number[] = [];
  const domains: string[] = [];
  for (const [position, input] of inputs.entries()) {
    if (input.type !== 'dns') continue;
    positions.push(position);
    domains.push(input.domain);
  }
  if (domains.length === 0) return byList;
  for (const [l, { index }] of lists.entries()) {
    if (!(index instanceof WebIndex)) continue;
    const found = new Map<number, number[]>();
    index.matchDomains(domains, (k, entry) => {
      const position = positions[k] ?? -1;
      const entries = found.get(position);
      if (entries) entries.push(entry);
      else found.set(position, [entry]);
    });
    byList.set(l, found);
  }
  return byList;
}

export default async function run(task: WorkerTask): Promise<WorkerResult> {
  const t0 = performance.now();
  const micros = (): number => Math.round((performance.now() - t0) * 1000);
  switch (task.type) {
    case 'pages':
      return { type: 'pages', ...matchPages(task.snapshot, task.pages), micros: micros() };
    case 'image': {
      const hashLists = wrap(task.snapshot).filter((l): l is LiveHashList & Live => l.hashes === true);
      return analyseImage(task, hashLists, evidenceKey);
    }
    case 'build': {
      let db = dbs.get(task.dataDir);
      if (!db) { db = openDatabases(task.dataDir); dbs.set(task.dataDir, db); }
      let index;
      try {
        index = buildIndex(task.kind, new ListStore(db).values(task.name, task.version));
      } finally {
        // Let the snapshot go. Kept until the next build, it would stop LMDB reusing any page freed after it, and
        // the data file grew by the journal's every write (2.2 MB/s at 400 events/s, measured in review).
        db.root.resetReadTxn();
      }
      return { type: 'build', list: { name: task.name, kind: task.kind, version: task.version, index }, micros: micros() };
    }
  }
}
