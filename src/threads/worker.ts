// The worker thread's side: instantiate the module over the shared memory, then claim and run
// tasks of each batch the main thread publishes (see pool.ts).

import { instantiateForWorker } from "../bindings/worker-instance.js";
import type { WorkerStart } from "./spawn.js";
import { CTRL, PIECE_STRIDE, layout, runPiece } from "./shared.js";
import { MAX_PIECES, MAX_TASKS, nodeModule } from "./limits.js";

/** Spin this long on the generation after a batch before sleeping (the next call usually comes soon). */
const SPIN_MS = 2;

type Post = (message: unknown) => void;

function serve(start: WorkerStart, post: Post): void {
  if (start.fail) throw new Error("simulated start-up failure");
  const kernels = instantiateForWorker(start.module, start.memory, start.scratch);
  // This instance's scalar slots (in its scratch block, allocated before the worker started).
  const scalars = new Float64Array(start.memory.buffer, kernels.scalarsAt(), 8);
  const { ctrl, bounds, pieces, results } = layout(MAX_PIECES, MAX_TASKS, start.buffer);
  post({ ready: true });
  let seen = Atomics.load(ctrl, CTRL.GEN);
  for (;;) {
    // Spin, then sleep until the generation moves.
    let deadline = 0;
    for (let spins = 0; Atomics.load(ctrl, CTRL.GEN) === seen; spins++) {
      if ((spins & 0xff) !== 0) continue;
      const now = Date.now();
      if (deadline === 0) deadline = now + SPIN_MS;
      else if (now > deadline) {
        Atomics.add(ctrl, CTRL.SLEEPERS, 1);
        Atomics.wait(ctrl, CTRL.GEN, seen);
        Atomics.sub(ctrl, CTRL.SLEEPERS, 1);
        deadline = 0;
      }
    }
    seen = Atomics.load(ctrl, CTRL.GEN);
    if (Atomics.load(ctrl, CTRL.STOP) !== 0) return;
    for (;;) {
      const t = Atomics.add(ctrl, CTRL.NEXT, 1);
      if (t >= Atomics.load(ctrl, CTRL.COUNT)) break;
      try {
        for (let p = bounds[t]!; p < bounds[t + 1]!; p++) results[p] = runPiece(kernels, scalars, pieces, p * PIECE_STRIDE);
      } catch {
        Atomics.store(ctrl, CTRL.ERROR, 1);
      }
      Atomics.add(ctrl, CTRL.WORKER_TASKS, 1);
      Atomics.add(ctrl, CTRL.DONE, 1);
      if (Atomics.load(ctrl, CTRL.WAITING) !== 0) Atomics.notify(ctrl, CTRL.DONE);
    }
  }
}

function begin(start: WorkerStart, post: Post): void {
  try {
    serve(start, post);
  } catch (error) {
    post({ error: error instanceof Error ? error.message : String(error) });
  }
}

// The same choice as spawn.ts's useNodeWorkers (not imported: it would pull the spawner in).
const g = globalThis as { process?: { versions?: { node?: string } }; Bun?: unknown };
if (g.process?.versions?.node !== undefined && g.Bun === undefined) {
  const threads = (await import(/* @vite-ignore */ nodeModule("node:worker_threads"))) as {
    parentPort: { once(event: "message", listener: (value: WorkerStart) => void): void; postMessage(value: unknown): void } | null;
  };
  // No port outside a worker (the bundler imports every entry to check it): nothing to serve.
  const port = threads.parentPort;
  port?.once("message", (start) => begin(start, (message) => port.postMessage(message)));
} else {
  const scope = globalThis as unknown as { onmessage: ((event: MessageEvent) => void) | null; postMessage(value: unknown): void };
  scope.onmessage = (event: MessageEvent) => {
    scope.onmessage = null;
    begin(event.data as WorkerStart, (message) => scope.postMessage(message));
  };
}
