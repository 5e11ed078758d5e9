// Starting a worker (src/threads/spawn.ts) against stand-in Worker classes: Node's worker_threads
// (mocked) and a Web Worker global (as in Deno, Bun and browsers); readiness, start-up errors,
// the start timeout, and losses after start. The real workers run in the child processes of
// threads.test.ts.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

type Listener = (value: unknown) => void;
class FakeNodeWorker {
  static made: FakeNodeWorker[] = [];
  readonly listeners = new Map<string, Listener>();
  readonly posted: unknown[] = [];
  terminated = 0;
  unrefs = 0;
  constructor(readonly url: URL) {
    FakeNodeWorker.made.push(this);
  }
  on(event: string, listener: Listener): void {
    this.listeners.set(event, listener);
  }
  emit(event: string, value: unknown): void {
    this.listeners.get(event)!(value);
  }
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  terminate(): Promise<number> {
    this.terminated++;
    return Promise.resolve(1);
  }
  unref(): void {
    this.unrefs++;
  }
}
vi.mock("node:worker_threads", () => ({ Worker: FakeNodeWorker }));

class FakeWebWorker {
  static made: FakeWebWorker[] = [];
  static withUnref = true;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: { message: string; preventDefault?: () => void }) => void) | null = null;
  readonly posted: unknown[] = [];
  terminated = 0;
  unrefs = 0;
  unref?: () => void;
  constructor(readonly url: URL, readonly options: unknown) {
    FakeWebWorker.made.push(this);
    if (FakeWebWorker.withUnref) this.unref = () => { this.unrefs++; };
  }
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  terminate(): void {
    this.terminated++;
  }
}

import { startWorker, useNodeWorkers, type WorkerHandle, type WorkerStart } from "../../src/threads/spawn.js";

const START = { module: {}, memory: {}, buffer: {}, scratch: 1024, fail: false } as unknown as WorkerStart;
const lost: [WorkerHandle, string][] = [];
const onLost = (handle: WorkerHandle, reason: string) => { lost.push([handle, reason]); };
/** Waits for the worker that startWorker makes once its (dynamic) import of worker_threads is in. */
async function made(count: number): Promise<FakeNodeWorker> {
  for (let i = 0; i < 10_000 && FakeNodeWorker.made.length < count; i++) await Promise.resolve();
  if (FakeNodeWorker.made.length < count) await vi.waitFor(() => expect(FakeNodeWorker.made).toHaveLength(count));
  return FakeNodeWorker.made[count - 1]!;
}

// Loads the mocked module once, so that startWorker's import of it needs microtasks only (and a
// test run alone finds it loaded too).
beforeAll(async () => {
  await import("node:worker_threads");
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  FakeNodeWorker.made.length = 0;
  FakeWebWorker.made.length = 0;
  FakeWebWorker.withUnref = true;
  lost.length = 0;
});

describe("useNodeWorkers", () => {
  it("Node's worker_threads in Node and Deno, not in Bun nor where there is no process", () => {
    expect(useNodeWorkers()).toBe(true);
    vi.stubGlobal("Bun", {});
    expect(useNodeWorkers()).toBe(false);
    vi.unstubAllGlobals();
    const saved = globalThis.process;
    const results: boolean[] = [];
    for (const value of [undefined, {}, { versions: {} }]) {
      Object.defineProperty(globalThis, "process", { value, configurable: true, writable: true });
      try {
        results.push(useNodeWorkers());
      } finally {
        Object.defineProperty(globalThis, "process", { value: saved, configurable: true, writable: true });
      }
    }
    expect(results).toEqual([false, false, false]);
  });
});

describe("with Node's worker_threads", () => {
  async function started(): Promise<{ worker: FakeNodeWorker; handle: WorkerHandle }> {
    const promise = startWorker(START, onLost);
    const worker = await made(FakeNodeWorker.made.length + 1);
    worker.emit("message", { ready: true });
    return { worker, handle: await promise };
  }

  it("loads worker.js next to the module, posts the start message, resolves on ready and unrefs the worker", async () => {
    const { worker, handle } = await started();
    expect(worker.url.href).toBe(new URL("../../src/threads/worker.js", import.meta.url).href);
    expect(worker.posted).toEqual([START]);
    expect(worker.unrefs).toBe(1);
    expect(worker.terminated).toBe(0);
    // Later messages are not about starting.
    worker.emit("message", { error: "late" });
    expect(worker.terminated).toBe(0);
    handle.terminate();
    expect(worker.terminated).toBe(1);
    // Its exit after terminate() is expected: no loss.
    worker.emit("exit", 1);
    worker.emit("error", new Error("after terminate"));
    expect(lost).toEqual([]);
  });

  it("a crash, an error or an exit after start reports the loss", async () => {
    const { worker, handle } = await started();
    handle.crash();
    expect(worker.terminated).toBe(1);
    worker.emit("exit", 1);
    worker.emit("error", new Error("out of memory"));
    worker.emit("error", "a string");
    expect(lost).toEqual([[handle, "exit code 1"], [handle, "out of memory"], [handle, "a string"]]);
  });

  it.each([
    [{ error: "simulated start-up failure" }, "simulated start-up failure"],
    [{ ready: false }, "unexpected message"],
    ["ready", "unexpected message"],
  ])("a start message %j rejects with %s and stops the worker", async (message, reason) => {
    const promise = startWorker(START, onLost);
    const worker = await made(1);
    worker.emit("message", message);
    await expect(promise).rejects.toThrow(new Error(reason));
    expect(worker.terminated).toBe(1);
    expect(worker.unrefs).toBe(0);
    worker.emit("exit", 1);
    expect(lost).toEqual([]);
  });

  it("an error or exit before ready rejects with its reason", async () => {
    for (const [event, value, reason] of [["error", new Error("bad module"), "bad module"], ["error", 42, "42"], ["exit", 3, "exit code 3"]] as const) {
      const promise = startWorker(START, onLost);
      const worker = await made(FakeNodeWorker.made.length + 1);
      worker.emit(event, value);
      await expect(promise).rejects.toThrow(new Error(reason));
      expect(worker.terminated).toBe(1);
    }
    expect(lost).toEqual([]);
  });

  it("no answer within 20 s rejects and stops the worker; an answer in time clears the timer", async () => {
    vi.useFakeTimers();
    const promise = startWorker(START, onLost);
    const rejected = expect(promise).rejects.toThrow(new Error("no answer in time"));
    const worker = await made(1);
    await vi.advanceTimersByTimeAsync(19_999);
    expect(worker.terminated).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await rejected;
    expect(worker.terminated).toBe(1);
    const { worker: second } = await started();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(second.terminated).toBe(0);
    // An exit before ready clears it too.
    const third = startWorker(START, onLost);
    (await made(3)).emit("exit", 1);
    await expect(third).rejects.toThrow(new Error("exit code 1"));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(FakeNodeWorker.made.at(-1)!.terminated).toBe(1);
  });
});

describe("with Web Workers", () => {
  function web(): void {
    vi.stubGlobal("Bun", {});
    vi.stubGlobal("Worker", FakeWebWorker);
  }

  it("rejects where there is no Worker", async () => {
    vi.stubGlobal("Bun", {});
    vi.stubGlobal("Worker", undefined);
    await expect(startWorker(START, onLost)).rejects.toThrow(new Error("this runtime has no Worker"));
    vi.stubGlobal("Worker", {});
    await expect(startWorker(START, onLost)).rejects.toThrow(new Error("this runtime has no Worker"));
  });

  it("starts a module worker from worker.js, resolves on ready and unrefs where it can", async () => {
    web();
    for (const withUnref of [true, false]) {
      FakeWebWorker.withUnref = withUnref;
      const promise = startWorker(START, onLost);
      const worker = FakeWebWorker.made.at(-1)!;
      expect(worker.url.href).toBe(new URL("../../src/threads/worker.js", import.meta.url).href);
      expect(worker.options).toEqual({ type: "module" });
      expect(worker.posted).toEqual([START]);
      worker.onmessage!({ data: { ready: true } });
      const handle = await promise;
      expect(worker.unrefs).toBe(withUnref ? 1 : 0);
      worker.onmessage!({ data: { error: "late" } });
      expect(worker.terminated).toBe(0);
      handle.crash();
      expect(worker.terminated).toBe(1);
      const prevented: string[] = [];
      worker.onerror!({ message: "", preventDefault: () => prevented.push("default") });
      worker.onerror!({ message: "out of memory" });
      expect(prevented).toEqual(["default"]);
      expect(lost).toEqual([[handle, "worker error"], [handle, "out of memory"]]);
      lost.length = 0;
      handle.terminate();
      expect(worker.terminated).toBe(2);
      worker.onerror!({ message: "after terminate" });
      expect(lost).toEqual([]);
    }
  });

  it("a failed start rejects with its reason and stops the worker", async () => {
    web();
    for (const [event, reason] of [[{ data: { error: "simulated start-up failure" } }, "simulated start-up failure"], [{ data: {} }, "unexpected message"]] as const) {
      const promise = startWorker(START, onLost);
      const worker = FakeWebWorker.made.at(-1)!;
      worker.onmessage!(event);
      await expect(promise).rejects.toThrow(new Error(reason));
      expect(worker.terminated).toBe(1);
      expect(worker.unrefs).toBe(0);
    }
    for (const [message, reason] of [["bad module", "bad module"], ["", "worker error"]]) {
      const promise = startWorker(START, onLost);
      const worker = FakeWebWorker.made.at(-1)!;
      worker.onerror!({ message: message! });
      await expect(promise).rejects.toThrow(new Error(reason));
      expect(worker.terminated).toBe(1);
    }
    expect(lost).toEqual([]);
  });

  it("no answer within 20 s rejects; an answer or error in time clears the timer", async () => {
    web();
    vi.useFakeTimers();
    const promise = startWorker(START, onLost);
    const rejected = expect(promise).rejects.toThrow(new Error("no answer in time"));
    await vi.advanceTimersByTimeAsync(19_999);
    expect(FakeWebWorker.made[0]!.terminated).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await rejected;
    expect(FakeWebWorker.made[0]!.terminated).toBe(1);
    const ok = startWorker(START, onLost);
    FakeWebWorker.made[1]!.onmessage!({ data: { ready: true } });
    await ok;
    const failed = startWorker(START, onLost);
    FakeWebWorker.made[2]!.onerror!({ message: "bad" });
    await expect(failed).rejects.toThrow(new Error("bad"));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(FakeWebWorker.made.slice(1).map((w) => w.terminated)).toEqual([0, 1]);
  });
});
