// Argument and option checks shared by the whole TypeScript layer. Every message has the same
// shape — "simdopt: <where><name> must be <what is allowed>, got <the value>" — and shows the
// value as it was given: the string "4" prints as `"4" (string)`, a Float64Array by its type.
//
// The checks that run inside `step()` are kept tiny (the engine inlines them and never boxes
// the value); the message is only assembled, out of line, when one fails, so a passing check
// allocates nothing.

/** The value as a message shows it: its contents when short, its type always when not a number. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "string":
      return `${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)} (string)`;
    case "boolean":
      return `${value} (boolean)`;
    case "bigint":
      return `${value}n (bigint)`;
    case "undefined":
      return "undefined";
    case "symbol":
      return `${String(value)} (symbol)`;
    case "function":
      return "a function";
  }
  if (value === null) return "null";
  if (ArrayBuffer.isView(value)) {
    const length = (value as unknown as { length?: number }).length ?? value.byteLength;
    return `a ${value.constructor.name} of length ${length}`;
  }
  if (Array.isArray(value)) {
    const shown = value.length <= 6 && value.every((entry) => entry === null || typeof entry !== "object")
      ? `[${value.map(describe).join(", ")}]`
      : `an array of length ${value.length}`;
    return shown;
  }
  const name = Object.getPrototypeOf(value)?.constructor?.name as string | undefined;
  return name !== undefined && name !== "Object" ? `a ${name}` : "an object";
}

/** "simdopt: <where><name> must be <requirement>, got <value>" as TypeError (wrong type) or RangeError. */
export function reject(where: string, name: string, value: unknown, requirement: string, wrongType = typeof value !== "number" || Number.isNaN(value)): never {
  const ErrorType = wrongType ? TypeError : RangeError;
  throw new ErrorType(`simdopt: ${where}${name} must be ${requirement}, got ${describe(value)}`);
}

// ---- numbers ----

export function checkNumber(where: string, name: string, value: unknown): number {
  if (typeof value !== "number" || value !== value) reject(where, name, value, "a number");
  return value as number;
}

export function checkFinite(where: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !(value > -Infinity && value < Infinity)) reject(where, name, value, "a finite number");
  return value as number;
}

export function checkNonNegative(where: string, name: string, value: unknown): void {
  if (typeof value !== "number" || !(value >= 0 && value < Infinity)) reject(where, name, value, "a finite number ≥ 0");
}

export function checkPositive(where: string, name: string, value: unknown): void {
  if (typeof value !== "number" || !(value > 0 && value < Infinity)) reject(where, name, value, "a finite number > 0");
}

/** A coefficient in [0, 1) (betas, alpha, rho) or, with `closed`, in [0, 1]. */
export function checkUnitInterval(where: string, name: string, value: unknown, closed = false): void {
  if (typeof value !== "number" || !(value >= 0 && (value < 1 || (closed && value === 1)))) {
    reject(where, name, value, closed ? "in [0, 1]" : "in [0, 1)");
  }
}

/** A pair [beta1, beta2], each in [0, 1). */
export function checkBetas(where: string, name: string, value: unknown): void {
  if (!Array.isArray(value) || value.length !== 2) reject(where, name, value, "a pair [beta1, beta2]", true);
  const pair = value as unknown[];
  const beta1 = pair[0];
  const beta2 = pair[1];
  if (typeof beta1 !== "number" || !(beta1 >= 0 && beta1 < 1)) reject(where, `${name}[0]`, beta1, "in [0, 1)");
  if (typeof beta2 !== "number" || !(beta2 >= 0 && beta2 < 1)) reject(where, `${name}[1]`, beta2, "in [0, 1)");
}

/** An integer in [min, max] (both finite and safe); fractional, unsafe or non-finite values throw. */
export function checkInteger(where: string, name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    reject(where, name, value, `an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? "2^53 − 1" : max}]`);
  }
  return value as number;
}

/** Bounds of a numeric option. */
export interface NumberCheck {
  integer?: boolean;
  min?: number;
  /** `min` itself is excluded. */
  minExclusive?: boolean;
  max?: number;
  /** `max` itself is excluded. */
  maxExclusive?: boolean;
}

function describeBounds(check: NumberCheck): string {
  const parts: string[] = [];
  if (check.min !== undefined) parts.push(`${check.minExclusive ? ">" : "≥"} ${check.min}`);
  if (check.max !== undefined) parts.push(`${check.maxExclusive ? "<" : "≤"} ${check.max}`);
  return `a finite ${check.integer ? "integer" : "number"}${parts.length > 0 ? " " + parts.join(" and ") : ""}`;
}

/** A finite number within bounds (an integer if asked), or `fallback` when `value` is undefined. */
export function checkBounded(where: string, name: string, value: unknown, check: NumberCheck, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new TypeError(`simdopt: ${where}requires the option ${name}`);
    return fallback;
  }
  const ok = typeof value === "number" && Number.isFinite(value)
    && (!check.integer || Number.isSafeInteger(value))
    && (check.min === undefined || (check.minExclusive ? value > check.min : value >= check.min))
    && (check.max === undefined || (check.maxExclusive ? value < check.max : value <= check.max));
  if (!ok) reject(where, name, value, describeBounds(check));
  return value as number;
}

// ---- other kinds ----

export function checkBoolean(where: string, name: string, value: unknown): boolean {
  if (typeof value !== "boolean") reject(where, name, value, "a boolean (true or false)", true);
  return value as boolean;
}

/** A boolean, or `fallback` when undefined. */
export function optionalBoolean(where: string, name: string, value: unknown, fallback: boolean): boolean {
  return value === undefined ? fallback : checkBoolean(where, name, value);
}

/** One of the allowed strings, or `fallback` when undefined. */
export function checkChoice<T extends string>(where: string, name: string, value: unknown, choices: readonly T[], fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    reject(where, name, value, `one of ${choices.map((c) => `"${c}"`).join(", ")}`, typeof value !== "string");
  }
  return value as T;
}

/** Throws unless `value` is a plain options object (or undefined when `optional`). */
export function checkObject(where: string, value: unknown, optional = true): void {
  if (value === undefined && optional) return;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`simdopt: ${where} must be an object, got ${describe(value)}`);
  }
}

// ---- option keys ----

/** True when a and b differ by one insertion, deletion, substitution or adjacent swap. */
function oneEditApart(a: string, b: string): boolean {
  if (a === b) return false;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true; // substitution
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2); // swap
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

function snakeToCamel(key: string): string {
  return key.replace(/[_-]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The option `key` was probably meant to be — the same but for case, snake_case instead of
 * camelCase, or one edit (case-insensitively) — or undefined.
 */
export function nearMiss(key: string, options: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const camelLower = snakeToCamel(key).toLowerCase();
  for (const option of options) {
    if (option === key) return undefined;
  }
  for (const option of options) {
    const target = option.toLowerCase();
    if (target === lower || target === camelLower) return option;
  }
  for (const option of options) {
    const target = option.toLowerCase();
    if (oneEditApart(lower, target) || oneEditApart(camelLower, target)) return option;
  }
  return undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

/** A hint for an unknown key: a near-miss, else an option it abbreviates or is two edits from. */
function suggestion(key: string, options: readonly string[]): string | undefined {
  const close = nearMiss(key, options);
  if (close !== undefined) return close;
  const lower = snakeToCamel(key).toLowerCase();
  return options.find((option) => lower.length >= 3 && option.toLowerCase().startsWith(lower))
    ?? options.find((option) => editDistance(lower, option.toLowerCase()) <= 2 && Math.min(lower.length, option.length) > 3);
}

function unknownKey(where: string, key: string, allowed: readonly string[]): never {
  const guess = suggestion(key, allowed);
  const hint = guess === undefined ? "" : `; did you mean "${guess}"?`;
  throw new TypeError(`simdopt: ${where} has no option "${key}"${hint} (options: ${allowed.join(", ")})`);
}

/**
 * Throws TypeError for an own key of `object` that is not in `allowed`, with a "did you mean"
 * hint. A for-in over an object with only known keys allocates nothing, so this may run on a
 * hot path (`step()` options).
 */
export function checkOptionKeys(object: object, allowed: readonly string[], where: string): void {
  for (const key in object) {
    if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
    if (!allowed.includes(key)) unknownKey(where, key, allowed);
  }
}

/** checkObject + checkOptionKeys, for an options argument; returns it (or an empty object). */
export function readOptions(where: string, options: unknown, allowed: readonly string[], optional = true): Record<string, unknown> {
  if (options === undefined && optional) return {};
  checkObject(`${where} options`, options, false);
  checkOptionKeys(options as object, allowed, `${where}`);
  return options as Record<string, unknown>;
}

/**
 * For objects that may carry extra keys (param groups): throws TypeError for a key that is a
 * near-miss of a real option (a typo that would otherwise be silently ignored), or "__proto__".
 */
export function checkNoNearMisses(object: object, options: readonly string[], where: string): void {
  let accepted = acceptedExtraKeys.get(options);
  for (const key in object) {
    if (!Object.prototype.hasOwnProperty.call(object, key) || options.includes(key) || accepted?.has(key) === true) continue;
    if (key === "__proto__") throw new TypeError(`simdopt: ${where} has an own "__proto__" key, which is not an option`);
    const guess = nearMiss(key, options);
    if (guess !== undefined) {
      throw new TypeError(`simdopt: ${where} has no option "${key}"; did you mean "${guess}"? (options: ${options.join(", ")})`);
    }
    if (accepted === undefined) acceptedExtraKeys.set(options, (accepted = new Set()));
    accepted.add(key);
  }
}

/** Extra keys already found not to be near-misses, per option list: a repeated check allocates nothing. */
const acceptedExtraKeys = new WeakMap<readonly string[], Set<string>>();
