// initThreads/terminateThreads as the entries export them: the pool and everything it needs are
// loaded on the first initThreads(), so programs that never start threads do not carry them.

type Pool = typeof import("./pool.js");
let pool: Pool | null = null;

/**
 * Starts `n - 1` worker threads (default: the cores the runtime reports) that share the work of
 * step(), clipGradNorm, matmul and batch norm with the calling thread. Resolves to the number of
 * threads that now share work: 1 where workers or shared memory are unavailable, or if none
 * could start (with a warning). Calling it again first stops the current workers.
 */
export async function initThreads(n?: number): Promise<number> {
  if (pool === null) [pool] = await Promise.all([import("./pool.js"), import("./install.js")]);
  return pool.initThreads(n);
}

/** Stops the worker threads; everything runs on the calling thread again. Safe to call any time. */
export function terminateThreads(): void {
  pool?.terminateThreads();
}

/** @internal The loaded pool module (null before the first initThreads), for tests and benchmarks. */
export function threadsInternal(): Pool | null {
  return pool;
}
