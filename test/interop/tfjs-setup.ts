// Loads the full @tensorflow/tfjs (layers and gradients) with its cpu backend and the wasm
// backend (one thread, its .wasm files from node_modules), once per test file.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { init } from "../../src/index.js";

export type Backend = "cpu" | "wasm";
export const BACKENDS: Backend[] = ["cpu", "wasm"];

let ready: Promise<typeof tf> | null = null;

export function loadTf(): Promise<typeof tf> {
  ready ??= (async () => {
    await init();
    const require = createRequire(import.meta.url);
    setWasmPaths(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + "/");
    setThreadsCount(1);
    // tfjs-backend-cpu prints a "use tfjs-node" banner on first use; it says nothing about us.
    const warn = console.warn;
    console.warn = () => {};
    try {
      await tf.setBackend("wasm");
      await tf.setBackend("cpu");
      tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)));
    } finally {
      console.warn = warn;
    }
    return tf;
  })();
  return ready;
}

export async function useBackend(backend: Backend): Promise<typeof tf> {
  const loaded = await loadTf();
  await loaded.setBackend(backend);
  await loaded.ready();
  return loaded;
}

let counter = 0;
/** A variable with a name unique in this process (tfjs registers variables by name). */
export function variable(values: number[] | Float32Array, shape: number[], name = "v"): tf.Variable {
  return tf.variable(tf.tensor(values, shape, "float32"), true, `${name}_${counter++}`);
}
