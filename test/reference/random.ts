// Deterministic test data: a small seeded generator (mulberry32) so every failure reproduces.

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` values uniform in [-scale, scale). */
export function randomArray(random: () => number, length: number, scale = 1): Float64Array {
  const values = new Float64Array(length);
  for (let i = 0; i < length; i++) values[i] = (2 * random() - 1) * scale;
  return values;
}

/**
 * Largest |actual − expected| / max(|expected|, floor) over all elements, with its index: relative
 * error, judged on the scale `floor` for elements smaller than it (where relative error of a value
 * passing near zero would only measure float32's absolute rounding).
 */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor: number): { error: number; index: number } {
  let error = 0;
  let index = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!) / Math.max(Math.abs(expected[i]!), floor);
    if (!(e <= error)) { error = e; index = i; }
  }
  return { error, index };
}
