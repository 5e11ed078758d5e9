// Momentum cycling shared by OneCycleLR and CyclicLR: which group option carries the momentum
// (`momentum`, or beta1 of `betas`), writing it, and checking a loaded choice.

import { describe } from "../checks.js";
import type { SchedulableOptimizer, SchedulableParamGroup } from "./scheduler.js";

/** Which group option carries the momentum that OneCycleLR and CyclicLR cycle: `momentum` (SGD, RMSprop) or `betas` (beta1 of the Adam family). */
export type MomentumKey = "momentum" | "betas";

/**
 * @internal `"betas"` when the optimizer has betas (Adam family: beta1 is cycled), else
 * `"momentum"` (SGD, RMSprop), judged from its defaults as PyTorch does (or from its groups when
 * it has no defaults). Throws TypeError naming `cycleMomentum` when there is neither, or when
 * a group lacks the key.
 */
export function momentumKey(owner: string, optimizer: SchedulableOptimizer): MomentumKey {
  const probe: object = typeof optimizer.defaults === "object" && optimizer.defaults !== null ? optimizer.defaults : optimizer.paramGroups[0]!;
  const key: MomentumKey | undefined = "betas" in probe ? "betas" : "momentum" in probe ? "momentum" : undefined;
  if (key === undefined) {
    throw new TypeError(`simdopt: ${owner} with cycleMomentum (the default) needs an optimizer with momentum or betas; pass cycleMomentum: false`);
  }
  optimizer.paramGroups.forEach((group, i) => {
    const value = group[key];
    const ok = key === "betas" ? Array.isArray(value) && value.length >= 1 : typeof value === "number";
    if (!ok) throw new TypeError(`simdopt: ${owner} cycles ${key === "betas" ? "betas[0]" : "momentum"} but paramGroups[${i}].${key} is ${describe(value)}`);
  });
  return key;
}

/** @internal A loaded `momentumKey`: null without momentum cycling, else "momentum" or "betas". */
export function checkMomentumKey(where: string, value: unknown, cycleMomentum: boolean): void {
  const ok = cycleMomentum ? value === "momentum" || value === "betas" : value === null;
  if (!ok) {
    throw new RangeError(`simdopt: ${where}momentumKey must be ${cycleMomentum ? '"momentum" or "betas"' : "null (cycleMomentum is false)"}, got ${describe(value)}`);
  }
}

/** @internal Writes a cycled momentum: `momentum`, or a NEW betas array `[m, ...rest]`. */
export function writeMomentum(group: SchedulableParamGroup, key: MomentumKey, value: number): void {
  if (key === "betas") group.betas = [value, ...(group.betas as number[]).slice(1)];
  else group.momentum = value;
}
