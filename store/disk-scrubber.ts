/**
 * Makes deleted evidence really gone from disk. LMDB is copy-on-write: deleting a record, or first
 * overwriting it with zeros in a later transaction, only writes new pages and puts the old ones on
 * the free list; their bytes stay in data.mdb until a later write happens to reuse them. The sealed
 * image is also still in the free pages the journal entry it came in once used.
 *
 * So after the records are deleted, the scrubber looks for every copy of the ciphertext that is left
 * in data.mdb and overwrites it with zeros:
 * 1. Scan (no lock held, yielding between chunks): a rolling hash over the file finds every place
 *    where a 32-byte window sampled every 16 bytes of a secret occurs; a surviving fragment of 47
 *    bytes or more is therefore always found, wherever it lies.
 * 2. Zero (inside an LMDB write transaction, so that no writer can reuse a page meanwhile): each
 *    candidate range is read again and only runs of 16 or more bytes still equal to the secret are
 *    overwritten, then the file is synced. Only ciphertext is ever scrubbed: it is unique (random IV),
 *    so no live record can hold the same bytes, and nothing live is ever touched.
 */
import { closeSync, fdatasyncSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Databases } from './database.js';

const WINDOW = 32;
const STRIDE = 16;
const MIN_RUN = 16;
const CHUNK = 8 * 1024 * 1024;
const BASE = 0x01000193;
const BITS = 24;

export interface ScrubResult { copies: number; bytes: number }

/** BASE^(WINDOW-1) mod 2^32, to take the outgoing byte out of the rolling hash. */
const OUT_FACTOR = (() => {
  let f = 1;
  for (let i = 0; i < WINDOW - 1; i++) f = Math.imul(f, BASE);
  return f;
})();

function windowHash(b: Uint8Array, at: number): number {
  let h = 0;
  for (let i = 0; i < WINDOW; i++) h = (Math.imul(h, BASE) + (b[at + i] as number)) | 0;
  return h;
}

interface Sample { secret: number; offset: number }

/** Where in the file each secret may have a copy: secret index -> set of file offsets of its byte 0. */
async function findCandidates(file: string, secrets: readonly Uint8Array[]): Promise<Map<number, Set<number>>> {
  const bitset = new Uint32Array(1 << (BITS - 5));
  const samples = new Map<number, Sample[]>();
  secrets.forEach((s, secret) => {
    if (s.length < WINDOW) return;
    const offsets: number[] = [];
    for (let o = 0; o + WINDOW <= s.length; o += STRIDE) offsets.push(o);
    if (offsets[offsets.length - 1] !== s.length - WINDOW) offsets.push(s.length - WINDOW);
    for (const offset of offsets) {
      const h = windowHash(s, offset);
      const idx = h >>> (32 - BITS);
      bitset[idx >>> 5] = (bitset[idx >>> 5] as number) | (1 << (idx & 31));
      const list = samples.get(h);
      if (list) list.push({ secret, offset }); else samples.set(h, [{ secret, offset }]);
    }
  });
  const found = new Map<number, Set<number>>();
  if (samples.size === 0) return found;
  const fh = await openFile(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(CHUNK + WINDOW);
    let carry = 0; // bytes of the previous chunk kept at the front of buf
    for (let pos = 0; pos < size;) {
      const { bytesRead } = await fh.read(buf, carry, CHUNK, pos);
      if (bytesRead === 0) break;
      const len = carry + bytesRead;
      const base = pos - carry; // file offset of buf[0]
      if (len >= WINDOW) {
        let h = windowHash(buf, 0);
        for (let i = 0; ; i++) {
          const idx = h >>> (32 - BITS);
          if ((bitset[idx >>> 5] as number) & (1 << (idx & 31))) {
            for (const s of samples.get(h) ?? []) {
              const secret = secrets[s.secret] as Uint8Array;
              if (buf.compare(secret, s.offset, s.offset + WINDOW, i, i + WINDOW) !== 0) continue;
              const start = base + i - s.offset;
              let set = found.get(s.secret);
              if (!set) found.set(s.secret, (set = new Set()));
              set.add(start);
            }
          }
          if (i + WINDOW >= len) break;
          h = (Math.imul(h - Math.imul(buf[i] as number, OUT_FACTOR), BASE) + (buf[i + WINDOW] as number)) | 0;
        }
      }
      pos += bytesRead;
      carry = Math.min(WINDOW - 1, len);
      buf.copy(buf, 0, len - carry, len);
      await new Promise((r) => setImmediate(r)); // let ingest run between chunks
    }
  } finally {
    await fh.close();
  }
  return found;
}

/** Overwrites with zeros every run of MIN_RUN or more bytes in [start, start+len) still equal to the secret. */
function zeroMatchingRuns(fd: number, fileSize: number, start: number, secret: Uint8Array): number {
  const from = Math.max(0, start);
  const to = Math.min(fileSize, start + secret.length);
  if (to <= from) return 0;
  const onDisk = Buffer.alloc(to - from);
  readSync(fd, onDisk, 0, onDisk.length, from);
  let zeroed = 0;
  let run = -1;
  const flush = (end: number): void => {
    if (run >= 0 && end - run >= MIN_RUN) {
      writeSync(fd, Buffer.alloc(end - run), 0, end - run, from + run);
      zeroed += end - run;
    }
    run = -1;
  };
  for (let i = 0; i < onDisk.length; i++) {
    const same = onDisk[i] === secret[from + i - start];
    if (same && run < 0) run = i;
    else if (!same) flush(i);
  }
  flush(onDisk.length);
  return zeroed;
}

/**
 * Finds and zeroes every copy of the given secrets (sealed evidence ciphertexts whose records are
 * already deleted) left in the environment's data file.
 */
export async function scrubDeleted(db: Databases, secrets: readonly Uint8Array[]): Promise<ScrubResult> {
  if (secrets.length === 0) return { copies: 0, bytes: 0 };
  const file = join(db.dir, 'data.mdb');
  const candidates = await findCandidates(file, secrets);
  if (candidates.size === 0) return { copies: 0, bytes: 0 };
  return db.root.transaction(() => {
    const fd = openSync(file, 'r+');
    try {
      const size = fstatSync(fd).size;
      let copies = 0;
      let bytes = 0;
      for (const [index, starts] of candidates) {
        for (const start of starts) {
          const n = zeroMatchingRuns(fd, size, start, secrets[index] as Uint8Array);
          if (n > 0) { copies++; bytes += n }
        }
      }
      if (bytes > 0) fdatasyncSync(fd);
      return { copies, bytes };
    } finally {
      closeSync(fd);
    }
  });
}
