import t from 'tap';
import { downsampleTo64, downsampleTo64Js } from '../../matchers/pdq/jarosz-filter.js';
import { jaroszKernel } from '../../matchers/pdq/jarosz-wasm.js';
import { seededRandom } from '../../core/index.js';

t.test('pdq jarosz - the WebAssembly kernel is available on this runtime', async (t) => {
  t.ok(jaroszKernel(), 'WebAssembly SIMD validated');
});

t.test('pdq jarosz - the WebAssembly box filter downsamples bit for bit as the JavaScript one', async (t) => {
  const random = seededRandom(20240611);
  // Odd sizes give every window size and phase length, rows and columns not multiples of 4 (spare lanes),
  // and planes narrower than 64 (repeated sample columns).
  const sizes: [number, number][] = [
    [5, 5], [5, 6], [7, 5], [6, 9], [13, 7], [63, 64], [64, 64], [65, 63], [100, 37], [129, 127],
    [255, 257], [300, 200], [511, 512], [512, 511], [512, 512], [17, 2000], [2000, 17], [4096, 64],
  ];
  for (const [rows, cols] of sizes) {
    for (const kind of ['noise', 'edges'] as const) {
      const plane = new Float32Array(rows * cols);
      for (let i = 0; i < plane.length; i++) {
        plane[i] = kind === 'noise' ? random() * 255 : i % 3 === 0 ? 255 : 0.1 * (i % 7);
      }
      const want = new Float32Array(4096);
      const got = new Float32Array(4096);
      downsampleTo64Js(plane.slice(), new Float32Array(plane.length), rows, cols, want);
      downsampleTo64(plane.slice(), new Float32Array(plane.length), rows, cols, got);
      let differ = 0;
      for (let i = 0; i < 4096; i++) if (!Object.is(want[i], got[i])) differ++;
      t.equal(differ, 0, `${rows}x${cols} ${kind}: all 4096 values identical`);
    }
  }
});
