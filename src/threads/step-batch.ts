// The optimizer's hook: while a dense step runs with threads on, kernels() hands out a recorder
// whose elementwise step kernels only note their call; at the end of the step the whole list —
// every parameter slice — is cut into chunks and dispatched once. Any other kernel called in the
// meantime first runs what was recorded, so the order of effects is that of one thread.
//
// Elementwise kernels compute each element from the same element of their streams with the
// same instructions wherever it falls in a call (a tail runs the same vector body on partial
// loads and stores), so cutting a slice into chunks, or a table into runs of entries, changes no
// result bit.

import { setKernelOverride } from "../bindings/instance.js";
import type { Kernels } from "../bindings/kernels.js";
import { MAX_ARGS, PIECE_STRIDE, batchArrays, kernelId, ownKernels, runBatch, threadCount } from "./pool.js";
import { SCALARS_ARG, THREAD_KERNELS, runPiece, type ThreadKernel } from "./shared.js";
import { MAX_PIECES, MAX_TASKS } from "./limits.js";
import { LENGTH_ARG } from "../optim/tables.js";
import { heapU8, stepScalars } from "../bindings/memory.js";

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
/** Elements of each recorded call (a run of table entries: their sum). */
const counts = new Float64Array(MAX_ENTRIES);
/**
 * Consecutive table entries shorter than this are recorded together, as a call over their part
 * of the table (up to this many elements in all), and handed to a thread whole: a step over
 * many small tensors then costs a few pieces, not one per tensor.
 */
const RUN = 8192;
let entryCount = 0;
// Elements recorded, in a typed array: a module-level number holding a float is re-boxed on every store.
const total = new Float64Array(1);
let recorder: Kernels | null = null;
let recorderFor: Kernels | null = null;
let recording = false;

let tableView: Int32Array<ArrayBufferLike> = new Int32Array(0);

/**
 * Records a call; a multi-tensor call (length < 0, see src/optim/tables.ts) as one call per long
 * table entry (which may be cut) and one call per run of short entries (see RUN).
 */
function record(name: ThreadKernel, argc: number, a: number[]): void {
  const lengthArg = LENGTH_ARG[name]!;
  const count = -a[lengthArg]!;
  if (count <= 0) { recordOne(name, argc, a, a[lengthArg]!); return; }
  const table = a[0]!;
  const heap = heapU8();
  if (tableView.buffer !== heap.buffer) tableView = new Int32Array(heap.buffer);
  const base = a[0]! >> 2;
  // Each state stream's slot in an entry: the one holding the first entry's pointer (as the kernel does).
  for (let j = 2; j < lengthArg; j++) {
    const ptr = a[j]!;
    slots[j] = ptr === 0 ? 0 : ptr === tableView[base + 2] ? 2 : ptr === tableView[base + 3] ? 3 : 4;
  }
  for (let i = 0; i < count;) {
    const at = base + i * 6;
    // Entries i … end − 1: one long entry, or a run of short ones of at most RUN elements.
    let end = i + 1;
    let elements = tableView[at + 5]!;
    if (elements < RUN) {
      while (end < count && tableView[base + end * 6 + 5]! < RUN && elements + tableView[base + end * 6 + 5]! <= RUN) {
        elements += tableView[base + end * 6 + 5]!;
        end++;
      }
    }
    // The streams of entry i: the kernel takes a (sub)table's flags and buffer slots from its first entry.
    a[0] = end - i === 1 ? tableView[at]! : table + i * 24;
    a[1] = tableView[at + 1]!;
    for (let j = 2; j < lengthArg; j++) a[j] = slots[j] === 0 ? 0 : tableView[at + slots[j]!]!;
    a[lengthArg] = end - i === 1 ? elements : i - end;
    recordOne(name, argc, a, elements);
    i = end;
  }
}
const slots = new Int32Array(8);

function recordOne(name: ThreadKernel, argc: number, a: number[], elements: number): void {
  if (entryCount === MAX_ENTRIES) dispatch();
  const at = entryCount * PIECE_STRIDE;
  entries[at] = kernelId(name);
  entries[at + 1] = argc;
  for (let i = 0; i < MAX_ARGS; i++) entries[at + 2 + i] = a[i]!;
  lengthArgs[entryCount] = LENGTH_ARG[name]!;
  counts[entryCount] = elements;
  total[0] += elements;
  entryCount++;
}

// One reused argument array: recording allocates nothing per call.
const args: number[] = new Array<number>(MAX_ARGS).fill(0);

type N = number;
/** Calls noted by the recorders, as they came, laid out as pieces (see shared.ts). */
const RAW_MAX = 256;
const raw = new Float64Array(RAW_MAX * PIECE_STRIDE);
let rawCount = 0;

/** Records the noted calls (see record). */
function drain(): void {
  for (let r = 0; r < rawCount; r++) {
    const at = r * PIECE_STRIDE;
    for (let i = 0; i < MAX_ARGS; i++) args[i] = raw[at + 2 + i]!;
    record(THREAD_KERNELS[raw[at]! | 0]!, raw[at + 1]! | 0, args);
  }
  rawCount = 0;
}

/** The caller's scalars, kept while recorded calls run (they write the same slots). */
const savedScalars = new Float64Array(8);

/** Runs `run` (drain or flush: recorded calls, which write the scalar slots) and puts the caller's scalars back. */
function keepingScalars(run: () => void): void {
  const scalars = stepScalars();
  savedScalars.set(scalars);
  run();
  scalars.set(savedScalars);
}

/**
 * Takes the slot of the next noted call (draining first when they are all taken) and notes the
 * kernel, its argument count and the scalars written for it; returns where its arguments go.
 */
function note(id: number, argc: number): number {
  if (rawCount === RAW_MAX) keepingScalars(drain); // drain() may dispatch
  const o = rawCount++ * PIECE_STRIDE, r = raw, s = stepScalars();
  r[o] = id;
  r[o + 1] = argc;
  for (let i = 0; i < 8; i++) r[o + 2 + SCALARS_ARG + i] = s[i]!;
  return o + 2;
}

// One function literal per kernel, with its kernel's arity, that only notes its call: V8 then
// inlines it into the optimizer's update() (a function made in a loop shares one literal and is
// not inlined). The calls are laid out for the threads later (drain). Indices as in THREAD_KERNELS.
const RECORDERS = {
  sgdStep(a: N, b: N, c: N, d: N, e: N, f: N, g: N): void { const o = note(0, 7), r = raw; r[o] = a; r[o + 1] = b; r[o + 2] = c; r[o + 3] = d; r[o + 4] = e; r[o + 5] = f; r[o + 6] = g; },
  adamStep(a: N, b: N, c: N, d: N, e: N, f: N, g: N): void { const o = note(1, 7), r = raw; r[o] = a; r[o + 1] = b; r[o + 2] = c; r[o + 3] = d; r[o + 4] = e; r[o + 5] = f; r[o + 6] = g; },
  adagradStep(a: N, b: N, c: N, d: N, e: N): void { const o = note(2, 5), r = raw; r[o] = a; r[o + 1] = b; r[o + 2] = c; r[o + 3] = d; r[o + 4] = e; },
  rmspropStep(a: N, b: N, c: N, d: N, e: N, f: N, g: N): void { const o = note(3, 7), r = raw; r[o] = a; r[o + 1] = b; r[o + 2] = c; r[o + 3] = d; r[o + 4] = e; r[o + 5] = f; r[o + 6] = g; },
  adadeltaStep(a: N, b: N, c: N, d: N, e: N, f: N): void { const o = note(4, 6), r = raw; r[o] = a; r[o + 1] = b; r[o + 2] = c; r[o + 3] = d; r[o + 4] = e; r[o + 5] = f; },
  adamaxStep(a: N, b: N, c: N, d: N, e: N, f: N): void { const o = note(5, 6), r = raw; r[o] = a; r[o + 1] = b; r[o + 2] = c; r[o + 3] = d; r[o + 4] = e; r[o + 5] = f; },
  nadamStep(a: N, b: N, c: N, d: N, e: N, f: N): void { const o = note(6, 6), r = raw; r[o] = a; r[o + 1] = b; r[o + 2] = c; r[o + 3] = d; r[o + 4] = e; r[o + 5] = f; },
  radamStep(a: N, b: N, c: N, d: N, e: N, f: N, g: N): void { const o = note(7, 7), r = raw; r[o] = a; r[o + 1] = b; r[o + 2] = c; r[o + 3] = d; r[o + 4] = e; r[o + 5] = f; r[o + 6] = g; },
  lionStep(a: N, b: N, c: N, d: N, e: N): void { const o = note(8, 5), r = raw; r[o] = a; r[o + 1] = b; r[o + 2] = c; r[o + 3] = d; r[o + 4] = e; },
  ftrlStep(a: N, b: N, c: N, d: N, e: N): void { const o = note(19, 5), r = raw; r[o] = a; r[o + 1] = b; r[o + 2] = c; r[o + 3] = d; r[o + 4] = e; },
  emaUpdate(a: N, b: N, c: N): void { const o = note(21, 3), r = raw; r[o] = a; r[o + 1] = b; r[o + 2] = c; },
  accumulateGrad(a: N, b: N, c: N): void { const o = note(22, 3), r = raw; r[o] = a; r[o + 1] = b; r[o + 2] = c; },
};

function makeRecorder(real: Kernels): Kernels {
  const out: Record<string, unknown> = { ...RECORDERS };
  for (const name of Object.keys(real) as (keyof Kernels)[]) {
    const f = real[name] as unknown as (...a: number[]) => unknown;
    if (typeof f !== "function" || name in RECORDERS) continue;
    out[name] = (...a: number[]) => {
      // The caller wrote this call's scalars already; the recorded calls run first write theirs.
      keepingScalars(flush);
      return f(...a);
    };
  }
  return out as unknown as Kernels;
}

/**
 * Starts recording the step kernels of a step over `elements` elements; false (nothing changes)
 * with one thread, or when so few that one thread runs them anyway (see STEP_MIN_ELEMENTS): they
 * are then not recorded at all. The caller must call endStep() after the step, also when it throws.
 */
export function beginStep(elements: number): boolean {
  if (threadCount() <= 1 || recording || elements < STEP_MIN_ELEMENTS) return false;
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
  const scalars = stepScalars();
  for (let e = 0; e < entryCount; e++) runPiece(kernels, scalars, entries, e * PIECE_STRIDE);
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
    const length = counts[e]!;
    // A run of table entries (negative length) goes whole to one thread.
    const run = entries[at + 2 + lengthArg]! < 0;
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
      if (run || length - offset - take < ALIGN) take = length - offset;
      const to = pieceCount * PIECE_STRIDE;
      for (let i = 0; i < PIECE_STRIDE; i++) pieces[to + i] = entries[at + i]!;
      if (!run) {
        for (let i = 0; i < lengthArg; i++) {
          if (entries[at + 2 + i] !== 0) pieces[to + 2 + i] = entries[at + 2 + i]! + offset * 4;
        }
        pieces[to + 2 + lengthArg] = take;
      }
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
