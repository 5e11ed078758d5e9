// Bias corrections 1 − β^t without the power once it no longer matters. The power is a C call
// and the largest JS cost of a small step; β^t only falls as t grows, so from the first step at
// which it is ≤ 2^-60 every later 1 − β^t rounds to exactly 1 (its power < 2^-54, half an ulp
// of 1, even with pow's error), and 1 is used without computing it: bit-identical.

const TINY = 2 ** -60;

/** Room for the corrections of both betas: see biasCorrection. */
export const newCorrections = (): Float64Array => new Float64Array([NaN, Infinity, 0, NaN, Infinity, 0]);

/**
 * Writes `1 - betas[which] ** step` to `at[3·which + 2]`; `at[3·which]` and `at[3·which + 1]`
 * remember β and the first step at which β^t ≤ 2^-60. Takes and returns no float (an argument
 * or result of a call that is not inlined is boxed: an allocation per step).
 */
export function biasCorrection(at: Float64Array, betas: readonly number[], which: number, step: number): void {
  const slot = which * 3;
  const beta = betas[which]!;
  if (beta === at[slot]) {
    if (step >= at[slot + 1]!) {
      at[slot + 2] = 1;
      return;
    }
  } else {
    at[slot] = beta;
    at[slot + 1] = Infinity;
  }
  const power = beta ** step;
  if (power <= TINY && step < at[slot + 1]!) at[slot + 1] = step;
  at[slot + 2] = 1 - power;
}
