/**
 * A check of LMDB's data file before it is opened. LMDB maps the file into memory and follows page numbers
 * into it; a file cut short (a copy or a restore that stopped part-way, a disk that filled while copying)
 * has pages missing at its end, and reading one kills the process with SIGBUS, with no message. This reads
 * the file with ordinary reads instead, which report a short file rather than fault, and says what is wrong.
 *
 * The layout read here is that of the LMDB inside lmdb-js (its `mdb.c`): a page header of 24 bytes (page
 * number, txnid, pad, flags, lower and upper bounds, or an overflow page's page count), two meta pages, and
 * B+trees of branch, leaf and overflow pages. Only what decides whether every page is there is read.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const MAGIC = 0xbeefc0de;
const HEADER = 24;
const META_AT = HEADER;
/** Offsets in a meta: the free-space and main databases' records, the last page used, the txnid. */
const META_DBS = META_AT + 24;
const DB_SIZE = 48;
const DB_ROOT = 40;
const META_LAST_PAGE = META_DBS + 2 * DB_SIZE;
const META_TXNID = META_LAST_PAGE + 8;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_LEAF2 = 0x20;
const F_BIGDATA = 0x01;
const F_SUBDATA = 0x02;
const NO_PAGE = 0xffffffffffffffffn;

interface Meta { pageSize: number; lastPage: number; txnid: bigint; roots: number[] }

/**
 * What is wrong with the data file at `path`, or undefined when it is whole as far as LMDB will read it (or
 * absent or empty: LMDB makes it). `followTrees` follows the trees even when the file reaches past the last
 * page in use (tests).
 */
export function dataFileProblem(path: string, followTrees = false): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    const meta = newestMeta(fd);
    if (meta === undefined || typeof meta === 'string') return meta && `${path} is damaged: ${meta}; restore the data folder from a backup`;
    const pages = Math.floor(size / meta.pageSize);
    // The common case: every page up to the last one in use is in the file.
    if (pages > meta.lastPage && !followTrees) return undefined;
    // LMDB's own note: the file may end before the last page in use when only free pages are past its end. So
    // follow the trees, and complain only of a page they use.
    const missing = missingPage(fd, meta, pages);
    if (missing === undefined) return undefined;
    return `${path} is cut short: it has ${size} bytes (${pages} pages of ${meta.pageSize}) but its last commit `
      + `(transaction ${meta.txnid}) uses page ${missing}; restore the data folder from a backup`;
  } finally {
    closeSync(fd);
  }
}

/**
 * The newer of the two meta pages, or what is wrong with them; undefined when the first is not an LMDB meta
 * page at all, which LMDB itself refuses with a message ("not an LMDB file").
 */
function newestMeta(fd: number): Meta | string | undefined {
  const first = readAt(fd, 0, META_TXNID + 8);
  if (first.length < META_TXNID + 8 || first.readUInt32LE(META_AT) !== MAGIC) return undefined;
  const pageSize = first.readUInt32LE(META_DBS);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return `its page size (${pageSize}) is not one LMDB writes`;
  let best: Meta | undefined;
  for (const page of [first, readAt(fd, pageSize, META_TXNID + 8)]) {
    if (page.length < META_TXNID + 8 || page.readUInt32LE(META_AT) !== MAGIC) continue;
    const txnid = page.readBigUInt64LE(META_TXNID);
    if (best && txnid <= best.txnid) continue;
    const roots: number[] = [];
    for (let d = 0; d < 2; d++) {
      const root = page.readBigUInt64LE(META_DBS + d * DB_SIZE + DB_ROOT);
      if (root !== NO_PAGE) roots.push(Number(root));
    }
    best = { pageSize, lastPage: Number(page.readBigUInt64LE(META_LAST_PAGE)), txnid, roots };
  }
  return best ?? 'neither of its meta pages is whole';
}

/**
 * The first page that the trees of `meta` use and that is not among the file's `pages`, or undefined. Reads
 * branch and leaf pages (not overflow pages, whose extent is in their first page's header).
 */
function missingPage(fd: number, meta: Meta, pages: number): number | undefined {
  const { pageSize } = meta;
  const stack = [...meta.roots];
  const seen = new Set<number>();
  const header = Buffer.alloc(HEADER);
  while (stack.length > 0) {
    const pgno = stack.pop()!;
    if (pgno >= pages) return pgno;
    if (seen.has(pgno)) continue;
    seen.add(pgno);
    const page = readAt(fd, pgno * pageSize, pageSize);
    if (page.length < pageSize) return pgno;
    const flags = page.readUInt16LE(18);
    if ((flags & (P_BRANCH | P_LEAF)) === 0 || flags & P_LEAF2) continue;
    const count = page.readUInt16LE(20) >> 1;
    for (let k = 0; k < count; k++) {
      const node = page.readUInt16LE(HEADER + 2 * k) + HEADER;
      if (node + 8 > pageSize) continue;
      const lo = page.readUInt16LE(node);
      const hi = page.readUInt16LE(node + 2);
      const nodeFlags = page.readUInt16LE(node + 4);
      if (flags & P_BRANCH) {
        stack.push(lo + hi * 0x10000 + nodeFlags * 0x100000000);
        continue;
      }
      const data = node + 8 + page.readUInt16LE(node + 6);
      if (nodeFlags & F_BIGDATA) {
        if (data + 8 > pageSize) continue;
        const first = Number(page.readBigUInt64LE(data));
        if (first >= pages) return first;
        readInto(fd, header, first * pageSize);
        const last = first + header.readUInt32LE(20) - 1;
        if (last >= pages) return last;
      } else if (nodeFlags & F_SUBDATA && data + DB_SIZE <= pageSize) {
        // A named database's record, or a key's duplicates kept as a tree of their own.
        const root = page.readBigUInt64LE(data + DB_ROOT);
        if (root !== NO_PAGE) stack.push(Number(root));
      }
    }
  }
  return undefined;
}

function readAt(fd: number, at: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, at);
  return buf.subarray(0, n);
}

function readInto(fd: number, buf: Buffer, at: number): void {
  buf.fill(0);
  readSync(fd, buf, 0, buf.length, at);
}
