// Parameter groups: making them from the constructor's input, the per-step check that the live
// groups still hold live, distinct parameters, and the step() options check. A step whose
// groups are unchanged allocates nothing here.

import { checkBoolean, checkNoNearMisses, checkObject, checkOptionKeys } from "../checks.js";
import { Parameter } from "../parameter.js";
import type { ParamGroup, ParamGroupInput, StepOptions } from "./types.js";

const STEP_OPTION_KEYS: readonly string[] = Object.freeze(["mask", "rows", "skipIfNonfinite"]);
const groupPrefixes: string[] = [];
const groupNames: string[] = [];
/** "paramGroups[i]." for error messages, made once per index. */
export function groupPrefix(index: number): string {
  return (groupPrefixes[index] ??= `paramGroups[${index}].`);
}
/** "paramGroups[i]", made once per index. */
function groupName(index: number): string {
  return (groupNames[index] ??= `paramGroups[${index}]`);
}

/** A value's kind for messages: "Object", "Float32Array", "number 3", "undefined". */
function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as { constructor?: { name?: string } }).constructor?.name ?? "an object";
  return value === undefined ? "undefined" : `${typeof value} ${String(value)}`;
}

/**
 * A group from the constructor's (or addParamGroup's) input: its parameters checked, the
 * defaults under its own options, then `validate`d; throws before anything is kept.
 */
export function makeGroup<Options extends object>(
  group: ParamGroupInput<Options>, index: number, defaults: Readonly<Options>, groupKeys: readonly string[],
  validate: (group: ParamGroup<Options>, prefix: string) => void,
): ParamGroup<Options> {
  if (typeof group !== "object" || group === null || !Array.isArray(group.params)) {
    throw new TypeError(`simdopt: paramGroups[${index}] must be a Parameter or an object { params: Parameter[], ...options }`);
  }
  // Extra keys are kept (as in PyTorch), but a near-miss of an option is a typo that would be ignored.
  checkNoNearMisses(group, groupKeys, groupName(index));
  if (group.params.length === 0) throw new RangeError(`simdopt: paramGroups[${index}].params is empty`);
  group.params.forEach((param, i) => {
    if (!(param instanceof Parameter)) throw new TypeError(`simdopt: paramGroups[${index}].params[${i}] is not a Parameter`);
    if (param.disposed) throw new TypeError(`simdopt: parameter "${param.name}" has been disposed`);
  });
  if (new Set(group.params).size !== group.params.length) {
    throw new RangeError(`simdopt: paramGroups[${index}].params lists a parameter twice`);
  }
  const made = { ...defaults, ...stripUndefined(group), params: [...group.params] } as ParamGroup<Options>;
  validate(made, `paramGroups[${index}].`);
  return made;
}

/** The constructor's groups: a list of parameters is one group; no parameter in two groups. */
export function makeGroups<Options extends object>(
  owner: string, params: Parameter[] | ParamGroupInput<Options>[], defaults: Readonly<Options>, groupKeys: readonly string[],
  validate: (group: ParamGroup<Options>, prefix: string) => void,
): ParamGroup<Options>[] {
  if (!Array.isArray(params) || params.length === 0) {
    throw new TypeError(`simdopt: ${owner} needs a non-empty array of parameters or parameter groups`);
  }
  const groups: ParamGroupInput<Options>[] = params.every((entry) => entry instanceof Parameter)
    ? [{ params: params as Parameter[] } as ParamGroupInput<Options>]
    : (params as ParamGroupInput<Options>[]);
  const made = groups.map((group, index) => makeGroup(group, index, defaults, groupKeys, validate));
  const seen = new Set<Parameter>();
  for (const [index, group] of made.entries()) {
    for (const param of group.params) {
      if (seen.has(param)) throw new RangeError(`simdopt: parameter "${param.name}" appears in more than one group (group ${index})`);
      seen.add(param);
    }
  }
  return made;
}

/**
 * Checks that the live groups hold only live Parameters, each once (users may push into
 * `paramGroups[i].params`), and remembers them in `members`. Returns the new set of members
 * when they changed, null when they are the ones validated last time.
 */
export function checkMembers(groups: readonly ParamGroup<object>[], members: Parameter[], anyDisposed: boolean): Set<Parameter> | null {
  // Fast path: the groups hold exactly the parameters validated last time (compared by
  // identity, no allocation); only disposal can have changed since, and only if `anyDisposed`
  // (some parameter was disposed since the last check that passed).
  let count = 0;
  let unchanged = true;
  for (let g = 0; g < groups.length && unchanged; g++) {
    const params: unknown = groups[g]!.params;
    if (!Array.isArray(params)) { unchanged = false; break; }
    for (let i = 0; i < params.length; i++) {
      if (members[count++] !== params[i]) { unchanged = false; break; }
    }
  }
  if (unchanged && count === members.length) {
    if (!anyDisposed) return null;
    for (let i = 0; i < members.length; i++) {
      if (members[i]!.disposed) throw new TypeError(`simdopt: parameter "${members[i]!.name}" has been disposed`);
    }
    return null;
  }
  // Something changed (users may push into paramGroups[i].params): validate in full, then
  // remember what was validated.
  const seen = new Set<Parameter>();
  for (let index = 0; index < groups.length; index++) {
    const params: unknown = groups[index]!.params;
    if (!Array.isArray(params)) {
      throw new TypeError(`simdopt: paramGroups[${index}].params must be an array of Parameters, got ${describeValue(params)}`);
    }
    for (let i = 0; i < params.length; i++) {
      const param: unknown = params[i];
      if (!(param instanceof Parameter)) {
        throw new TypeError(`simdopt: paramGroups[${index}].params[${i}] must be a Parameter, got ${describeValue(param)}`);
      }
      if (param.disposed) throw new TypeError(`simdopt: parameter "${param.name}" has been disposed`);
      if (seen.has(param)) {
        throw new RangeError(`simdopt: parameter "${param.name}" appears more than once in paramGroups (again at paramGroups[${index}].params[${i}])`);
      }
      seen.add(param);
    }
  }
  members.length = 0;
  for (const param of seen) members.push(param);
  return seen;
}

/** Unknown keys and a non-boolean `skipIfNonfinite` throw; allocates nothing when all is well. */
export function checkStepOptions(options: StepOptions): void {
  checkObject("step() options", options);
  checkOptionKeys(options, STEP_OPTION_KEYS, "step() options");
  if (options.skipIfNonfinite !== undefined) checkBoolean("step() options.", "skipIfNonfinite", options.skipIfNonfinite);
}

export function stripUndefined<T extends object>(object: T): Partial<T> {
  const result: Partial<T> = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined) (result as Record<string, unknown>)[key] = value;
  return result;
}
