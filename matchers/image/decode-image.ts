/**
 * Untrusted image bytes to RGB(A) pixels, with sharp (libvips). Every failure is a value, never a throw:
 * a device can send anything, and one bad image must not take a worker down.
 *
 * Order of checks, cheapest first, so that a decompression bomb is refused before any pixel is decoded:
 * byte count, then the header (format and dimensions, read by `metadata()` without decoding),
 * then the decode itself with `limitInputPixels` as a second guard. The two steps are also exported apart
 * (`readImageHeader`, `decodePixels`) so that a caller can do other work while a libvips thread decodes.
 *
 * Measured (bench/README.md, "Screenshots through the pool"): sharp's options cost nothing measurable here.
 * `toColourspace`, `autoOrient`, `removeAlpha`, `sequentialRead` and `failOn` on or off change the CPU time
 * of decoding a 1080x2400 JPEG or PNG by less than run-to-run noise; the header read is about 0.2 ms.
 */
import sharp, { type Metadata, type SharpOptions } from 'sharp';

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

/** How much one image may cost. Both limits are checked before decoding. */
export interface DecodeLimits {
  /** Largest encoded payload accepted, in bytes. */
  maxBytes: number;
  /** Largest `width * height` of the (first frame of the) image accepted. */
  maxPixels: number;
}

/**
 * 32 MiB covers any phone photo or screenshot; 50 megapixels covers a 48 MP camera, and its RGB
 * decode (150 MB) is the most a worker should hold for one image.
 */
export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxBytes: 32 * 1024 * 1024,
  maxPixels: 50_000_000,
});

export type ImageDecodeErrorCode = 'IMAGE_UNDECODABLE' | 'IMAGE_TOO_LARGE';

/** A refusal, with the code a device gets back. */
export interface DecodeFailure { ok: false; code: ImageDecodeErrorCode; message: string }

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
}

export type HeaderResult = { ok: true; header: ImageHeader } | DecodeFailure;

const fail = (code: ImageDecodeErrorCode, message: string): DecodeFailure => ({ ok: false, code, message });

const SHARP_OPTIONS: Readonly<SharpOptions> = Object.freeze({ failOn: 'warning', ignoreIcc: true, pages: 1, page: 0 });

/**
 * Decodes one image: JPEG, PNG, WebP, GIF (first frame) or HEIF, EXIF orientation applied, ICC profile
 * ignored (as Meta's reference hasher and most others do, so that hashes agree), converted to 8-bit sRGB.
 * Full resolution is kept: blockhash needs it, and PDQ does its own downsampling.
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
  return { ok: true, header: { format: format as ImageFormat, width, height, hasAlpha: meta.hasAlpha === true } };
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
    const options: SharpOptions = { ...SHARP_OPTIONS, limitInputPixels: limits.maxPixels, autoOrient: true };
    if (lenient) options.failOn = 'none';
    const pipeline = sharp(bytes, options).toColourspace('srgb');
    if (!header.hasAlpha) pipeline.removeAlpha();
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const channels = info.channels;
    if (channels !== 3 && channels !== 4) {
      return fail('IMAGE_UNDECODABLE', `${format} decoded to ${channels} channels, expected 3 or 4`);
    }
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
    return fail('IMAGE_UNDECODABLE', `${format} could not be decoded: ${describe(cause)}`);
  }
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
