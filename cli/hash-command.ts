/**
 * `vigil hash [--dihedral | --all] FILE...` (PROTOCOL.md §6): a drop-in for Meta's `pdq-photo-hasher`.
 * Its output lines are the reference tool's, byte for byte: `hash,quality,filename`, and with `--dihedral`
 * the line of its `--pdqdih-across`. `--all` adds every hash Vigil matches on, one JSON object a line.
 * Like the reference tool with `-k`, a bad file is reported on stderr and the others are still hashed.
 */
import { readFile, stat } from 'node:fs/promises';
import { blockhash } from '../matchers/blockhash/index.js';
import { exactHashes } from '../matchers/exact/index.js';
import { decodeImage, decodePixels, DEFAULT_DECODE_LIMITS, readImageHeader, type DecodeResult, type DecodedImage } from '../matchers/image/index.js';
import { PDQ_DIHEDRAL_ORDER, pdqDihedralHashes, pdqHash, pdqToHex } from '../matchers/pdq/index.js';

export const HASH_USAGE = `Usage: vigil hash [--dihedral | --all] [--as-stored] FILE...

Hashes image files (JPEG, PNG, WebP, GIF first frame, AVIF; HEIC where the installed libheif decodes
HEVC) as Meta's pdq-photo-hasher does, one line per file:
  (no option)   pdqhash,quality,filename
  --dihedral    the 8 dihedral PDQ hashes (original, rot90, rot180, rot270, flipx, flipy,
                flip+1, flip-1), then quality, then filename: pdq-photo-hasher --pdqdih-across
  --all         one JSON object per line with every hash: pdq and quality, the 8 dihedral
                hashes, blockhash, md5, sha1, sha256, blake3
  --as-stored   hash the pixels as stored, ignoring EXIF orientation, as pdq-photo-hasher does: its
                hashes for a photo stored turned (without it, such a photo is hashed upright, as the
                server hashes it; the server matches all 8 dihedral hashes, so either form of a
                listed hash matches)

Options:
  --data DIR    accepted as by every vigil command; hashing does not use it
  -h, --help    print this help

EXIF orientation is applied before hashing (not with --as-stored). As in the reference tool, an image larger than 512 pixels
on a side is squashed to 512x512 (nearest neighbour) before PDQ. A PDQ quality below 50 means the hash
is not used for perceptual matching. An image over 50 megapixels (up to 250) is hashed from a decode
shrunk to 50, as the server hashes it, if the server would take it (docs/protocol.md, IMAGE_TOO_LARGE).
As the server by default, a decode still running after 5 s is stopped and the file reported as undecodable.
A file that cannot be read or decoded is reported on stderr and the others are still hashed; the exit
code is then 1. Wrong arguments exit with 2.`;

/** Exit codes: all hashed; some file failed; wrong arguments. */
export const HASH_EXIT = Object.freeze({ OK: 0, FILE_FAILED: 1, USAGE: 2 });

type Mode = 'pdq' | 'dihedral' | 'all';

type ParsedArgs =
  | { kind: 'help' }
  | { kind: 'usage-error'; message: string }
  | { kind: 'run'; mode: Mode; files: string[]; asStored: boolean };

const writeStderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * Runs `vigil hash` with the arguments after `hash`. Result lines go to `out`; diagnostics go to `err`
 * (stderr by default). Resolves to the exit code; never rejects for a bad file.
 */
export async function runHash(
  args: string[],
  out: (line: string) => void,
  err: (line: string) => void = writeStderr,
): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed.kind === 'help') {
    out(HASH_USAGE);
    return HASH_EXIT.OK;
  }
  if (parsed.kind === 'usage-error') {
    err(`vigil hash: ${parsed.message}`);
    err('Run "vigil hash --help" for usage.');
    return HASH_EXIT.USAGE;
  }

  let failed = false;
  for (const file of parsed.files) {
    const line = await hashFile(file, parsed.mode, parsed.asStored);
    if (line.ok) {
      out(line.text);
    } else {
      failed = true;
      err(`vigil hash: ${line.text}`);
    }
  }
  return failed ? HASH_EXIT.FILE_FAILED : HASH_EXIT.OK;
}

function parseArgs(args: string[]): ParsedArgs {
  let mode: Mode = 'pdq';
  let asStored = false;
  const files: string[] = [];
  let optionsEnded = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (optionsEnded || !a.startsWith('-') || a === '-') {
      files.push(a);
      continue;
    }
    switch (a) {
      case '--':
        optionsEnded = true;
        break;
      case '-h':
      case '--help':
        return { kind: 'help' };
      case '--dihedral':
      case '--all': {
        const wanted: Mode = a === '--all' ? 'all' : 'dihedral';
        if (mode !== 'pdq' && mode !== wanted) return { kind: 'usage-error', message: '--dihedral and --all cannot be combined' };
        mode = wanted;
        break;
      }
      case '--as-stored':
        asStored = true;
        break;
      case '--data':
        if (i + 1 >= args.length) return { kind: 'usage-error', message: '--data needs a folder' };
        i++;
        break;
      default:
        return { kind: 'usage-error', message: `unknown option ${a}` };
    }
  }
  if (files.length === 0) return { kind: 'usage-error', message: 'no image files given' };
  return { kind: 'run', mode, files, asStored };
}

type FileLine = { ok: true; text: string } | { ok: false; text: string };

/** Decodes as the server does, but leaves the pixels as stored whatever the EXIF orientation says (`--as-stored`). */
async function decodeAsStored(bytes: Uint8Array): Promise<DecodeResult> {
  const header = await readImageHeader(bytes, DEFAULT_DECODE_LIMITS);
  if (!header.ok) return header;
  return decodePixels(bytes, { ...header.header, orientation: 1, transposed: false }, DEFAULT_DECODE_LIMITS);
}

async function hashFile(file: string, mode: Mode, asStored: boolean): Promise<FileLine> {
  const name = JSON.stringify(file);
  let bytes: Uint8Array;
  try {
    const info = await stat(file);
    if (!info.isFile()) return { ok: false, text: `cannot read ${name}: not a regular file` };
    if (info.size > DEFAULT_DECODE_LIMITS.maxBytes) {
      return { ok: false, text: `could not decode ${name}: file of ${info.size} bytes exceeds the limit of ${DEFAULT_DECODE_LIMITS.maxBytes} (IMAGE_TOO_LARGE)` };
    }
    bytes = await readFile(file);
  } catch (cause) {
    const e = cause as NodeJS.ErrnoException;
    // Node's message is "CODE: description, syscall 'path'"; keep the description, name the code.
    const description = /^[A-Z]+: ([^,]+)/.exec(e.message)?.[1] ?? e.message;
    return { ok: false, text: `cannot read ${name}: ${description} (${e.code ?? 'EIO'})` };
  }

  const decoded = asStored ? await decodeAsStored(bytes) : await decodeImage(bytes, DEFAULT_DECODE_LIMITS);
  if (!decoded.ok) return { ok: false, text: `could not decode ${name}: ${decoded.message} (${decoded.code})` };
  return { ok: true, text: formatLine(file, mode, decoded.image, bytes) };
}

function formatLine(file: string, mode: Mode, image: DecodedImage, bytes: Uint8Array): string {
  if (mode === 'pdq') {
    const { hash, quality } = pdqHash(image);
    return `${pdqToHex(hash)},${quality},${file}`;
  }
  const dihedral = pdqDihedralHashes(image);
  if (mode === 'dihedral') {
    const hashes = PDQ_DIHEDRAL_ORDER.map((n) => pdqToHex(dihedral.hashes[n]));
    return `${hashes.join(',')},${dihedral.quality},${file}`;
  }
  const single = pdqHash(image);
  const record = {
    file,
    width: image.width,
    height: image.height,
    pdq: pdqToHex(single.hash),
    quality: single.quality,
    dihedral: Object.fromEntries(PDQ_DIHEDRAL_ORDER.map((n) => [n, pdqToHex(dihedral.hashes[n])])),
    blockhash: blockhash(image),
    ...exactHashes(bytes),
  };
  return JSON.stringify(record);
}
