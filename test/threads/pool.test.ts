// The pool in this process (src/threads/pool.ts): initThreads' count and checks, start-up
// failures, lost workers, terminateThreads, and runBatch's waiting, error and stuck paths. The
// workers are stand-ins (see fake-spawn.ts); a "worker" acting on the control block is simulated
// at the moment the batch is published (see in-process.ts).
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

vi.mock("../../src/threads/spawn.js", () => import("./fake-spawn.js"));
const os = vi.hoisted(() => ({ parallelism: 3 as number | undefined, cpus: 7, throws: false }));
vi.mock("node:os", () => ({
  availableParallelism: () => os.parallelism,
  cpus: () => {
    if (os.throws) throw new Error("no cpus");
    return new Array<unknown>(os.cpus);
  },
}));

import { features, init } from "../../src/index.js";
import { kernels, moduleForThreads } from "../../src/bindings/instance.js";
import { stepScalars } from "../../src/bindings/memory.js";
import { initThreads, terminateThreads, threadsInternal } from "../../src/threads/api.js";
import { MAX_PIECES, MAX_TASKS } from "../../src/threads/limits.js";
import { CTRL, PIECE_STRIDE, layout } from "../../src/threads/shared.js";
import * as pool from "../../src/threads/pool.js";
import { reduceEach } from "../../src/threads/parallel.js";
import { fakeWorkers } from "./fake-spawn.js";
import { claim, onNextPublish, randomBlock, runTask } from "./in-process.js";

const PARKED = 2 ** 30;
const warnings: string[] = [];

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  terminateThreads();
  pool.setSimulatedFailure("");
  pool.pauseThreads(false);
  warnings.length = 0;
  fakeWorkers.length = 0;
});

function catchWarnings(): void {
  vi.spyOn(console, "warn").mockImplementation((message: string) => { warnings.push(message); });
}

describe("before init", () => {
  it("initThreads rejects with the init error, and terminateThreads is safe", async () => {
    expect(threadsInternal()).toBe(null);
    terminateThreads();
    await expect(initThreads(2)).rejects.toThrow("simdopt: the WebAssembly module is not loaded; call `await init()` (or `initSync()`) first");
    expect(threadsInternal()).toBe(pool);
    expect(pool.threadCount()).toBe(1);
    expect(pool.workerTaskCount()).toBe(0);
  });
});

describe("with the module loaded", () => {
  beforeAll(async () => {
    await init();
  });

  // Eight tensors of 6000 floats: enough for reduceEach to split (≥ 2¹⁵ elements in all).
  const LENGTHS = [6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000];
  function sums(): { expected: number[]; got: number[] } {
    const blocks = LENGTHS.map((length, i) => randomBlock(length, 40 + i));
    const ptrs = blocks.map((b) => b.ptr);
    const expected = blocks.map((b) => kernels().sumSquares(b.ptr, b.length));
    const got = new Array<number>(blocks.length).fill(-1);
    reduceEach(pool.ownKernels(), "sumSquares", ptrs, LENGTHS, got);
    for (const block of blocks) block.free();
    return { expected, got };
  }

  it("the calling thread's scratch (and its scalar slots) moves out of the static block into a block of its own", async () => {
    // First in this file to start threads: the blocks are allocated one after the other.
    const before = kernels().scalarsAt();
    // One thread moves nothing.
    expect(await initThreads(1)).toBe(1);
    expect(kernels().scalarsAt()).toBe(before);
    const bytes = kernels().threadScratchBytes();
    expect(await initThreads(3)).toBe(3);
    const at = kernels().scalarsAt();
    expect(at).not.toBe(before);
    expect(stepScalars().byteOffset).toBe(at);
    // One block of the scratch's size per thread, one after the other: the caller's first.
    const [w0, w1] = fakeWorkers.slice(-2).map((w) => w.start.scratch);
    expect(w1! - w0!).toBe(bytes);
    expect(at).toBeGreaterThanOrEqual(w0! - bytes);
    expect(at).toBeLessThan(w0!);
    terminateThreads();
    expect(kernels().scalarsAt()).toBe(at);
  });

  it("checks n: a finite integer from 1 to 256", async () => {
    await expect(initThreads(0)).rejects.toThrow(new RangeError("simdopt: initThreads n must be a finite number ≥ 1 and ≤ 256, got 0"));
    await expect(initThreads(257)).rejects.toThrow(new RangeError("simdopt: initThreads n must be a finite number ≥ 1 and ≤ 256, got 257"));
    await expect(initThreads(NaN)).rejects.toThrow(new TypeError("simdopt: initThreads n must be a finite number ≥ 1 and ≤ 256, got NaN"));
    await expect(initThreads("2" as unknown as number)).rejects.toThrow(new TypeError("simdopt: initThreads n must be a finite number ≥ 1 and ≤ 256, got \"2\" (string)"));
    await expect(initThreads(1.5)).rejects.toThrow(new RangeError("simdopt: initThreads n must be an integer ≥ 1, got 1.5"));
    expect(fakeWorkers).toHaveLength(0);
    expect(await initThreads(256)).toBe(256);
    expect(fakeWorkers).toHaveLength(255);
    terminateThreads();
    fakeWorkers.length = 0;
  });

  it("starts n − 1 workers over the module's shared memory, each with its own scratch block", async () => {
    expect(await initThreads(3)).toBe(3);
    expect(pool.threadCount()).toBe(3);
    expect(features().workers).toBe(3);
    const handles = moduleForThreads()!;
    const sab = pool.batchArrays();
    expect(sab.buffer.byteLength).toBe(layout(MAX_PIECES, MAX_TASKS).buffer.byteLength);
    expect(sab.ctrl[CTRL.NEXT]).toBe(PARKED);
    expect(fakeWorkers).toHaveLength(2);
    const scratch = Math.ceil(kernels().threadScratchBytes() / 4) * 4;
    for (const worker of fakeWorkers) {
      expect(worker.start.module).toBe(handles.module);
      expect(worker.start.memory).toBe(handles.memory);
      expect(worker.start.buffer).toBe(sab.buffer);
      expect(worker.start.fail).toBe(false);
    }
    // Separate blocks of the scratch's size.
    expect(Math.abs(fakeWorkers[1]!.start.scratch - fakeWorkers[0]!.start.scratch)).toBeGreaterThanOrEqual(scratch);
    const first = fakeWorkers.map((w) => w.start.scratch);
    // Starting again stops the current workers first and frees their scratch for the new ones.
    expect(await initThreads(3)).toBe(3);
    expect(fakeWorkers.slice(0, 2).map((w) => w.terminated)).toEqual([1, 1]);
    // (no new block lies above the old ones: they were reused)
    expect(Math.max(...fakeWorkers.slice(2).map((w) => w.start.scratch))).toBeLessThanOrEqual(Math.max(...first));
    pool.pauseThreads(true);
    expect(pool.threadCount()).toBe(1);
    pool.pauseThreads(false);
    expect(pool.threadCount()).toBe(3);
    const ctrl = pool.batchArrays().ctrl;
    const generation = ctrl[CTRL.GEN]!;
    const notify = vi.spyOn(Atomics, "notify");
    terminateThreads();
    expect(notify).toHaveBeenCalledWith(ctrl, CTRL.GEN);
    expect(ctrl[CTRL.STOP]).toBe(1);
    expect(ctrl[CTRL.GEN]).toBe(generation + 1);
    expect(fakeWorkers.slice(2).map((w) => w.terminated)).toEqual([1, 1]);
    expect(pool.threadCount()).toBe(1);
    expect(features().workers).toBe(1);
    expect(pool.workerTaskCount()).toBe(0);
    // A single thread, or no workers: nothing starts.
    fakeWorkers.length = 0;
    expect(await initThreads(1)).toBe(1);
    pool.setSimulatedFailure("unavailable");
    expect(await initThreads(4)).toBe(1);
    expect(fakeWorkers).toHaveLength(0);
  });

  it("n defaults to the cores Node reports, else to navigator.hardwareConcurrency, else 1", async () => {
    os.parallelism = 3;
    expect(await initThreads()).toBe(3);
    os.parallelism = undefined;
    expect(await initThreads()).toBe(7); // os.cpus().length
    os.throws = true;
    vi.stubGlobal("navigator", { hardwareConcurrency: 4 });
    expect(await initThreads()).toBe(4);
    vi.stubGlobal("navigator", { hardwareConcurrency: 0 });
    expect(await initThreads()).toBe(1);
    vi.stubGlobal("navigator", { hardwareConcurrency: NaN });
    expect(await initThreads()).toBe(1);
    vi.stubGlobal("navigator", { hardwareConcurrency: "4" });
    expect(await initThreads()).toBe(1);
    vi.stubGlobal("navigator", undefined);
    expect(await initThreads()).toBe(1);
    os.throws = false;
    os.parallelism = 3;
    // Outside Node the count comes from navigator alone (process is read before the first await).
    vi.stubGlobal("navigator", { hardwareConcurrency: 2 });
    const saved = globalThis.process;
    let count: Promise<number>;
    Object.defineProperty(globalThis, "process", { value: { versions: {} }, configurable: true, writable: true });
    try {
      count = pool.initThreads();
    } finally {
      Object.defineProperty(globalThis, "process", { value: saved, configurable: true, writable: true });
    }
    expect(await count).toBe(2);
  });

  it("a worker that fails to start is left out, with one warning however many fail", async () => {
    catchWarnings();
    pool.setSimulatedFailure("start");
    expect(await initThreads(3)).toBe(1);
    expect(warnings).toEqual(["simdopt: a worker thread could not start (simulated start-up failure); continuing with fewer threads"]);
    expect(pool.threadCount()).toBe(1);
    expect(pool.workerTaskCount()).toBe(0);
    // Each initThreads may warn again.
    expect(await initThreads(2)).toBe(1);
    expect(warnings).toHaveLength(2);
  });

  it("terminateThreads while workers start: they are stopped as they come, and initThreads resolves to 1", async () => {
    fakeWorkers.length = 0;
    const starting = initThreads(3);
    await Promise.resolve();
    await Promise.resolve();
    terminateThreads();
    expect(await starting).toBe(1);
    expect(pool.threadCount()).toBe(1);
    expect(fakeWorkers.map((w) => w.terminated)).toEqual([1, 1]);
  });

  it("a lost worker is dropped with a warning naming the threads left; its tasks go to the others", async () => {
    catchWarnings();
    fakeWorkers.length = 0;
    expect(await initThreads(3)).toBe(3);
    const [a, b] = fakeWorkers;
    a!.lose("exit code 1");
    expect(pool.threadCount()).toBe(2);
    expect(features().workers).toBe(2);
    expect(a!.terminated).toBe(1);
    expect(warnings).toEqual(["simdopt: a worker thread stopped (exit code 1); simdopt continues on 2 threads"]);
    // Reported twice: nothing more happens.
    a!.lose("exit code 1");
    expect(pool.threadCount()).toBe(2);
    expect(b!.terminated).toBe(0);
    const { expected, got } = sums();
    expect(got).toEqual(expected);
    b!.lose("boom");
    expect(pool.threadCount()).toBe(1);
    expect(warnings).toHaveLength(1);
    // A new start warns again, in the singular at one thread.
    expect(await initThreads(2)).toBe(2);
    pool.crashWorkersForTest();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(warnings[1]).toBe("simdopt: a worker thread stopped (exit code 1); simdopt continues on 1 thread");
    expect(pool.threadCount()).toBe(1);
  });

  describe("runBatch", () => {
    it("runs every task on the calling thread when no worker claims one, and parks the claim counter", async () => {
      await initThreads(2);
      const ctrl = pool.batchArrays().ctrl;
      // A stale error flag or done count from before does not leak into the batch.
      ctrl[CTRL.ERROR] = 1;
      ctrl[CTRL.DONE] = 100;
      const notify = vi.spyOn(Atomics, "notify");
      const { expected, got } = sums();
      expect(got).toEqual(expected);
      expect(notify).not.toHaveBeenCalled();
      expect(ctrl[CTRL.NEXT]).toBe(PARKED);
      expect(ctrl[CTRL.DONE]).toBe(ctrl[CTRL.COUNT]);
      expect(pool.workerTaskCount()).toBe(0);
      // Sleeping workers are woken on the generation.
      ctrl[CTRL.SLEEPERS] = 1;
      expect(sums().got).toEqual(expected);
      expect(notify).toHaveBeenCalledWith(ctrl, CTRL.GEN);
      ctrl[CTRL.SLEEPERS] = 0;
    });

    it("a task a worker claims and runs counts as a worker task; the caller waits for it", async () => {
      await initThreads(2);
      const { ctrl } = pool.batchArrays();
      sums(); // leaves DONE at the last batch's count
      let claimed = -1;
      const publish = onNextPublish((c) => { claimed = claim(c); });
      const waits: number[][] = [];
      let loadsBeforeWait = 0;
      const realLoad = Atomics.load.bind(Atomics) as (a: Int32Array, i: number) => number;
      vi.spyOn(Atomics, "load").mockImplementation(((array: Int32Array, index: number) => {
        if (index === CTRL.DONE && waits.length === 0) loadsBeforeWait++;
        return realLoad(array, index);
      }) as typeof Atomics.load);
      vi.spyOn(Atomics, "wait").mockImplementation(((array: Int32Array, index: number, value: number, timeout: number) => {
        waits.push([index, value, timeout, array[CTRL.WAITING]!]);
        if (waits.length === 3) runTask(claimed);
        return "timed-out";
      }) as typeof Atomics.wait);
      const { expected, got } = sums();
      publish.restore();
      expect(claimed).toBe(0);
      expect(got).toEqual(expected);
      const tasks = ctrl[CTRL.COUNT]!;
      // Spins 2¹⁴ times, then sleeps 2 ms at a time on DONE until the worker's task is in.
      expect(loadsBeforeWait).toBe((1 << 14) + 1);
      expect(waits).toEqual([[CTRL.DONE, tasks - 1, 2, 1], [CTRL.DONE, tasks - 1, 2, 1], [CTRL.DONE, tasks - 1, 2, 1]]);
      expect(ctrl[CTRL.WAITING]).toBe(0);
      expect(pool.workerTaskCount()).toBe(1);
      expect(pool.threadCount()).toBe(2);
    });

    it("where Atomics.wait is not allowed (a browser's main thread) the caller only spins", async () => {
      const wait = vi.spyOn(Atomics, "wait").mockImplementation(() => { throw new TypeError("Atomics.wait cannot be called in this context"); });
      await initThreads(2);
      expect(wait).toHaveBeenCalledTimes(1); // the probe
      wait.mockClear();
      let claimed = -1;
      const publish = onNextPublish((c) => { claimed = claim(c); });
      let reads = 0;
      // The worker's task is in at the second clock read (after 2·2¹⁴ spins: a caller that could
      // block would have slept by then).
      vi.spyOn(Date, "now").mockImplementation(() => {
        if (++reads === 2) runTask(claimed);
        return 0;
      });
      const { expected, got } = sums();
      publish.restore();
      expect(got).toEqual(expected);
      expect(reads).toBe(2);
      expect(wait).not.toHaveBeenCalled();
    });

    it("a warning where there is no console is dropped", async () => {
      await initThreads(2);
      vi.stubGlobal("console", undefined);
      try {
        fakeWorkers.at(-1)!.lose("exit code 1");
      } finally {
        vi.unstubAllGlobals();
      }
      expect(pool.threadCount()).toBe(1);
    });

    it("a worker's failed kernel call turns threads off and throws", async () => {
      catchWarnings();
      await initThreads(2);
      const { ctrl } = pool.batchArrays();
      const publish = onNextPublish((c) => {
        claim(c);
        c[CTRL.ERROR] = 1;
        Atomics.add(c, CTRL.DONE, 1);
      });
      expect(() => sums()).toThrow(new Error("simdopt: a worker thread failed while running a kernel; threads are now off (initThreads() starts them again)"));
      publish.restore();
      expect(pool.threadCount()).toBe(1);
      expect(ctrl[CTRL.STOP]).toBe(1);
      expect(ctrl[CTRL.NEXT]).toBe(PARKED);
      // Everything runs on the calling thread now.
      const { expected, got } = sums();
      expect(got).toEqual(expected);
    });

    it("a batch whose claimed task makes no progress for 30 s turns threads off and throws", async () => {
      await initThreads(2);
      const { ctrl } = pool.batchArrays();
      const publish = onNextPublish((c) => { claim(c); });
      vi.spyOn(Atomics, "wait").mockReturnValue("timed-out");
      let clock = 0;
      const now = vi.spyOn(Date, "now").mockImplementation(() => (clock += 10_000));
      expect(() => sums()).toThrow(new Error("simdopt: a worker thread stopped responding in the middle of a call; threads are now off (initThreads() starts them again)"));
      publish.restore();
      // Read at 10 s (the start of the wait), then 20, 30, 40: stuck only when more than 30 s passed.
      expect(now).toHaveBeenCalledTimes(5);
      expect(ctrl[CTRL.NEXT]).toBe(PARKED);
      expect(ctrl[CTRL.STOP]).toBe(1);
      expect(pool.threadCount()).toBe(1);
    });

    it("the clock is read every 2¹⁴ spins, and a batch stuck from its first read is declared stuck 30 s later", async () => {
      await initThreads(2);
      const publish = onNextPublish((c) => { claim(c); });
      vi.spyOn(Atomics, "wait").mockReturnValue("timed-out");
      let loads = 0;
      const realLoad = Atomics.load.bind(Atomics) as (a: Int32Array, i: number) => number;
      vi.spyOn(Atomics, "load").mockImplementation(((array: Int32Array, index: number) => {
        if (index === CTRL.DONE) loads++;
        return realLoad(array, index);
      }) as typeof Atomics.load);
      const at: number[] = [];
      let clock = 0;
      vi.spyOn(Date, "now").mockImplementation(() => {
        at.push(loads);
        return (clock += 10_000);
      });
      // Two tensors, two tasks: the worker holds one, so one task is done at every read.
      const data = [randomBlock(20000, 1), randomBlock(20000, 2)];
      expect(() => reduceEach(pool.ownKernels(), "sumSquares", data.map((b) => b.ptr), [20000, 20000], [0, 0])).toThrow(/stopped responding/);
      publish.restore();
      expect(at.map((n, i) => n - (at[i - 1] ?? 0))).toEqual([1 << 14, 1 << 14, 1 << 14, 1 << 14, 1 << 14]);
      for (const block of data) block.free();
    });

    it("progress restarts the 30 s clock", async () => {
      await initThreads(2);
      const claimed: number[] = [];
      const publish = onNextPublish((c) => { claimed.push(claim(c), claim(c)); });
      vi.spyOn(Atomics, "wait").mockReturnValue("timed-out");
      let clock = 0;
      let reads = 0;
      vi.spyOn(Date, "now").mockImplementation(() => {
        reads++;
        // The first claimed task finishes 25 s in, the second 50 s in (25 s after that).
        if (reads === 4) runTask(claimed[0]!);
        if (reads === 7) runTask(claimed[1]!);
        return (clock += 10_000);
      });
      const { expected, got } = sums();
      publish.restore();
      expect(got).toEqual(expected);
      expect(reads).toBe(7);
    });
  });

  it("kernelId is the index in THREAD_KERNELS, and the constants are re-exported", () => {
    expect(pool.kernelId("sgdStep")).toBe(0);
    expect(pool.kernelId("accumulateGrad")).toBe(22);
    expect([pool.MAX_PIECES, pool.MAX_TASKS, pool.PIECE_STRIDE, pool.MAX_ARGS]).toEqual([4096, 256, PIECE_STRIDE, 16]);
  });
});
