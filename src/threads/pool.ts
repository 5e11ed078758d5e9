// The worker pool: initThreads/terminateThreads and the dispatch of one batch of kernel calls.
//
// Every worker instantiates the module the main thread compiled over the same shared memory, so
// a kernel call is just its export's index and its numeric arguments. A batch is a list of such
// calls ("pieces") grouped into tasks; it is written into one SharedArrayBuffer, published by
// bumping a generation counter, and every thread — the caller included — claims tasks with an
// atomic counter until none are left. Claiming rather than a fixed assignment means a worker that
// is slow to wake (or dead) costs nothing: the caller simply takes its tasks. Each task computes
// the same bytes whoever runs it, and reductions leave one partial per piece that the caller
// combines in piece order, so results are bit-identical to one thread.
//
// Waiting: workers spin on the generation for a while after each batch, then Atomics.wait; the
// caller only ever spins (Atomics.wait is not allowed on a browser main thread, and the batches
// are short).

import { kernels as loadedKernels, moduleForThreads, setThreadCount } from "../bindings/instance.js";
import { F32Block, setStepScalarsAt, stepScalars } from "../bindings/memory.js";
import { checkBounded } from "../checks.js";
import type { Kernels } from "../bindings/kernels.js";
import { startWorker, type WorkerHandle } from "./spawn.js";
import { CTRL, MAX_ARGS, PIECE_STRIDE, THREAD_KERNELS, layout, runPiece, type Layout, type ThreadKernel } from "./shared.js";

import { MAX_PIECES, MAX_TASKS, nodeModule } from "./limits.js";

export { MAX_PIECES, MAX_TASKS };
/** A claim counter parked here between batches: a late worker's claim then finds nothing. */
const PARKED = 1 << 30;
/** A batch whose claimed tasks make no progress for this long is declared stuck. */
const STUCK_MS = 30000;

let shared: Layout | null = null;
let workers: WorkerHandle[] = [];
let scratchBlocks: F32Block[] = [];
let mainKernels: Kernels | null = null;
let active = 1;
let warned = false;

let paused = false;
/**
 * Whether this thread may block in Atomics.wait (not on a browser's main thread). Where it may,
 * the caller sleeps once it has spun a while for a worker's last task: on a loaded host the
 * worker may be waiting for a core, and a spinning caller would keep one from it.
 */
let canBlock = false;
/** Spins (of a few ns each) before a caller that can block sleeps while a worker finishes. */
const SPINS_BEFORE_SLEEP = 1 << 14;

function blockingAllowed(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Threads now sharing work (1: everything runs on the calling thread). */
export function threadCount(): number {
  return paused ? 1 : active;
}

/**
 * @internal For benchmarks: while paused, calls run on the calling thread alone and the workers
 * stay started, so one process can interleave one-thread and all-thread measurements.
 */
export function pauseThreads(pause: boolean): void {
  paused = pause;
}

/** The module's own kernels (not the step recorder), once threads were started. */
export function ownKernels(): Kernels {
  return mainKernels!;
}

/** The dispatch index of a kernel (the same in every thread). */
export function kernelId(name: ThreadKernel): number {
  return THREAD_KERNELS.indexOf(name);
}

/** @internal Tasks the workers have run since initThreads (0 with one thread). */
export function workerTaskCount(): number {
  return shared === null ? 0 : Atomics.load(shared.ctrl, CTRL.WORKER_TASKS);
}


/** The shared arrays a batch is written into (valid while threadCount() > 1). */
export function batchArrays(): Layout {
  return shared!;
}

function defaultCount(): number {
  const g = globalThis as { navigator?: { hardwareConcurrency?: number } };
  const fromNavigator = g.navigator?.hardwareConcurrency;
  return typeof fromNavigator === "number" && fromNavigator >= 1 ? fromNavigator : 1;
}

async function nodeParallelism(): Promise<number | undefined> {
  const runtime = globalThis as { process?: { versions?: { node?: string } } };
  if (runtime.process?.versions?.node === undefined) return undefined;
  try {
    const os = (await import(/* @vite-ignore */ nodeModule("node:os"))) as { availableParallelism?: () => number; cpus(): unknown[] };
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return undefined;
  }
}

function warn(message: string): void {
  if (warned) return;
  warned = true;
  (globalThis as { console?: { warn(message: string): void } }).console?.warn(message);
}

/** Drops a worker that exited or failed: its tasks are claimed by the others from now on. */
function lose(handle: WorkerHandle, reason: string): void {
  const index = workers.indexOf(handle);
  if (index < 0) return;
  workers.splice(index, 1);
  active = workers.length + 1;
  setThreadCount(active);
  handle.terminate();
  warn(`simdopt: a worker thread stopped (${reason}); simdopt continues on ${active} thread${active === 1 ? "" : "s"}`);
}

/** @internal Test hook: every worker stops as if it had crashed. */
export function crashWorkersForTest(): void {
  for (const handle of workers) handle.crash();
}

/** @internal Test hook: make the next workers fail at start-up ("start") or leave them alone. */
let simulateFailure: "" | "start" | "unavailable" = "";
export function setSimulatedFailure(mode: "" | "start" | "unavailable"): void {
  simulateFailure = mode;
}

/**
 * Starts `n - 1` worker threads (default: the cores the runtime reports) that share the work of
 * step(), clipGradNorm, matmul and batch norm with the calling thread. Resolves to the number of
 * threads that now share work: 1 where workers or shared memory are unavailable, or if none
 * could start (with a warning). Calling it again first stops the current workers.
 */
export async function initThreads(n?: number): Promise<number> {
  const wanted = n === undefined ? (await nodeParallelism()) ?? defaultCount() : checkBounded("initThreads ", "n", n, { min: 1, max: 256 }, 1);
  if (!Number.isInteger(wanted)) throw new RangeError(`simdopt: initThreads n must be an integer ≥ 1, got ${String(n)}`);
  terminateThreads();
  warned = false;
  const kernels = loadedKernels(); // throws the "call init() first" error (no step runs now: no override)
  const handles = moduleForThreads();
  if (wanted <= 1 || handles === null || simulateFailure === "unavailable") return 1;
  mainKernels = kernels;
  canBlock = blockingAllowed();
  // The main instance leaves the static scratch too: a worker's instantiation re-applies the
  // module's data segments (zeros over the static block) while the main thread may be running.
  const scratchFloats = Math.ceil(kernels.threadScratchBytes() / 4);
  const mainScratch = new F32Block(scratchFloats);
  kernels.setThreadScratch(mainScratch.ptr);
  setStepScalarsAt(kernels.scalarsAt());
  for (const block of scratchBlocks) block.free();
  scratchBlocks = [mainScratch];
  const sab = layout(MAX_PIECES, MAX_TASKS);
  shared = sab;
  Atomics.store(sab.ctrl, CTRL.NEXT, PARKED);
  const starting: Promise<WorkerHandle | null>[] = [];
  for (let i = 1; i < wanted; i++) {
    const block = new F32Block(scratchFloats);
    scratchBlocks.push(block);
    starting.push(startWorker({
      module: handles.module, memory: handles.memory, buffer: sab.buffer, scratch: block.ptr,
      fail: simulateFailure === "start",
    }, (handle, reason) => lose(handle, reason)).catch((error: unknown) => {
      warn(`simdopt: a worker thread could not start (${error instanceof Error ? error.message : String(error)}); continuing with fewer threads`);
      return null;
    }));
  }
  const started = await Promise.all(starting);
  if (shared !== sab) {
    // terminateThreads() ran meanwhile.
    for (const handle of started) handle?.terminate();
    return 1;
  }
  workers = started.filter((handle): handle is WorkerHandle => handle !== null);
  active = workers.length + 1;
  setThreadCount(active);
  if (active === 1) shared = null;
  return active;
}

/** Stops the worker threads; everything runs on the calling thread again. Safe to call any time. */
export function terminateThreads(): void {
  const stopping = workers;
  workers = [];
  active = 1;
  setThreadCount(1);
  if (shared !== null) {
    Atomics.store(shared.ctrl, CTRL.STOP, 1);
    Atomics.add(shared.ctrl, CTRL.GEN, 1);
    Atomics.notify(shared.ctrl, CTRL.GEN);
  }
  shared = null;
  for (const handle of stopping) handle.terminate();
  // Workers are gone (terminate is immediate for our purposes: they only touch their own scratch
  // and pieces of a batch, and no batch is running), so their scratch can go.
  if (scratchBlocks.length > 0) {
    mainKernels?.setThreadScratch(scratchBlocks[0]!.ptr); // keep the main one until replaced
    for (let i = 1; i < scratchBlocks.length; i++) scratchBlocks[i]!.free();
    scratchBlocks = scratchBlocks.slice(0, 1);
  }
}

/**
 * Runs the batch written into batchArrays(): `pieces` calls in `tasks` tasks (task t runs pieces
 * bounds[t] to bounds[t + 1] − 1). Returns when every task is done; results[i] holds piece i's
 * return value. Throws (and turns threads off) if a worker reported an error or the batch stuck.
 */
export function runBatch(tasks: number): void {
  const sab = shared!;
  const ctrl = sab.ctrl;
  Atomics.store(ctrl, CTRL.DONE, 0);
  Atomics.store(ctrl, CTRL.ERROR, 0);
  Atomics.store(ctrl, CTRL.COUNT, tasks);
  Atomics.store(ctrl, CTRL.NEXT, 0);
  Atomics.add(ctrl, CTRL.GEN, 1);
  if (Atomics.load(ctrl, CTRL.SLEEPERS) > 0) Atomics.notify(ctrl, CTRL.GEN);
  const bounds = sab.bounds;
  const pieces = sab.pieces;
  const results = sab.results;
  const scalars = stepScalars();
  for (;;) {
    const t = Atomics.add(ctrl, CTRL.NEXT, 1);
    if (t >= tasks) break;
    for (let p = bounds[t]!; p < bounds[t + 1]!; p++) results[p] = runPiece(mainKernels!, scalars, pieces, p * PIECE_STRIDE);
    Atomics.add(ctrl, CTRL.DONE, 1);
  }
  let spins = 0;
  let since = 0;
  let doneBefore = -1;
  for (;;) {
    const done = Atomics.load(ctrl, CTRL.DONE);
    if (done >= tasks) break;
    if (canBlock && spins >= SPINS_BEFORE_SLEEP) {
      Atomics.store(ctrl, CTRL.WAITING, 1);
      Atomics.wait(ctrl, CTRL.DONE, done, 2);
      Atomics.store(ctrl, CTRL.WAITING, 0);
    }
    if ((++spins & 0x3fff) === 0) {
      const now = Date.now();
      if (done !== doneBefore) { doneBefore = done; since = now; }
      else if (now - since > STUCK_MS) {
        Atomics.store(ctrl, CTRL.NEXT, PARKED);
        terminateThreads();
        throw new Error("simdopt: a worker thread stopped responding in the middle of a call; threads are now off (initThreads() starts them again)");
      }
    }
  }
  Atomics.store(ctrl, CTRL.NEXT, PARKED);
  if (Atomics.load(ctrl, CTRL.ERROR) !== 0) {
    terminateThreads();
    throw new Error("simdopt: a worker thread failed while running a kernel; threads are now off (initThreads() starts them again)");
  }
}

export { MAX_ARGS, PIECE_STRIDE };
