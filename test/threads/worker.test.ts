// The worker's side (src/threads/worker.ts) driven in this process: its start message (Node's
// parentPort, mocked, or a Web Worker's onmessage), the start-up error, and its loop over a
// batch. The loop runs on this thread, so the clock (Date.now) and Atomics.wait are scripted to
// publish the batch and stop the worker at chosen points.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { init } from "../../src/index.js";
import { kernels, moduleForThreads } from "../../src/bindings/instance.js";
import { F32Block } from "../../src/bindings/memory.js";
import { MAX_PIECES, MAX_TASKS } from "../../src/threads/limits.js";
import { CTRL, PIECE_STRIDE, layout, type Layout } from "../../src/threads/shared.js";
import type { WorkerStart } from "../../src/threads/spawn.js";
import { randomBlock } from "./in-process.js";

type Listener = (start: WorkerStart) => void;
const port = { listener: null as Listener | null, event: "", posted: [] as unknown[] };
const fakePort = {
  once(event: string, listener: Listener) { port.event = event; port.listener = listener; },
  postMessage(message: unknown) { port.posted.push(message); },
};

/** Imports a fresh copy of worker.ts with `parentPort` as Node's worker_threads gives it. */
async function loadWorker(parentPort: typeof fakePort | null): Promise<void> {
  vi.resetModules();
  vi.doMock("node:worker_threads", () => ({ parentPort }));
  await import("../../src/threads/worker.js");
}

let sab: Layout;
let data: F32Block;
let start: WorkerStart;
beforeAll(async () => {
  await init();
  // The main instance keeps its scratch out of the static block that a worker's instantiation re-initialises.
  kernels().setThreadScratch(new F32Block(Math.ceil(kernels().threadScratchBytes() / 4)).ptr);
  const { module, memory } = moduleForThreads()!;
  data = randomBlock(1000, 3);
  start = { module, memory, buffer: new SharedArrayBuffer(8), scratch: new F32Block(Math.ceil(kernels().threadScratchBytes() / 4)).ptr, fail: false };
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  vi.doUnmock("node:worker_threads");
  port.listener = null;
  port.posted = [];
  delete (globalThis as { onmessage?: unknown }).onmessage;
});

function freshStart(): WorkerStart {
  sab = layout(MAX_PIECES, MAX_TASKS);
  return { ...start, buffer: sab.buffer };
}

function writePiece(index: number, id: number, args: number[]): void {
  const at = index * PIECE_STRIDE;
  sab.pieces[at] = id;
  sab.pieces[at + 1] = args.length;
  args.forEach((value, i) => { sab.pieces[at + 2 + i] = value; });
}

/** Scripts Date.now: each call runs the next action (if any) and returns its time. */
function clock(times: number[], actions: Record<number, () => void>): { calls: number[] } {
  const calls: number[] = [];
  let loads = 0;
  const realLoad = Atomics.load.bind(Atomics) as (a: Int32Array, i: number) => number;
  vi.spyOn(Atomics, "load").mockImplementation(((array: Int32Array, index: number) => {
    if (index === CTRL.GEN) loads++;
    return realLoad(array, index);
  }) as typeof Atomics.load);
  vi.spyOn(Date, "now").mockImplementation(() => {
    calls.push(loads);
    actions[calls.length]?.();
    return times[calls.length - 1] ?? 1e9;
  });
  return { calls };
}

function publish(): void {
  Atomics.add(sab.ctrl, CTRL.GEN, 1);
}
function stop(): void {
  Atomics.store(sab.ctrl, CTRL.STOP, 1);
  publish();
}

describe("in Node (parentPort)", () => {
  it("nothing is served outside a worker thread (no parentPort)", async () => {
    await loadWorker(null);
    expect(port.listener).toBe(null);
    expect((globalThis as { onmessage?: unknown }).onmessage).toBe(undefined);
  });

  it("a start-up failure is posted back as the error's message", async () => {
    await loadWorker(fakePort);
    expect(port.event).toBe("message");
    port.listener!({ ...start, fail: true });
    expect(port.posted).toEqual([{ error: "simulated start-up failure" }]);
    port.posted = [];
    port.listener!({ get fail(): boolean { throw "not a start message"; } } as unknown as WorkerStart);
    expect(port.posted).toEqual([{ error: "not a start message" }]);
  });

  it("posts ready, spins ~2 ms, then sleeps on the generation; runs each claimed task's pieces, flags a failed one, counts and notifies; exits on stop", async () => {
    await loadWorker(fakePort);
    const s = freshStart();
    const ctrl = sab.ctrl;
    ctrl[CTRL.GEN] = 7;
    // Task 0: two pieces (sum of squares, sum of absolute values); task 1: a piece that throws.
    writePiece(0, 10, [data.ptr, 1000]);
    writePiece(1, 11, [data.ptr, 999]);
    writePiece(2, 99, []);
    sab.bounds.set([0, 2, 3]);
    ctrl[CTRL.COUNT] = 2;
    ctrl[CTRL.WAITING] = 1;
    const waits: number[][] = [];
    vi.spyOn(Atomics, "wait").mockImplementation(((array: Int32Array, index: number, value: number) => {
      waits.push([index, value, array[CTRL.SLEEPERS]!, time.calls.length]);
      // The first wake is spurious (no new generation); the second comes with the batch.
      if (waits.length === 2) publish();
      return "ok";
    }) as typeof Atomics.wait);
    const notify = vi.spyOn(Atomics, "notify");
    // 1000: the deadline is 1002; 1002 is not past it; 1003 is: sleep. Woken with no batch, the
    // next read sets a new deadline (1005); 1006 is past it: sleep again, woken by the batch.
    // After the batch: a stop.
    const time = clock([1000, 1002, 1003, 1003, 1005, 1006, 2000], { 7: stop });
    port.listener!(s);
    expect(port.posted).toEqual([{ ready: true }]);
    expect(waits).toEqual([[CTRL.GEN, 7, 1, 3], [CTRL.GEN, 7, 1, 6]]);
    // The clock is read once per 256 spins.
    expect(time.calls.slice(1, 6).map((loads, i) => loads - time.calls[i]!)).toEqual([256, 256, 256, 256, 256]);
    expect(time.calls).toHaveLength(7);
    expect(ctrl[CTRL.SLEEPERS]).toBe(0);
    expect(sab.results[0]).toBe(kernels().sumSquares(data.ptr, 1000));
    expect(sab.results[1]).toBe(kernels().sumAbs(data.ptr, 999));
    expect(ctrl[CTRL.ERROR]).toBe(1);
    expect(ctrl[CTRL.WORKER_TASKS]).toBe(2);
    expect(ctrl[CTRL.DONE]).toBe(2);
    expect(ctrl[CTRL.NEXT]).toBe(3);
    expect(notify.mock.calls).toEqual([[ctrl, CTRL.DONE], [ctrl, CTRL.DONE]]);
  });

  it("does not notify when the caller is not waiting, and claims nothing when the batch is stopped", async () => {
    await loadWorker(fakePort);
    const s = freshStart();
    const ctrl = sab.ctrl;
    writePiece(0, 12, [data.ptr, 1000]);
    // The piece after the task's last (which would throw) is not run.
    writePiece(1, 99, []);
    sab.bounds.set([0, 1]);
    ctrl[CTRL.COUNT] = 1;
    const notify = vi.spyOn(Atomics, "notify");
    // The batch comes at the first clock read; a stop with a batch pending at the second.
    clock([], {
      1: publish,
      2: () => {
        ctrl[CTRL.NEXT] = 0;
        stop();
      },
    });
    port.listener!(s);
    expect(sab.results[0]).toBe(kernels().maxAbs(data.ptr, 1000));
    expect(ctrl[CTRL.DONE]).toBe(1);
    expect(ctrl[CTRL.ERROR]).toBe(0);
    expect(notify).not.toHaveBeenCalled();
    expect(ctrl[CTRL.NEXT]).toBe(0);
    expect(ctrl[CTRL.WORKER_TASKS]).toBe(1);
  });
});

describe("as a Web Worker (Deno, Bun, browsers)", () => {
  it("serves the first message on onmessage, then stops listening; posts with postMessage", async () => {
    const posted: unknown[] = [];
    vi.stubGlobal("Bun", {});
    vi.stubGlobal("postMessage", (message: unknown) => posted.push(message));
    await loadWorker(fakePort);
    expect(port.listener).toBe(null);
    const scope = globalThis as unknown as { onmessage: ((event: { data: WorkerStart }) => void) | null };
    expect(typeof scope.onmessage).toBe("function");
    scope.onmessage!({ data: { ...start, fail: true } });
    expect(scope.onmessage).toBe(null);
    expect(posted).toEqual([{ error: "simulated start-up failure" }]);
    await loadWorker(fakePort);
    const s = freshStart();
    clock([], { 1: stop });
    scope.onmessage!({ data: s });
    expect(posted).toEqual([{ error: "simulated start-up failure" }, { ready: true }]);
  });
});
