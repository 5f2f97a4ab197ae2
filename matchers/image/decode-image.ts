/**
 * Untrusted image bytes to RGB(A) pixels, with sharp (libvips). Every failure is a value, never a throw:
 * a device can send anything, and one bad image must not take a worker down.
 *
 * Order of checks, cheapest first, so that a decompression bomb is refused before any pixel is decoded:
 * byte count, then the header (format and dimensions, read by `metadata()` without decoding),
 * then the decode itself with `limitInputPixels` as a second guard. An image over `fullDecodePixels` (50 MP)
 * is decoded shrunk to fit within it, as its rows are read, so that no worker holds a full-size 200 MP photo.
 * The two steps are also exported apart (`readImageHeader`, `decodePixels`) so that a caller can do other work
 * while a libvips thread decodes.
 *
 * Measured (bench/README.md, "Screenshots through the pool"): sharp's options cost nothing measurable here.
 * `toColourspace`, `autoOrient`, `removeAlpha`, `sequentialRead` and `failOn` on or off change the CPU time
 * of decoding a 1080x2400 JPEG or PNG by less than run-to-run noise; the header read is about 0.2 ms.
 */
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp';
import { DEFAULT_MAX_IMAGE_DECODE_SECONDS } from '../../core/config.js';

/**
 * libvips decodes a format it cannot read sequentially (WebP, or any image read at random) into a temporary
 * file in TMPDIR instead of memory once the pixels pass its "disc threshold" (100 MB: a 35 MP RGB WebP,
 * within our limits). That would put the pixels of an image that matched nothing on disk, and a full /tmp
 * would refuse good images. A threshold past any image the pixel limit lets through keeps every decode in
 * memory. libvips reads it from the process environment once, at the first such decode; only the main
 * thread can set that environment (a worker's `process.env` is its own copy), so the worker pool calls this
 * too before its threads start.
 */
export function keepDecodesInMemory(): void {
  process.env.VIPS_DISC_THRESHOLD = '1000g';
}
keepDecodesInMemory();

/** Pixels after decoding: row-major, 8 bits a channel, sRGB, EXIF orientation applied. */
export interface DecodedImage {
  /** `width * height * channels` bytes, R G B (A) interleaved. */
  data: Uint8Array;
  width: number;
  height: number;
  /** 3 for opaque images; 4 when the image has an alpha channel (blockhash reads it, PDQ ignores it). */
  channels: 3 | 4;
}

/** How much one image may cost. `maxBytes` and `maxPixels` are checked before decoding. */
export interface DecodeLimits {
  /** Largest encoded payload accepted, in bytes. */
  maxBytes: number;
  /** Largest `width * height` of the (first frame of the) image accepted. */
  maxPixels: number;
  /**
   * Largest `width * height` decoded at full size. A larger image, up to `maxPixels`, is decoded shrunk to fit
   * within it, so that a worker never holds more pixels than this whatever the image's size.
   */
  fullDecodePixels: number;
  /**
   * Longest a decode may run, in whole seconds (sharp's `timeout`, 1 to 3600): libvips stops it at the first strip it
   * finishes past that, and the image is refused IMAGE_UNDECODABLE (`timedOut`). The clock is libvips' own, the time
   * since the decode started, so on one libvips thread it bounds CPU time too.
   */
  maxDecodeSeconds: number;
}

/**
 * 50 megapixels covers a 48 MP camera at full size, and its RGB decode (150 MB) is the most a worker should hold
 * for one image. Larger images are decoded shrunk to fit within it (`fullDecodePixels`): the hashes need no more
 * (PDQ samples 512x512 pixels of the image, blockhash averages 16x16 blocks), and only formats that libvips reads
 * row by row are accepted that large (`shrinkable`), so the full-size image never exists in memory.
 */
export const FULL_DECODE_PIXELS = 50_000_000;

/**
 * The longest side an image over `fullDecodePixels` may have to be decoded shrunk. The resize holds some rows of
 * the image at a time, in floating point, so its memory grows with the width of a row and not only with the pixels
 * kept: a PNG of 10000000x25 (250 MP, 0.7 MiB) took 8.3 GiB and 25 s of CPU to shrink, and the same as 16-bit RGBA
 * ran the machine out of memory; 100000x2500 took 1.3 GiB, 25x10000000 12 s. From 32768 a side down, a 250 MP image
 * costs what a 3:2 one does (a 16-bit RGBA PNG of 32768x7629, the worst, 593 MiB and 5.4 s; bench/README.md).
 * A 200 MP camera's 16384x12288 is well within it, and phone panoramas over 50 MP were refused before shrinking.
 */
export const MAX_SHRUNK_SIDE = 32_768;

/**
 * 32 MiB covers any phone photo or screenshot; 250 megapixels covers the 200 MP cameras of current phones
 * (16384x12288 is 201 MP) with room for a crop or a re-encode at another size. Images over 50 MP are decoded
 * shrunk; what the 250 MP limit then bounds is CPU time, measured in bench/README.md ("Images over 50 MP").
 */
export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxBytes: 32 * 1024 * 1024,
  maxPixels: 250_000_000,
  fullDecodePixels: FULL_DECODE_PIXELS,
  maxDecodeSeconds: DEFAULT_MAX_IMAGE_DECODE_SECONDS,
});

export type ImageDecodeErrorCode = 'IMAGE_UNDECODABLE' | 'IMAGE_TOO_LARGE';

/**
 * A refusal, with the code a device gets back. `timedOut`: the decode was stopped at `maxDecodeSeconds`
 * (IMAGE_UNDECODABLE), rather than refused for what the bytes hold.
 */
export interface DecodeFailure { ok: false; code: ImageDecodeErrorCode; message: string; timedOut?: true }

export type DecodeResult = { ok: true; image: DecodedImage; format: ImageFormat } | DecodeFailure;

/** Formats accepted from devices. HEIF covers HEIC and AVIF; HEIC decodes only where libheif has HEVC. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'heif';
const ACCEPTED_FORMATS: ReadonlySet<string> = new Set<ImageFormat>(['jpeg', 'png', 'webp', 'gif', 'heif']);

/** What the header says, once it has passed the format and size checks. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  hasAlpha: boolean;
  /** EXIF orientation, 1 (shown as stored) to 8. */
  orientation: number;
  /** EXIF orientation 5 to 8: shown turned a quarter, its width and height swapped. */
  transposed: boolean;
  /** A progressive JPEG or an interlaced PNG. */
  progressive: boolean;
  /** An animation (a WebP with an animation header, even of one frame): libvips builds its frames at full size. */
  animated: boolean;
  /** Stored as CMYK (or YCCK): converted to sRGB at full size, before any shrink. */
  cmyk: boolean;
}

export type HeaderResult = { ok: true; header: ImageHeader } | DecodeFailure;

const fail = (code: ImageDecodeErrorCode, message: string): DecodeFailure => ({ ok: false, code, message });

const SHARP_OPTIONS: Readonly<SharpOptions> = Object.freeze({ failOn: 'warning', ignoreIcc: true, pages: 1, page: 0 });

/**
 * Decodes one image: JPEG, PNG, WebP, GIF (first frame) or HEIF, EXIF orientation applied, ICC profile
 * ignored (as Meta's reference hasher and most others do, so that hashes agree), converted to 8-bit sRGB.
 * Full resolution is kept up to `fullDecodePixels` (blockhash reads every pixel, PDQ does its own downsampling);
 * a larger image is shrunk to fit within it, which moves its hashes by a few bits (test/matchers/image-decode.test.ts).
 * The same as `readImageHeader` then `decodePixels`.
 */
export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Promise<DecodeResult> {
  const header = await readImageHeader(bytes, limits);
  return header.ok ? decodePixels(bytes, header.header, limits) : header;
}

/**
 * The checks before any pixel is decoded: byte count, then the header (format and dimensions, read
 * without decoding) against the accepted formats and the pixel limit.
 */
export async function readImageHeader(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Promise<HeaderResult> {
  if (bytes.byteLength === 0) return fail('IMAGE_UNDECODABLE', 'empty payload (0 bytes)');
  if (bytes.byteLength > limits.maxBytes) {
    return fail('IMAGE_TOO_LARGE', `payload of ${bytes.byteLength} bytes exceeds the limit of ${limits.maxBytes}`);
  }
  let meta: Metadata;
  try {
    // The header alone is read here, so sharp's own pixel limit is lifted: we compare the dimensions
    // with ours and answer IMAGE_TOO_LARGE, rather than telling its error apart by message text.
    meta = await sharp(bytes, { ...SHARP_OPTIONS, limitInputPixels: false }).metadata();
  } catch (cause) {
    return fail('IMAGE_UNDECODABLE', `not a readable image: ${describe(cause)}`);
  }
  const format = meta.format;
  if (format === undefined || !ACCEPTED_FORMATS.has(format)) {
    return fail('IMAGE_UNDECODABLE', `unsupported image format: ${format ?? 'unknown'}`);
  }
  const width = meta.width;
  const height = meta.pageHeight ?? meta.height;
  if (width === undefined || height === undefined || width < 1 || height < 1) {
    return fail('IMAGE_UNDECODABLE', `${format} header has no valid dimensions`);
  }
  if (width * height > limits.maxPixels) {
    return fail('IMAGE_TOO_LARGE', `${format} of ${width}x${height} pixels exceeds the limit of ${limits.maxPixels} pixels`);
  }
  const header: ImageHeader = {
    format: format as ImageFormat, width, height, hasAlpha: meta.hasAlpha === true,
    orientation: meta.orientation ?? 1, transposed: (meta.orientation ?? 1) >= 5, progressive: meta.isProgressive === true,
    animated: (meta.pages ?? 1) > 1 || meta.delay !== undefined, cmyk: meta.space === 'cmyk',
  };
  if (width * height > limits.fullDecodePixels && !shrinkable(header)) {
    const kind = header.progressive ? (format === 'png' ? 'interlaced png' : 'progressive jpeg')
      : header.animated ? `animated ${format}` : header.cmyk ? `cmyk ${format}` : format;
    return fail('IMAGE_TOO_LARGE', `${kind} of ${width}x${height} pixels exceeds the limit of ${limits.fullDecodePixels} pixels `
      + 'for its format (only baseline RGB or grey JPEG, non-interlaced PNG and still WebP are taken larger)');
  }
  if (width * height > limits.fullDecodePixels && Math.max(width, height) > MAX_SHRUNK_SIDE) {
    return fail('IMAGE_TOO_LARGE', `${format} of ${width}x${height} pixels exceeds the limit of ${limits.fullDecodePixels} pixels `
      + `for its shape (an image larger than that is taken only up to ${MAX_SHRUNK_SIDE} pixels a side)`);
  }
  return { ok: true, header };
}

/**
 * Whether an image over `fullDecodePixels` can be decoded shrunk without its full-size pixels in memory.
 * libvips reads a baseline JPEG and a non-interlaced PNG row by row, so the resize takes the rows as they come;
 * libwebp decodes a still WebP straight to the smaller size. A progressive JPEG (libjpeg keeps every DCT coefficient
 * until its last scan) and an interlaced PNG (libvips reads it whole) each took about 1 GiB at 250 MP
 * (bench/README.md); a GIF frame is read whole too (+417 MiB at 64 MP), and libheif decodes a HEIF image whole.
 * So does libvips an animated WebP's canvas: one of 16383x15000 took 1.3 GiB from 144 bytes. A CMYK JPEG is not
 * held whole, but converted to sRGB (lcms) at full size before the resize: 18 s of CPU at 250 MP, 2.5 s at 50 MP.
 */
function shrinkable(header: ImageHeader): boolean {
  switch (header.format) {
    case 'jpeg': return !header.progressive && !header.cmyk;
    case 'png': return !header.progressive;
    case 'webp': return !header.animated;
    case 'gif': case 'heif': return false;
  }
}

/**
 * Decodes the pixels of an image whose header passed `readImageHeader`, with `limitInputPixels` as a
 * second guard. The decode is handed to a libvips thread before this returns, so the calling thread is
 * free meanwhile (the image task computes the exact hashes then).
 * `lenient`: decode what can be decoded, as image viewers do, instead of failing on a decoder warning
 * (stray bytes before a JPEG marker, a missing end marker) or a truncated file, whose lost part is grey.
 */
export async function decodePixels(
  bytes: Uint8Array, header: ImageHeader, limits: DecodeLimits = DEFAULT_DECODE_LIMITS, lenient = false,
): Promise<DecodeResult> {
  const { format } = header;
  try {
    // EXIF orientation is applied after the timed decode (`orient`), not by sharp's autoOrient.
    const options: SharpOptions = { ...SHARP_OPTIONS, limitInputPixels: limits.maxPixels, autoOrient: false };
    if (lenient) options.failOn = 'none';
    const pipeline = sharp(bytes, options).toColourspace('srgb');
    if (!header.hasAlpha) pipeline.removeAlpha();
    const box = shrinkBox(header, limits.fullDecodePixels);
    if (box) {
      // Shrink-on-load: JPEG and WebP decode at a fraction of their size where the ratio allows, the rest is
      // reduced as rows arrive. Measured (bench/README.md, "Images over 50 MP", one libvips thread): a 250 MP
      // baseline JPEG or RGB PNG shrunk to 50 MP peaks at about 300 MiB of RSS, against 230 MiB for a 50 MP decode at
      // full size and 820 MiB for the same image decoded whole, in 1.3-1.8 s of CPU; a 16-bit RGBA PNG at 463 MiB and
      // 6.4 s, the costliest. A 16-bit PNG is brought to 8 bits before the resize rather than after, which took those
      // 16-bit cases from 8.9 and 12.0 s to 3.0 and 6.4 s; not JPEG or WebP, whose shrink-on-load it would turn off.
      if (header.format === 'png') pipeline.pipelineColourspace('srgb');
      pipeline.resize({ ...box, fit: 'inside' });
    }
    pipeline.timeout({ seconds: limits.maxDecodeSeconds });
    const stored = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const channels = stored.info.channels;
    if (channels !== 3 && channels !== 4) {
      return fail('IMAGE_UNDECODABLE', `${format} decoded to ${channels} channels, expected 3 or 4`);
    }
    const { data, info } = await orient(stored, channels, header.orientation);
    if (data.byteLength !== info.width * info.height * channels) {
      return fail('IMAGE_UNDECODABLE', `${format} decoded to a short pixel buffer`);
    }
    return {
      ok: true,
      format,
      image: {
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        width: info.width,
        height: info.height,
        channels,
      },
    };
  } catch (cause) {
    if (timedOut(cause)) {
      return { ...fail('IMAGE_UNDECODABLE', `${format} took too long to decode: stopped after ${limits.maxDecodeSeconds} s, `
        + 'the most one image may take'), timedOut: true };
    }
    return fail('IMAGE_UNDECODABLE', `${format} could not be decoded: ${describe(cause)}`);
  }
}

/**
 * Whether sharp stopped a pipeline at its `timeout`. sharp gives its errors no code: its timeout raises a libvips error
 * in the domain `timeout` ("timeout: 12% complete", sharp's src/common.cc, VipsProgressCallBack), which starts the
 * message. test/matchers/image-decode.test.ts would see it change.
 */
function timedOut(cause: unknown): boolean {
  return cause instanceof Error && cause.message.startsWith('timeout: ');
}

/**
 * How to show an image of each EXIF orientation from its pixels as stored, in sharp's order: the flop (left-right
 * mirror) first, then the turn clockwise. Checked against sharp's autoOrient for each orientation.
 */
const ORIENTATIONS: Readonly<Record<number, { flop: boolean; angle: number }>> = Object.freeze({
  2: { flop: true, angle: 0 }, 3: { flop: false, angle: 180 }, 4: { flop: true, angle: 180 },
  5: { flop: true, angle: 270 }, 6: { flop: false, angle: 90 }, 7: { flop: true, angle: 90 }, 8: { flop: false, angle: 270 },
});

type RawOutput = { data: Buffer; info: OutputInfo };

/**
 * Applies EXIF orientation to decoded pixels, in a second pipeline from memory. sharp's autoOrient read the whole
 * (shrunk) image into memory before turning it, and that read ran outside the pipeline's timeout: a 250 MP PNG stored
 * turned decoded for 6.5 s past a limit of 1 s. Here the decode is timed as any other, and the turn works on at most
 * `fullDecodePixels`: 0.35-0.5 s at 50 MP, with the same pixels as autoOrient gave (bench/README.md, "A time limit per image").
 */
async function orient(stored: RawOutput, channels: 3 | 4, orientation: number): Promise<RawOutput> {
  const turn = ORIENTATIONS[orientation];
  if (!turn) return stored;
  const { width, height } = stored.info;
  return sharp(stored.data, { raw: { width, height, channels }, limitInputPixels: false })
    .flop(turn.flop).rotate(turn.angle).raw().toBuffer({ resolveWithObject: true });
}

/**
 * The box a decode must fit within, or undefined when the image is decoded at full size. The box has the
 * image's own proportions, as stored (EXIF orientation is applied after the resize).
 */
function shrinkBox(header: ImageHeader, fullDecodePixels: number): { width: number; height: number } | undefined {
  const { width, height } = header;
  if (width * height <= fullDecodePixels) return undefined;
  const scale = Math.sqrt(fullDecodePixels / (width * height));
  const w = Math.max(1, Math.floor(width * scale));
  const h = Math.max(1, Math.floor(height * scale));
  return { width: w, height: h };
}

/**
 * A sharp/libvips error in one line, never a stack trace: its first line (what failed) and, when libvips
 * logged more, its last (usually the decoder's own reason).
 */
function describe(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const first = lines[0] ?? 'unknown error';
  const last = lines[lines.length - 1];
  const joined = last !== undefined && last !== first ? `${first} ... ${last}` : first;
  return joined.slice(0, 240);
}
