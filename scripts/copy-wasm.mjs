// Ships the raw .wasm builds beside dist/ for runtimes that import or fetch the file themselves
// (edge workers import it as a module and pass it to init()).
import { copyFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
for (const build of ["simd", "relaxed"]) {
  copyFileSync(new URL(`build/simdopt-${build}.wasm`, root), new URL(`dist/simdopt-${build}.wasm`, root));
}
