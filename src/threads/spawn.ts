// Starting one worker thread: Node's worker_threads, else a Web Worker (Deno, Bun, browsers).
import { nodeModule } from "./limits.js";

export interface WorkerStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  buffer: SharedArrayBuffer;
  scratch: number;
  /** Test hook: the worker throws while starting. */
  fail: boolean;
}

export interface WorkerHandle {
  terminate(): void;
  /** Test hook: stops the thread as a crash would (the pool learns of it from the exit event). */
  crash(): void;
}

/** How long a worker may take to instantiate the module before it counts as failed. */
const START_TIMEOUT_MS = 20000;

interface NodeWorker {
  on(event: string, listener: (value: unknown) => void): void;
  postMessage(message: unknown): void;
  terminate(): Promise<number>;
  unref(): void;
}

/**
 * Node's worker_threads where they exist, Bun aside (its Web Workers work and unref): Deno's Web
 * Workers keep the process alive and cannot be unref'd, its node:worker_threads can.
 */
export function useNodeWorkers(): boolean {
  const g = globalThis as { Bun?: unknown; process?: { versions?: { node?: string } } };
  return g.process?.versions?.node !== undefined && g.Bun === undefined;
}

function workerUrl(): URL {
  return new URL("./worker.js", import.meta.url);
}

/**
 * Starts a worker and resolves once it has instantiated the module (rejects if it fails or does
 * not answer in time). `onLost` is called if it dies afterwards.
 */
export async function startWorker(start: WorkerStart, onLost: (handle: WorkerHandle, reason: string) => void): Promise<WorkerHandle> {
  if (useNodeWorkers()) {
    const threads = (await import(/* @vite-ignore */ nodeModule("node:worker_threads"))) as { Worker: new (url: URL) => NodeWorker };
    const worker = new threads.Worker(workerUrl());
    let handle: WorkerHandle | null = null;
    let stopped = false;
    const terminate = () => {
      stopped = true;
      void worker.terminate();
    };
    return new Promise<WorkerHandle>((resolve, reject) => {
      const timer = setTimeout(() => { terminate(); reject(new Error("no answer in time")); }, START_TIMEOUT_MS);
      worker.on("message", (message) => {
        if (handle !== null) return;
        clearTimeout(timer);
        const m = message as { ready?: boolean; error?: string };
        if (m.ready !== true) { terminate(); reject(new Error(m.error ?? "unexpected message")); return; }
        // A process that never calls terminateThreads() must still exit.
        worker.unref();
        handle = { terminate, crash: () => void worker.terminate() };
        resolve(handle);
      });
      const failed = (reason: string) => {
        clearTimeout(timer);
        if (handle === null) { terminate(); reject(new Error(reason)); }
        else if (!stopped) onLost(handle, reason);
      };
      worker.on("error", (error) => failed(error instanceof Error ? error.message : String(error)));
      worker.on("exit", (code) => failed(`exit code ${String(code)}`));
      worker.postMessage(start);
    });
  }
  const WebWorker = (globalThis as { Worker?: new (url: URL, options: { type: "module" }) => Worker }).Worker;
  if (typeof WebWorker !== "function") throw new Error("this runtime has no Worker");
  const worker = new WebWorker(workerUrl(), { type: "module" });
  let handle: WorkerHandle | null = null;
  let stopped = false;
  const terminate = () => {
    stopped = true;
    worker.terminate();
  };
  return new Promise<WorkerHandle>((resolve, reject) => {
    const timer = setTimeout(() => { terminate(); reject(new Error("no answer in time")); }, START_TIMEOUT_MS);
    worker.onmessage = (event: MessageEvent) => {
      if (handle !== null) return;
      clearTimeout(timer);
      const m = event.data as { ready?: boolean; error?: string };
      if (m.ready !== true) { terminate(); reject(new Error(m.error ?? "unexpected message")); return; }
      // Bun's workers have unref(); elsewhere a page or Deno program ends on its own terms.
      (worker as unknown as { unref?: () => void }).unref?.();
      handle = { terminate, crash: () => worker.terminate() };
      resolve(handle);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      clearTimeout(timer);
      const reason = event.message || "worker error";
      if (handle === null) { terminate(); reject(new Error(reason)); }
      else if (!stopped) onLost(handle, reason);
    };
    worker.postMessage(start);
  });
}
