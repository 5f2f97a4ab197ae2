/**
 * The image work a worker thread does for one event: decode (with byte and pixel limits), hash
 * (PDQ with its 8 dihedral variants, blockhash, MD5/SHA-1/SHA-256/BLAKE3), look the hashes up in
 * every hash list, and seal the bytes as evidence only if something matched. Nothing of an image
 * that matched nothing leaves this function.
 */
import { performance } from 'node:perf_hooks';
import type { ListHit } from '../core/index.js';
import {
  HashIndex, blockhash, decodePixels, exactHashes, pdqDihedralHashes, PDQ_DIHEDRAL_ORDER, readImageHeader,
} from '../matchers/index.js';
import { sealEvidence } from '../store/index.js';
import type { CompiledList, ImageTask, WorkerResult } from './worker-messages.js';

export interface LiveHashList { list: CompiledList; index: HashIndex }

export async function analyseImage(task: ImageTask, lists: readonly LiveHashList[], evidenceKey: Uint8Array | undefined): Promise<WorkerResult> {
  const limits = { maxBytes: task.maxBytes, maxPixels: task.maxPixels };
  const t0 = performance.now();
  const header = await readImageHeader(task.bytes, limits);
  if (!header.ok) return { type: 'image', ok: false, code: header.code, message: header.message };
  // A libvips thread decodes while this thread computes the exact hashes, which need only the bytes.
  const decoding = decodePixels(task.bytes, header.header, limits);
  const e0 = performance.now();
  const exact = exactHashes(task.bytes);
  const e1 = performance.now();
  const decoded = await decoding;
  if (!decoded.ok) return { type: 'image', ok: false, code: decoded.code, message: decoded.message };
  const t1 = performance.now();
  const pdq = pdqDihedralHashes(decoded.image);
  const t2 = performance.now();
  const block = blockhash(decoded.image);
  const t3 = performance.now();
  const hits: ListHit[] = [];
  const query = {
    pdq: PDQ_DIHEDRAL_ORDER.map((name) => pdq.hashes[name]), pdqQuality: pdq.quality, blockhash: block, ...exact,
  };
  for (const { list, index } of lists) {
    for (const m of index.match(query)) {
      hits.push({ list: list.name, version: list.version, entry: m.entry, distance: m.distance, threshold: m.threshold, hashType: m.hashType });
    }
  }
  const t4 = performance.now();
  const us = (a: number, b: number): number => Math.round((b - a) * 1000);
  // decode: the wait for pixels, exact hashing overlapped with it excluded; exact: its own time.
  const timings = { decode: us(t0, t1) - us(e0, e1), pdq: us(t1, t2), blockhash: us(t2, t3), exact: us(e0, e1), lookup: us(t3, t4) };
  if (hits.length === 0) return { type: 'image', ok: true, hits, quality: pdq.quality, timings };
  if (!evidenceKey) throw new Error('an image matched but the worker has no evidence key');
  const evidence = sealEvidence(evidenceKey, task.deviceId, task.seq, task.bytes, decoded.format);
  return { type: 'image', ok: true, hits, evidence, quality: pdq.quality, timings };
}
