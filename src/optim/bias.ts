// Bias corrections 1 − β^t without the power once it no longer matters. The power is a C call
// and the largest JS cost of a small step; β^t only falls as t grows, so from the first step at
// which it is ≤ 2^-60 every later 1 − β^t rounds to exactly 1 (its power < 2^-54, half an ulp
// of 1, even with pow's error), and 1 is returned without computing it: bit-identical.

const TINY = 2 ** -60;

/** `1 - beta ** step` for one β at a time (kept per call site: the optimizer's β is usually fixed). */
export class BiasCorrection {
  /** [β, the first step at which β^t ≤ TINY, or Infinity]: typed, so updating it allocates nothing. */
  readonly #at = new Float64Array([NaN, Infinity]);

  of(beta: number, step: number): number {
    const at = this.#at;
    if (beta === at[0]) {
      if (step >= at[1]!) return 1;
    } else {
      at[0] = beta;
      at[1] = Infinity;
    }
    const power = beta ** step;
    if (power <= TINY && step < at[1]!) at[1] = step;
    return 1 - power;
  }
}
