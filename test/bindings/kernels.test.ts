// The hand-written kernel bindings (src/bindings/kernels.ts) against the compiled modules: every
// declared kernel is exported with as many parameters as declared, booleans cross as i32, a
// kernel declared to return a number returns one value and a void one none; and every exported
// function is declared. A changed kernel signature cannot drift from its binding unnoticed.

import { readdirSync, readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { exportedFunctionSignatures } from "../support/wasm-signatures.js";

interface Declared {
  params: { name: string; type: string }[];
  returns: string;
}

function declaredKernels(): Map<string, Declared> {
  const path = new URL("../../src/bindings/kernels.ts", import.meta.url);
  const source = ts.createSourceFile("kernels.ts", readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true);
  const result = new Map<string, Declared>();
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== "Kernels") return;
    for (const member of node.members) {
      if (!ts.isMethodSignature(member)) throw new Error(`Kernels member ${member.getText(source)} is not a method`);
      result.set(member.name.getText(source), {
        params: member.parameters.map((p) => ({ name: p.name.getText(source), type: p.type!.getText(source) })),
        returns: member.type!.getText(source),
      });
    }
  });
  return result;
}

const declared = declaredKernels();

// Both builds are read from build/: the package ships only the plain one (the relaxed travels as a patch).
describe.each(["simd", "relaxed"])("the %s module's exports match src/bindings/kernels.ts", (variant) => {
  const bytes = new Uint8Array(readFileSync(new URL(`../../build/simdopt-${variant}.wasm`, import.meta.url)));
  const exported = exportedFunctionSignatures(bytes);

  it("exports exactly the declared kernels (names agree with WebAssembly.Module.exports)", () => {
    // The relaxed module needs relaxed SIMD to compile, which not every Node has: its binary is
    // read as for the simd one, and the reader itself is checked against the JS API on the latter.
    if (variant === "simd") {
      const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).filter((e) => e.kind === "function").map((e) => e.name);
      expect([...exported.keys()].sort()).toEqual([...names].sort());
    }
    expect([...exported.keys()].sort()).toEqual([...declared.keys()].sort());
    expect(declared.size).toBeGreaterThan(30);
  });

  it.each([...declared.keys()])("%s: parameter count and types, result", (name) => {
    const wasm = exported.get(name);
    const binding = declared.get(name)!;
    expect(wasm, `${name} is not exported`).toBeDefined();
    expect(wasm!.params.length, `${name}(${binding.params.map((p) => p.name).join(", ")}) vs wasm (${wasm!.params.join(", ")})`)
      .toBe(binding.params.length);
    binding.params.forEach((param, i) => {
      expect(["number", "boolean"], `${name}: ${param.name}`).toContain(param.type);
      if (param.type === "boolean") expect(wasm!.params[i], `${name}: ${param.name} is a boolean`).toBe("i32");
      else expect(["i32", "f32", "f64"], `${name}: ${param.name}`).toContain(wasm!.params[i]);
    });
    expect(wasm!.results.length, `${name} returns ${binding.returns}`).toBe(binding.returns === "void" ? 0 : 1);
  });
});

/** `export function name(a: T, b: U, ...)` of every AssemblyScript source, by name. */
function assemblyParameterNames(): Map<string, string[]> {
  const result = new Map<string, string[]>();
  const root = new URL("../../assembly/", import.meta.url);
  for (const file of readdirSync(root, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith(".ts")) continue;
    const text = readFileSync(new URL(file, root), "utf8");
    for (const match of text.matchAll(/^export function (\w+)(?:<[^>]*>)?\(([^)]*)\)/gm)) {
      const params = match[2]!.split(",").map((p) => p.trim()).filter((p) => p !== "").map((p) => p.split(":")[0]!.trim());
      result.set(match[1]!, params);
    }
  }
  return result;
}

describe("parameter names agree with the AssemblyScript sources", () => {
  const sources = assemblyParameterNames();
  it.each([...declared.keys()])("%s", (name) => {
    expect(sources.get(name), `${name} not found as an exported function in assembly/`).toBeDefined();
    // kernels.ts marks float64 arrays with a "64" suffix (e.g. channelMean64); the kernels do not.
    expect(declared.get(name)!.params.map((p) => p.name.replace(/_?64$/, ""))).toEqual(sources.get(name));
  });
});
