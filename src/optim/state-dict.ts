// Optimizer state dicts: the snapshot (`stateDict()`) and its restore (`loadStateDict()`).
// Loading is all-or-nothing: every value is validated (types, ranges, buffer names and lengths,
// row flags), then every new buffer is allocated (an allocation failure frees what it took and
// leaves the optimizer as it was), and only then is anything written.

import { F32Block } from "../bindings/memory.js";
import { checkBounded, checkNoNearMisses, checkOptionKeys, describe, type NumberCheck } from "../checks.js";
import type { Parameter } from "../parameter.js";
import type { OptimizerStateDict, ParamGroup, ParamState, StateArray, StateBufferLayout } from "./types.js";
import { blockFloats, stateArrayType, stateView } from "./lowp.js";

/** What the state-dict code needs of an optimizer (its protected parts, passed in explicitly). */
export interface StateAccess<Options extends object> {
  owner: string;
  groups: ParamGroup<Options>[];
  state: Map<Parameter, ParamState>;
  optionNames: readonly string[];
  bufferNames(group: ParamGroup<Options>, param: Parameter): readonly string[];
  /** Elements of buffer `name` for this parameter (the parameter's size unless laid out otherwise). */
  bufferLength(param: Parameter, name: string): number;
  bufferLayout(name: string): StateBufferLayout;
  scalarNames: readonly string[];
  scalarBounds(name: string): NumberCheck;
  initialScalar(name: string): number;
  validateGroup(group: Options, prefix: string): void;
  freeState(param: Parameter): void;
}

const ENTRY_KEYS = ["step", "buffers", "touchedRows", "scalars"] as const;

/** A snapshot: step counts, copies of state buffers, and group options with parameter indices. */
export function makeStateDict<Options extends object>(access: StateAccess<Options>): OptimizerStateDict {
  const state: OptimizerStateDict["state"] = [];
  const paramGroups: OptimizerStateDict["paramGroups"] = [];
  let index = 0;
  for (const group of access.groups) {
    const indices: number[] = [];
    for (const param of group.params) {
      const entry = access.state.get(param);
      if (entry === undefined) {
        state.push(null);
      } else {
        // Only the buffers the group's current options use: one left over from an option since
        // switched off (amsgrad, momentum) is not part of the state these options define, and
        // loadStateDict accepts exactly those names.
        const buffers: Record<string, StateArray> = {};
        for (const name of access.bufferNames(group, param)) {
          const block = entry.buffers.get(name);
          if (block !== undefined) buffers[name] = stateView(block, access.bufferLayout(name), access.bufferLength(param, name)).slice();
        }
        const scalars: Record<string, number> = {};
        access.scalarNames.forEach((name, i) => { scalars[name] = entry.scalars[i]!; });
        state.push({ step: entry.step, buffers, touchedRows: entry.touchedRows?.slice() ?? null, scalars });
      }
      indices.push(index++);
    }
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(group)) {
      if (key !== "params") options[key] = Array.isArray(value) ? [...value] : value;
    }
    paramGroups.push({ ...options, params: indices });
  }
  return { optimizer: access.owner, state, paramGroups };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** The validated group options to apply (arrays copied, so the group never shares the caller's). */
function restoreGroup<Options extends object>(access: StateAccess<Options>, saved: unknown, g: number): ParamGroup<Options> {
  const where = `stateDict.paramGroups[${g}]`;
  const group = access.groups[g]!;
  if (!isPlainObject(saved)) throw new TypeError(`simdopt: ${where} must be an object, got ${describe(saved)}`);
  if (!Array.isArray(saved.params) || saved.params.length !== group.params.length) {
    throw new RangeError(`simdopt: ${where}.params must list ${group.params.length} parameter indices (as this optimizer's group ${g}), got ${describe(saved.params)}`);
  }
  // Rejects an own "__proto__" (JSON.parse makes one) before any copy could turn it into a prototype.
  checkNoNearMisses(saved, [...access.optionNames, "params"], where);
  const restored = { ...group } as Record<string, unknown>;
  for (const key of Object.keys(saved)) {
    if (key === "params") continue;
    const value = saved[key];
    restored[key] = Array.isArray(value) ? [...value] : value;
  }
  restored.params = group.params;
  access.validateGroup(restored as Options, `${where}.`);
  return restored as ParamGroup<Options>;
}

/** Throws unless `entry` is a valid saved state for `param` under the restored `group`. */
function checkEntry<Options extends object>(access: StateAccess<Options>, entry: unknown, i: number, param: Parameter, group: ParamGroup<Options>): void {
  const where = `stateDict.state[${i}]`;
  if (!isPlainObject(entry)) throw new TypeError(`simdopt: ${where} must be null or an object { step, buffers, touchedRows, scalars }, got ${describe(entry)}`);
  checkOptionKeys(entry, ENTRY_KEYS, where);
  // A state exists only after a step, but PyTorch's increments before use, so 0 is a valid resume point.
  checkBounded(`${where}.`, "step", entry.step, { integer: true, min: 0 });
  const buffers = entry.buffers;
  if (!isPlainObject(buffers)) throw new TypeError(`simdopt: ${where}.buffers must be an object of typed arrays, got ${describe(buffers)}`);
  const names = access.bufferNames(group, param);
  for (const name of Object.keys(buffers)) {
    if (!names.includes(name)) {
      throw new RangeError(`simdopt: ${where}.buffers has "${name}", which ${access.owner} does not keep with these options (expected exactly: ${names.join(", ") || "none"})`);
    }
  }
  for (const name of names) {
    const values = buffers[name];
    if (values === undefined) {
      throw new RangeError(`simdopt: ${where}.buffers lacks "${name}" (${access.owner} with these options keeps exactly: ${names.join(", ")})`);
    }
    const Type = stateArrayType(access.bufferLayout(name));
    if (!(values instanceof Type)) throw new TypeError(`simdopt: ${where}.buffers.${name} must be a ${Type.name}, got ${describe(values)}`);
    const length = access.bufferLength(param, name);
    if (values.length !== length) {
      const needs = length === param.size ? `has ${length}` : `(shape [${param.shape.join(", ")}]) needs ${length} for it`;
      throw new RangeError(`simdopt: ${where}.buffers.${name} has ${values.length} values, parameter "${param.name}" ${needs}`);
    }
  }
  const scalars = entry.scalars;
  if (scalars !== undefined) {
    if (!isPlainObject(scalars)) throw new TypeError(`simdopt: ${where}.scalars must be an object of numbers, got ${describe(scalars)}`);
    checkOptionKeys(scalars, access.scalarNames, `${where}.scalars`);
    for (const name of access.scalarNames) {
      if (scalars[name] !== undefined) checkBounded(`${where}.scalars.`, name, scalars[name], access.scalarBounds(name));
    }
  }
  const touched = entry.touchedRows;
  if (touched !== undefined && touched !== null) {
    if (!(touched instanceof Uint8Array)) throw new TypeError(`simdopt: ${where}.touchedRows must be null or a Uint8Array, got ${describe(touched)}`);
    if (param.shape.length !== 2 || touched.length !== param.shape[0]) {
      throw new RangeError(`simdopt: ${where}.touchedRows has ${touched.length} flags; parameter "${param.name}" of shape [${param.shape.join(", ")}] needs one per row of a 2-D shape`);
    }
    for (let r = 0; r < touched.length; r++) {
      if (touched[r]! > 1) throw new RangeError(`simdopt: ${where}.touchedRows[${r}] must be 0 or 1, got ${touched[r]}`);
    }
  }
}

/** Restores a snapshot; see the file header for the guarantees. */
export function loadState<Options extends object>(access: StateAccess<Options>, stateDict: unknown): void {
  const { owner, groups } = access;
  if (!isPlainObject(stateDict) || !Array.isArray(stateDict.state) || !Array.isArray(stateDict.paramGroups)) {
    throw new TypeError(`simdopt: loadStateDict expects an object { optimizer, state, paramGroups } made by ${owner}.stateDict(), got ${describe(stateDict)}`);
  }
  if (stateDict.optimizer !== owner) throw new TypeError(`simdopt: this state dict belongs to ${describe(stateDict.optimizer)}, not ${owner}`);
  if (stateDict.paramGroups.length !== groups.length) {
    throw new RangeError(`simdopt: state dict has ${stateDict.paramGroups.length} param groups, this optimizer has ${groups.length}`);
  }
  const params: Parameter[] = [];
  const groupOf: number[] = [];
  groups.forEach((group, g) => { for (const param of group.params) { params.push(param); groupOf.push(g); } });
  const entries = stateDict.state as unknown[];
  if (entries.length !== params.length) {
    throw new RangeError(`simdopt: state dict has state for ${entries.length} parameters, this optimizer has ${params.length}`);
  }
  const restored = (stateDict.paramGroups as unknown[]).map((saved, g) => restoreGroup(access, saved, g));
  entries.forEach((entry, i) => { if (entry !== null) checkEntry(access, entry, i, params[i]!, restored[groupOf[i]!]!); });

  // Everything is valid: allocate every block before changing anything.
  const made: Array<ParamState | null> = [];
  try {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as { step: number; buffers: Record<string, StateArray>; touchedRows?: Uint8Array | null; scalars?: Record<string, number> } | null;
      if (entry === null) { made.push(null); continue; }
      const buffers = new Map<string, F32Block>();
      const scalars = new Float64Array(access.scalarNames.length);
      access.scalarNames.forEach((name, s) => { scalars[s] = entry.scalars?.[name] ?? access.initialScalar(name); });
      made.push({ step: entry.step, buffers, touchedRows: entry.touchedRows?.slice() ?? null, scalars });
      for (const name of access.bufferNames(restored[groupOf[i]!]!, params[i]!)) {
        buffers.set(name, new F32Block(blockFloats(access.bufferLayout(name), access.bufferLength(params[i]!, name))));
      }
    }
  } catch (error) {
    for (const state of made) if (state !== null) for (const block of state.buffers.values()) block.free();
    throw error;
  }
  // Copy after all allocation: growing the memory could have detached a view read earlier.
  made.forEach((state, i) => {
    if (state === null) return;
    const saved = (entries[i] as { buffers: Record<string, StateArray> }).buffers;
    for (const [name, block] of state.buffers) {
      const values = saved[name]!;
      (stateView(block, access.bufferLayout(name), values.length) as Uint8Array).set(values as Uint8Array);
    }
  });
  restored.forEach((group, g) => Object.assign(groups[g]!, group));
  params.forEach((param, i) => {
    access.freeState(param);
    const state = made[i];
    if (state !== null && state !== undefined) access.state.set(param, state);
  });
}
