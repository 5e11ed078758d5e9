// Stands in for src/threads/spawn.ts in the in-process thread tests (vi.mock): under vitest the
// pool cannot start real workers (they load worker.js from the built package), so these
// "workers" start, never claim a task, and die on request. The calling thread then runs every
// task of each batch itself, through the same split, dispatch and piece layout as with workers.
import type { WorkerHandle, WorkerStart } from "../../src/threads/spawn.js";

export interface FakeWorker {
  start: WorkerStart;
  handle: WorkerHandle;
  terminated: number;
  /** Reports the worker lost, as the exit event of a real one does. */
  lose(reason: string): void;
}

export const fakeWorkers: FakeWorker[] = [];

export function useNodeWorkers(): boolean {
  return true;
}

export function startWorker(start: WorkerStart, onLost: (handle: WorkerHandle, reason: string) => void): Promise<WorkerHandle> {
  // A worker told to fail reports the error its start-up throws.
  if (start.fail) return Promise.reject(new Error("simulated start-up failure"));
  const worker: FakeWorker = {
    start,
    terminated: 0,
    handle: { terminate: () => { worker.terminated++; }, crash: () => { setTimeout(() => worker.lose("exit code 1"), 0); } },
    lose: (reason) => onLost(worker.handle, reason),
  };
  fakeWorkers.push(worker);
  return Promise.resolve(worker.handle);
}
