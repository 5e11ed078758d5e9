// Loading errors name what was expected. Runs in its own file (its own module instance) so that
// the module is not loaded yet when the bad calls are made; they must leave it unloaded.

import { describe, expect, it } from "vitest";
import { features, init, initSync, parameter } from "../../src/index.js";

/** A valid module that imports a shared memory as simdopt's does, but exports nothing. */
const FOREIGN_MODULE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, // magic, version
  2, 18, 1, 3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, 3, 1, 0x80, 0x80, 0x04, // import env.memory shared 1..65536
]);

describe("init errors before the module is loaded", () => {
  it("a module that is not simdopt's is named as such, and nothing is loaded", () => {
    expect(WebAssembly.validate(FOREIGN_MODULE)).toBe(true);
    expect(features().threads).toBe(true); // this file's module imports a shared memory
    expect(() => initSync(FOREIGN_MODULE)).toThrow(/not simdopt's \(it has no "heapBase" export\).*\.wasm file that ships/);
    expect(() => parameter([2])).toThrow(/not loaded/);
  });

  it("a string that is not a URL names the argument and the value", async () => {
    await expect(init("http://[not a url")).rejects.toThrow(/init\(source\): "http:\/\/\[not a url" \(string\) is not a valid URL/);
    await expect(init(42 as never)).rejects.toThrow(/init\(source\) takes .*got 42/);
    expect(() => initSync("x.wasm" as never)).toThrow(/initSync\(source\) takes .*got "x.wasm" \(string\)/);
  });

  it("loads afterwards", async () => {
    await init();
    expect(parameter([2]).size).toBe(2);
  });
});
