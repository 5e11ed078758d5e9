// Reads the exported functions' signatures from a wasm binary (type, import, function and export
// sections), since the JS API reports export names and kinds but not function types.

export interface WasmSignature {
  params: string[];
  results: string[];
}

const VALUE_TYPES: Record<number, string> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };

export function exportedFunctionSignatures(bytes: Uint8Array): Map<string, WasmSignature> {
  let offset = 8; // magic and version
  const u32 = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[offset++]!;
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  };
  const name = (): string => {
    const length = u32();
    const text = new TextDecoder().decode(bytes.subarray(offset, offset + length));
    offset += length;
    return text;
  };
  const valueType = (): string => {
    const code = bytes[offset++]!;
    const type = VALUE_TYPES[code];
    if (type === undefined) throw new Error(`unknown value type 0x${code.toString(16)}`);
    return type;
  };
  const skipLimits = (): void => {
    const flags = u32();
    u32();
    if (flags & 1) u32();
  };
  const types: WasmSignature[] = [];
  const functionTypes: number[] = []; // imported functions first, as in the function index space
  const exports = new Map<string, number>();
  while (offset < bytes.length) {
    const id = bytes[offset++]!;
    const size = u32();
    const end = offset + size;
    if (id === 1) {
      for (let count = u32(), i = 0; i < count; i++) {
        if (bytes[offset++] !== 0x60) throw new Error("only function types are expected in the type section");
        const params = Array.from({ length: u32() }, valueType);
        const results = Array.from({ length: u32() }, valueType);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let count = u32(), i = 0; i < count; i++) {
        name();
        name();
        const kind = bytes[offset++]!;
        if (kind === 0) functionTypes.push(u32());
        else if (kind === 1) { offset++; skipLimits(); }
        else if (kind === 2) skipLimits();
        else if (kind === 3) offset += 2;
      }
    } else if (id === 3) {
      for (let count = u32(), i = 0; i < count; i++) functionTypes.push(u32());
    } else if (id === 7) {
      for (let count = u32(), i = 0; i < count; i++) {
        const exportName = name();
        const kind = bytes[offset++]!;
        const index = u32();
        if (kind === 0) exports.set(exportName, index);
      }
    }
    offset = end;
  }
  const result = new Map<string, WasmSignature>();
  for (const [exportName, index] of exports) result.set(exportName, types[functionTypes[index]!]!);
  return result;
}
