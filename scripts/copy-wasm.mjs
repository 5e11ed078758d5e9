// Ships the plain SIMD .wasm build beside dist/ for runtimes that import or fetch the file
// themselves (edge workers import it as a module and pass it to init()). The relaxed-SIMD build
// travels only inside the main entry, as a patch against this one: it changes nothing but the
// FMA in GEMM and batch norm, which measures 0.87-1.29x the plain build (bench/results.json), not
// worth a second copy of the module in every install.
import { copyFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
copyFileSync(new URL("build/simdopt-simd.wasm", root), new URL("dist/simdopt-simd.wasm", root));
