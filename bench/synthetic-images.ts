/**
 * Synthetic images for benchmarks: photo-like pictures and phone screenshots, from a seed, so runs
 * are reproducible and no real material is ever involved.
 */
import type { DecodedImage } from '../matchers/index.js';

/** A photo-like RGB image: smooth colour gradients, a few blobs, and noise. */
export function photoLike(width: number, height: number, random: () => number): DecodedImage {
  const data = new Uint8Array(width * height * 3);
  const blobs = Array.from({ length: 12 }, () => ({
    x: random() * width,
    y: random() * height,
    r: (0.05 + random() * 0.2) * Math.min(width, height),
    c: [random() * 255, random() * 255, random() * 255],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      let r = (x / width) * 180 + 40;
      let g = (y / height) * 160 + 50;
      let b = ((x + y) / (width + height)) * 200 + 20;
      for (const blob of blobs) {
        const dx = x - blob.x;
        const dy = y - blob.y;
        if (dx * dx + dy * dy < blob.r * blob.r) [r, g, b] = blob.c as [number, number, number];
      }
      const n = (random() - 0.5) * 24;
      data[o] = Math.max(0, Math.min(255, r + n));
      data[o + 1] = Math.max(0, Math.min(255, g + n));
      data[o + 2] = Math.max(0, Math.min(255, b + n));
    }
  }
  return { data, width, height, channels: 3 };
}

/** A phone screenshot: status bar, app bar, lines of "text", a photo card, flat UI colours. */
export function screenshotLike(width: number, height: number, random: () => number): DecodedImage {
  const data = new Uint8Array(width * height * 3).fill(250);
  const rect = (x0: number, y0: number, w: number, h: number, c: [number, number, number]): void => {
    for (let y = Math.max(0, y0); y < Math.min(height, y0 + h); y++) {
      for (let x = Math.max(0, x0); x < Math.min(width, x0 + w); x++) data.set(c, (y * width + x) * 3);
    }
  };
  rect(0, 0, width, 80, [20, 20, 24]);
  rect(0, 80, width, 160, [33, 150, 243]);
  const photo = photoLike(width - 96, 700, random);
  for (let y = 0; y < photo.height; y++) {
    data.set(photo.data.subarray(y * photo.width * 3, (y + 1) * photo.width * 3), ((300 + y) * width + 48) * 3);
  }
  for (let line = 0; line < 40; line++) {
    const y = 1060 + line * 32;
    let x = 48;
    while (x < width - 80) {
      const word = 20 + Math.floor(random() * 90);
      rect(x, y, Math.min(word, width - 48 - x), 18, [40, 40, 48]);
      x += word + 14;
    }
  }
  rect(0, height - 140, width, 140, [245, 245, 245]);
  for (let i = 0; i < 4; i++) rect(120 + i * 240, height - 110, 80, 80, [90, 90, 100]);
  return { data, width, height, channels: 3 };
}

