/**
 * The image work a worker thread does for one event: decode (with byte and pixel limits), hash
 * (PDQ with its 8 dihedral variants, blockhash, MD5/SHA-1/SHA-256/BLAKE3), look the hashes up in
 * every hash list, and seal the bytes as evidence only if something matched. Nothing of an image
 * that matched nothing leaves this function.
 *
 * An image the decoder refuses is still looked up before it is refused: by its exact hashes, which need
 * only the bytes, and, when its header was readable, by the perceptual hashes of a lenient decode. Two stray
 * bytes before a JPEG marker, or its end marker cut off, leave an image every viewer shows but that libvips
 * refuses strictly; without this, such an edit would hide a listed image from every list. Refused as before
 * when nothing matches.
 *
 * An image over 50 MP (a 108 or 200 MP phone photo) is hashed perceptually from a decode shrunk to 50 MP; its exact
 * hashes, and its evidence, are the bytes as sent.
 *
 * Decoding one image may take `maxDecodeSeconds` (ingest.maxImageDecodeSeconds), the strict and the lenient decode
 * together (up to a second more: sharp counts whole seconds); a decode stopped at that is a refusal like any other
 * (IMAGE_UNDECODABLE, after the exact look-up).
 */
import { performance } from 'node:perf_hooks';
import type { ListHit } from '../core/index.js';
import {
  FULL_DECODE_PIXELS, HashIndex, blockhash, decodePixels, exactHashes, pdqDihedralHashes, PDQ_DIHEDRAL_ORDER, readImageHeader,
  type DecodedImage, type DecodeFailure, type HashQuery,
} from '../matchers/index.js';
import { sealEvidence } from '../store/index.js';
import type { CompiledList, ImageTask, WorkerResult } from './worker-messages.js';

export interface LiveHashList { list: CompiledList; index: HashIndex }

/** The `format` of evidence whose bytes no decoder recognised (matched by an exact hash alone). */
const UNKNOWN_FORMAT = 'octet-stream';

export async function analyseImage(task: ImageTask, lists: readonly LiveHashList[], evidenceKey: Uint8Array | undefined): Promise<WorkerResult> {
  const limits = { maxBytes: task.maxBytes, maxPixels: task.maxPixels, fullDecodePixels: FULL_DECODE_PIXELS, maxDecodeSeconds: task.maxDecodeSeconds };
  const t0 = performance.now();
  const header = await readImageHeader(task.bytes, limits);
  // Over a limit (ingest.maxImagePixels, or 50 MP for a format that cannot be decoded shrunk): refused whatever it is,
  // as docs/protocol.md says; only what the decoder cannot read (IMAGE_UNDECODABLE) is looked up first.
  if (!header.ok && header.code === 'IMAGE_TOO_LARGE') return { type: 'image', ok: false, code: header.code, message: header.message };
  // No bytes, no image: refused before any look-up. The empty file's MD5 is in many real hash sets, and would make
  // every empty payload an alert with evidence.
  if (task.bytes.byteLength === 0) return { type: 'image', ok: false, code: 'IMAGE_UNDECODABLE', message: 'empty payload (0 bytes)' };
  // A libvips thread decodes while this thread computes the exact hashes, which need only the bytes.
  const decodeStarted = performance.now();
  const decoding = header.ok ? decodePixels(task.bytes, header.header, limits) : undefined;
  const e0 = performance.now();
  const exact = exactHashes(task.bytes);
  const e1 = performance.now();
  const decoded = decoding ? await decoding : undefined;
  let refusal: DecodeFailure | undefined;
  let image: DecodedImage | undefined;
  let timedOut = false;
  if (!header.ok) refusal = header;
  else if (decoded && !decoded.ok) {
    refusal = decoded;
    // One time budget for both decodes, or a damaged image could take it twice: the lenient decode gets what the strict
    // one left, rounded up to the whole seconds sharp counts (so both take at most a second more than the budget),
    // and none when the strict one was stopped.
    const left = task.maxDecodeSeconds - (performance.now() - decodeStarted) / 1000;
    if (!decoded.timedOut && left > 0) {
      const lenient = await decodePixels(task.bytes, header.header, { ...limits, maxDecodeSeconds: Math.ceil(left) }, true);
      if (lenient.ok) image = lenient.image;
      else if (lenient.timedOut) timedOut = true;
    }
  } else if (decoded?.ok) image = decoded.image;
  if (refusal?.timedOut) timedOut = true;
  const t1 = performance.now();
  const query: HashQuery = { ...exact };
  let quality = 0;
  if (image) {
    const pdq = pdqDihedralHashes(image);
    query.pdq = PDQ_DIHEDRAL_ORDER.map((name) => pdq.hashes[name]);
    query.pdqQuality = quality = pdq.quality;
  }
  const t2 = performance.now();
  if (image) query.blockhash = blockhash(image);
  const t3 = performance.now();
  const hits: ListHit[] = [];
  for (const { list, index } of lists) {
    for (const m of index.match(query)) {
      hits.push({ list: list.name, version: list.version, entry: m.entry, distance: m.distance, threshold: m.threshold, hashType: m.hashType });
    }
  }
  const t4 = performance.now();
  const stopped = timedOut ? { timedOut: true as const } : {};
  if (refusal && hits.length === 0) return { type: 'image', ok: false, code: refusal.code, message: refusal.message, ...stopped };
  const us = (a: number, b: number): number => Math.round((b - a) * 1000);
  // decode: the wait for pixels, exact hashing overlapped with it excluded; exact: its own time.
  const timings = { decode: us(t0, t1) - us(e0, e1), pdq: us(t1, t2), blockhash: us(t2, t3), exact: us(e0, e1), lookup: us(t3, t4) };
  if (hits.length === 0) return { type: 'image', ok: true, hits, quality, timings, ...stopped };
  if (!evidenceKey) throw new Error('an image matched but the worker has no evidence key');
  const format = header.ok ? header.header.format : UNKNOWN_FORMAT;
  const evidence = sealEvidence(evidenceKey, task.deviceId, task.seq, task.bytes, format);
  return { type: 'image', ok: true, hits, evidence, quality, timings, ...stopped };
}
