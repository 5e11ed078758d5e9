// Small helpers of the tfjs adapter: option-key checks and the optimizer config as tfjs-layers
// stores it in a saved model.

/** Throws TypeError for a non-object or a key not in `allowed`, with a "did you mean" hint. */
export function checkOptionKeys(what: string, options: unknown, allowed: readonly string[]): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`simdopt: ${what} must be an object, got ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((name) => name.toLowerCase() === key.toLowerCase().replace(/_/g, "") || editDistanceAtMostOne(name, key));
    throw new TypeError(`simdopt: ${what} has no option "${key}"${near === undefined ? "" : ` (did you mean "${near}"?)`}; allowed: ${allowed.join(", ")}`);
  }
}

function editDistanceAtMostOne(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const restA = a.slice(i);
  const restB = b.slice(i);
  return restA.slice(1) === restB.slice(1) || restA === restB.slice(1) || restA.slice(1) === restB;
}

// tfjs-layers rewrites every string of a loaded training config from snake_case to camelCase
// (convertPythonicToTs), which would mangle a RegExp source or an option value such as
// "match_rms_adamw". The config therefore travels as one JSON string with "_" and "%"
// percent-encoded, which that conversion leaves alone.

export function encodeConfig(config: object): string {
  return JSON.stringify(config).replace(/[%_]/g, (c) => (c === "%" ? "%25" : "%5F"));
}

export function decodeConfig(config: Record<string, unknown>): unknown {
  const text = config["simdopt"];
  if (typeof text !== "string") throw new TypeError("simdopt: the optimizer config has no simdopt entry (was it saved by simdopt/tfjs?)");
  return JSON.parse(text.replace(/%5F|%25/g, (code) => (code === "%5F" ? "_" : "%")));
}
