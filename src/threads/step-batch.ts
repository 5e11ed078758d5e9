// The optimizer's hook: while a dense step runs with threads on, kernels() hands out a recorder
// whose elementwise step kernels only note their call; at the end of the step the whole list —
// every parameter slice — is cut into chunks and dispatched once. Any other kernel called in the
// meantime first runs what was recorded, so the order of effects is that of one thread.
//
// Elementwise kernels compute each element from the same element of their streams with the
// same instructions wherever it falls in a call (tails are staged through the same vector
// body), so cutting a slice into chunks changes no result bit.

import { setKernelOverride } from "../bindings/instance.js";
import type { Kernels } from "../bindings/kernels.js";
import { MAX_ARGS, PIECE_STRIDE, batchArrays, kernelId, ownKernels, runBatch, threadCount } from "./pool.js";
import { THREAD_KERNELS, runPiece, type ThreadKernel } from "./shared.js";
import { MAX_PIECES, MAX_TASKS } from "./limits.js";
import { LENGTH_ARG } from "../optim/tables.js";
import { heapU8 } from "../bindings/memory.js";

/**
 * Below this many elements in a step one thread runs it: on an idle machine two threads win from
 * ~10⁴ elements, but a worker that waits for a core holds up the whole step, which at this size
 * costs far more than the split can save.
 */
export const STEP_MIN_ELEMENTS = 32768;
/** Chunks are multiples of this many elements (whole 64-byte lines) and at least this long. */
const ALIGN = 16;
const MIN_CHUNK = 2048;
/** Recorded calls held before they must be dispatched. */
const MAX_ENTRIES = 1024;

const entries = new Float64Array(MAX_ENTRIES * PIECE_STRIDE);
const lengthArgs = new Int32Array(MAX_ENTRIES);
let entryCount = 0;
// Elements recorded, in a typed array: a module-level number holding a float is re-boxed on every store.
const total = new Float64Array(1);
let recorder: Kernels | null = null;
let recorderFor: Kernels | null = null;
let recording = false;

let tableView: Int32Array<ArrayBufferLike> = new Int32Array(0);

/** Records a call; a multi-tensor call (length < 0, see src/optim/tables.ts) as one call per table entry. */
function record(name: ThreadKernel, argc: number, a: number[]): void {
  const lengthArg = LENGTH_ARG[name]!;
  const count = -a[lengthArg]!;
  if (count <= 0) { recordOne(name, argc, a); return; }
  const heap = heapU8();
  if (tableView.buffer !== heap.buffer) tableView = new Int32Array(heap.buffer);
  const base = a[0]! >> 2;
  // Each state stream's slot in an entry: the one holding the first entry's pointer (as the kernel does).
  for (let j = 2; j < lengthArg; j++) {
    const ptr = a[j]!;
    slots[j] = ptr === 0 ? 0 : ptr === tableView[base + 2] ? 2 : ptr === tableView[base + 3] ? 3 : 4;
  }
  for (let i = 0; i < count; i++) {
    const at = base + i * 6;
    a[0] = tableView[at]!;
    a[1] = tableView[at + 1]!;
    for (let j = 2; j < lengthArg; j++) a[j] = slots[j] === 0 ? 0 : tableView[at + slots[j]!]!;
    a[lengthArg] = tableView[at + 5]!;
    recordOne(name, argc, a);
  }
}
const slots = new Int32Array(8);

function recordOne(name: ThreadKernel, argc: number, a: number[]): void {
  if (entryCount === MAX_ENTRIES) dispatch();
  const at = entryCount * PIECE_STRIDE;
  entries[at] = kernelId(name);
  entries[at + 1] = argc;
  for (let i = 0; i < argc; i++) entries[at + 2 + i] = a[i]!;
  const lengthArg = LENGTH_ARG[name]!;
  lengthArgs[entryCount] = lengthArg;
  total[0] += a[lengthArg]!;
  entryCount++;
}

// One reused argument array: recording allocates nothing per call.
const args: number[] = new Array<number>(MAX_ARGS).fill(0);

type N = number;
/** Calls noted by the recorders, as they came: [kernel index, argc, 14 arguments] each. */
const RAW_MAX = 256;
const raw = new Float64Array(RAW_MAX * 16);
let rawCount = 0;

/**
 * Notes one call: a few stores and nothing else, so that V8 inlines it (and the recorder that
 * calls it) into the optimizer's update(); a call it does not inline boxes every float argument,
 * an allocation per call. The calls are laid out for the threads later (drain).
 */
function put(id: N, argc: N, a0: N, a1: N, a2: N, a3: N, a4: N, a5: N, a6: N, a7: N, a8: N, a9: N, a10: N, a11: N, a12: N, a13: N): void {
  if (rawCount === RAW_MAX) drain();
  const at = rawCount++ * 16;
  raw[at] = id; raw[at + 1] = argc;
  raw[at + 2] = a0; raw[at + 3] = a1; raw[at + 4] = a2; raw[at + 5] = a3; raw[at + 6] = a4; raw[at + 7] = a5; raw[at + 8] = a6;
  raw[at + 9] = a7; raw[at + 10] = a8; raw[at + 11] = a9; raw[at + 12] = a10; raw[at + 13] = a11; raw[at + 14] = a12; raw[at + 15] = a13;
}

/** Records the noted calls (see record). */
function drain(): void {
  for (let r = 0; r < rawCount; r++) {
    const at = r * 16;
    for (let i = 0; i < 14; i++) args[i] = raw[at + 2 + i]!;
    record(THREAD_KERNELS[raw[at]!]!, raw[at + 1]!, args);
  }
  rawCount = 0;
}

// One function literal per kernel, with its kernel's arity: functions made in a loop share one
// literal, which V8 then does not inline. Indices as in THREAD_KERNELS.
const RECORDERS = {
  sgdStep: (a: N, b: N, c: N, d: N, e: N, f: N, g: N, h: N, i: N, j: N, k: N, l: N) => put(0, 12, a, b, c, d, e, f, g, h, i, j, k, l, 0, 0),
  adamStep: (a: N, b: N, c: N, d: N, e: N, f: N, g: N, h: N, i: N, j: N, k: N, l: N, m: N, n: N) => put(1, 14, a, b, c, d, e, f, g, h, i, j, k, l, m, n),
  adagradStep: (a: N, b: N, c: N, d: N, e: N, f: N, g: N, h: N, i: N) => put(2, 9, a, b, c, d, e, f, g, h, i, 0, 0, 0, 0, 0),
  rmspropStep: (a: N, b: N, c: N, d: N, e: N, f: N, g: N, h: N, i: N, j: N, k: N, l: N) => put(3, 12, a, b, c, d, e, f, g, h, i, j, k, l, 0, 0),
  adadeltaStep: (a: N, b: N, c: N, d: N, e: N, f: N, g: N, h: N, i: N, j: N) => put(4, 10, a, b, c, d, e, f, g, h, i, j, 0, 0, 0, 0),
  adamaxStep: (a: N, b: N, c: N, d: N, e: N, f: N, g: N, h: N, i: N, j: N, k: N) => put(5, 11, a, b, c, d, e, f, g, h, i, j, k, 0, 0, 0),
  nadamStep: (a: N, b: N, c: N, d: N, e: N, f: N, g: N, h: N, i: N, j: N, k: N, l: N, m: N, n: N) => put(6, 14, a, b, c, d, e, f, g, h, i, j, k, l, m, n),
  radamStep: (a: N, b: N, c: N, d: N, e: N, f: N, g: N, h: N, i: N, j: N, k: N, l: N, m: N) => put(7, 13, a, b, c, d, e, f, g, h, i, j, k, l, m, 0),
  lionStep: (a: N, b: N, c: N, d: N, e: N, f: N, g: N, h: N, i: N) => put(8, 9, a, b, c, d, e, f, g, h, i, 0, 0, 0, 0, 0),
  ftrlStep: (a: N, b: N, c: N, d: N, e: N, f: N, g: N, h: N, i: N, j: N, k: N) => put(19, 11, a, b, c, d, e, f, g, h, i, j, k, 0, 0, 0),
  emaUpdate: (a: N, b: N, c: N, d: N) => put(21, 4, a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
  accumulateGrad: (a: N, b: N, c: N) => put(22, 3, a, b, c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
};

function makeRecorder(real: Kernels): Kernels {
  const out: Record<string, unknown> = { ...RECORDERS };
  for (const name of Object.keys(real) as (keyof Kernels)[]) {
    const f = real[name] as unknown as (...a: number[]) => unknown;
    if (typeof f !== "function" || name in RECORDERS) continue;
    out[name] = (...a: number[]) => {
      flush();
      return f(...a);
    };
  }
  return out as unknown as Kernels;
}

/**
 * Starts recording the step kernels of a step; false (nothing changes) with one thread. The
 * caller must call endStep() after the step, also when it throws.
 */
export function beginStep(): boolean {
  if (threadCount() <= 1 || recording) return false;
  const real = ownKernels();
  if (recorderFor !== real) {
    recorder = makeRecorder(real);
    recorderFor = real;
  }
  recording = true;
  entryCount = 0;
  total[0] = 0;
  setKernelOverride(recorder);
  return true;
}

/** Runs what the step recorded and stops recording. */
export function endStep(): void {
  if (!recording) return;
  try {
    flush();
  } finally {
    recording = false;
    setKernelOverride(null);
  }
}

function runHere(): void {
  const kernels = ownKernels();
  for (let e = 0; e < entryCount; e++) runPiece(kernels, entries, e * PIECE_STRIDE);
}

/** Runs every call noted so far. */
function flush(): void {
  drain();
  dispatch();
}

/** Cuts the recorded calls into balanced chunks and runs them across the threads. */
function dispatch(): void {
  if (entryCount === 0) return;
  const threads = threadCount();
  if (threads <= 1 || total[0]! < STEP_MIN_ELEMENTS) {
    runHere();
    entryCount = 0;
    total[0] = 0;
    return;
  }
  const { bounds, pieces } = batchArrays();
  // A few tasks per thread, so that a thread that wakes late still finds work to share.
  const taskCount = Math.min(MAX_TASKS, threads * 4, Math.max(1, Math.floor(total[0]! / MIN_CHUNK)));
  const perTask = Math.ceil(total[0]! / taskCount / ALIGN) * ALIGN;
  let pieceCount = 0;
  let tasks = 0;
  let room = perTask;
  bounds[0] = 0;
  for (let e = 0; e < entryCount; e++) {
    const at = e * PIECE_STRIDE;
    const lengthArg = lengthArgs[e]!;
    const length = entries[at + 2 + lengthArg]!;
    let offset = 0;
    while (offset < length) {
      if (pieceCount === MAX_PIECES) {
        // Out of piece slots: run what is laid out and start over (rare: huge lists).
        if (bounds[tasks] !== pieceCount) bounds[++tasks] = pieceCount;
        runBatch(tasks);
        pieceCount = 0;
        tasks = 0;
        room = perTask;
      }
      let take = Math.min(length - offset, room);
      // Cut only at whole lines, and leave no sliver behind.
      if (take < length - offset) take = Math.max(ALIGN, Math.floor(take / ALIGN) * ALIGN);
      if (length - offset - take < ALIGN) take = length - offset;
      const to = pieceCount * PIECE_STRIDE;
      for (let i = 0; i < PIECE_STRIDE; i++) pieces[to + i] = entries[at + i]!;
      for (let i = 0; i < lengthArg; i++) {
        if (entries[at + 2 + i] !== 0) pieces[to + 2 + i] = entries[at + 2 + i]! + offset * 4;
      }
      pieces[to + 2 + lengthArg] = take;
      pieceCount++;
      offset += take;
      room -= take;
      if (room <= 0 && tasks < MAX_TASKS - 1) {
        bounds[++tasks] = pieceCount;
        room = perTask;
      }
    }
  }
  if (bounds[tasks] !== pieceCount) bounds[++tasks] = pieceCount;
  entryCount = 0;
  total[0] = 0;
  runBatch(tasks);
}
