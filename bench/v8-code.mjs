// Prints the machine code V8's optimizing tier (TurboFan) generates for one kernel of the plain
// SIMD build, to check the hot loop by eye: constants held in registers (no f32x4.splat
// re-broadcast), no per-vector branch, two vectors per iteration.
//   node bench/v8-code.mjs [adamStep]      (after npm run build; needs build/simdopt-simd.wat)
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const kernel = process.argv[2] ?? "adamStep";
if (process.env.SIMDOPT_V8_CHILD) {
  // The per-module build (build/js, not shipped): the kernels accessor is not public.
  const simdopt = await import("../build/js/index.js");
  const { kernels } = await import("../build/js/bindings/instance.js");
  const { stepScalars } = await import("../build/js/bindings/memory.js");
  await simdopt.init();
  const n = 10_000;
  const views = Array.from({ length: 5 }, () => simdopt.parameter([n], { init: "ones" }).data);
  const [p, g, a, b, c] = views.map((v) => v.byteOffset);
  // The step kernels read their float arguments from the scalar slots (kernels.ts lists them).
  const withScalars = (values, call) => () => { stepScalars().set(values); call(); };
  const calls = {
    adamStep: withScalars([0.9, 0.999, 1e-8, 0, 1, 1e-3, 1.1], () => kernels().adamStep(p, g, a, b, 0, n, false)),
    sgdStep: withScalars([1e-3, 0.9, 0, 0, 0], () => kernels().sgdStep(p, g, a, n, false, false, false)),
    lionStep: withScalars([1e-4, 0.9, 0.99, 1], () => kernels().lionStep(p, g, a, n, false)),
    rmspropStep: withScalars([1e-2, 0.99, 1e-8, 0, 0.9], () => kernels().rmspropStep(p, g, a, b, c, n, false)),
  };
  if (!calls[kernel]) throw new Error(`no call set up for ${kernel}; one of ${Object.keys(calls).join(", ")}`);
  for (let i = 0; i < 3000; i++) calls[kernel]();
} else {
  // The function index is the kernel's position among the module's functions (it imports none).
  const wat = readFileSync(new URL("../build/simdopt-simd.wat", import.meta.url), "utf8");
  const names = [...wat.matchAll(/^ \(func \$(\S+)/gm)].map((m) => m[1]);
  const index = names.findIndex((name) => name.endsWith(`/${kernel}`));
  if (index < 0) throw new Error(`${kernel} not found in build/simdopt-simd.wat`);
  const child = spawnSync(process.execPath,
    ["--print-wasm-code", `--print-wasm-code-function-index=${index}`, fileURLToPath(import.meta.url), kernel],
    { env: { ...process.env, SIMDOPT_V8_CHILD: "1" }, encoding: "utf8", maxBuffer: 1 << 28 });
  const text = child.stdout + child.stderr;
  const optimized = text.slice(text.indexOf("compiler: TurboFan"));
  if (!text.includes("compiler: TurboFan")) throw new Error("no TurboFan code printed (does this node support --print-wasm-code?)");
  console.log(optimized.split("\n").map((line) => line.slice(40)).join("\n"));
}
