// Fault injection: every allocation a call makes is made to fail in turn (the out-of-memory
// error). The call must throw and leave everything as before it — parameters, gradients, state
// buffers and step counts (through stateDict), outputs and allocatedBytes, with the heap top no
// higher — and a retry must then give what an undisturbed call gives.
import { describe, expect, it } from "vitest";
import {
  Adam, batchNormBackward, batchNormForward, BatchNorm, init, matmul, parameter, RMSprop, SGD,
  type Optimizer, type Parameter,
} from "../../src/index.js";
import { allocatedBytes, allocationCount, failNthAllocation, heapTopBytes } from "../../src/bindings/memory.js";

await init();

interface Case {
  /** The call under test. */
  run(): unknown;
  /** Everything the call may change (plain data, compared with toEqual). */
  state(): unknown;
  dispose(): void;
}

function values(seed: number, length: number): number[] {
  return Array.from({ length }, (_, i) => Math.fround(Math.sin(seed * 3.1 + i * 0.7) * 2));
}

/**
 * Counts the allocations of an undisturbed run, then fails each in turn on a fresh case. Cases
 * of a later round are larger, so reused scratch must grow each time (its allocation is counted).
 */
function failEveryAllocation(make: (round: number) => Case): number {
  let round = 0;
  const probe = make(round++);
  const start = allocationCount();
  probe.run();
  const points = allocationCount() - start;
  probe.dispose();
  expect(points).toBeGreaterThan(0);
  for (let n = 1; n <= points; n++) {
    const subject = make(round);
    const twin = make(round++);
    const before = { state: subject.state(), bytes: allocatedBytes(), top: heapTopBytes() };
    failNthAllocation(n);
    try {
      expect(() => subject.run(), `allocation ${n} of ${points}`).toThrow(/out of wasm memory/);
    } finally {
      failNthAllocation(0);
    }
    expect({ state: subject.state(), bytes: allocatedBytes() }, `allocation ${n} of ${points}`).toEqual({ state: before.state, bytes: before.bytes });
    // A scratch that could not grow takes its old size again, possibly in a lower hole: the heap
    // top never rises.
    expect(heapTopBytes()).toBeLessThanOrEqual(before.top);
    twin.run();
    subject.run();
    expect(subject.state()).toEqual(twin.state());
    subject.dispose();
    twin.dispose();
  }
  return points;
}

/** A snapshot of an optimizer and its parameters. */
function optimizerState(optimizer: Optimizer<object>, params: Parameter[]) {
  return { params: params.map((p) => [...p.data]), grads: params.map((p) => [...p.grad]), dict: optimizer.stateDict() };
}

function optimizerCase(
  round: number, shapes: number[][], make: (params: Parameter[]) => Optimizer<object>,
  run: (optimizer: Optimizer<object>, params: Parameter[]) => unknown, warmUp?: (optimizer: Optimizer<object>) => void,
): Case {
  const params = shapes.map((shape, i) => {
    const grown = [shape[0]! + 4 * round, ...shape.slice(1)];
    const size = grown.reduce((a, b) => a * b, 1);
    const p = parameter(grown, { init: values(i + 1, size) });
    p.grad.set(values(i + 10, size));
    return p;
  });
  const optimizer = make(params);
  warmUp?.(optimizer);
  return {
    run: () => run(optimizer, params),
    state: () => optimizerState(optimizer, params),
    dispose: () => {
      optimizer.dispose();
      for (const p of params) p.dispose();
    },
  };
}

describe("optimizer steps: every allocation point fails cleanly", () => {
  it("dense step, fresh state, two groups (Adam with amsgrad: 3 buffers per parameter)", () => {
    const points = failEveryAllocation((round) => optimizerCase(round, [[5], [3, 4], [7]],
      ([a, b, c]) => new Adam([{ params: [a!, b!] }, { params: [c!], lr: 0.5 }], { amsgrad: true, weightDecay: 0.1 }) as Optimizer<object>,
      (optimizer) => optimizer.step()));
    expect(points).toBe(9);
  });

  it("dense step that adds a buffer to existing state (amsgrad switched on after two steps)", () => {
    const points = failEveryAllocation((round) => optimizerCase(round, [[6], [2, 3]],
      (params) => new Adam(params) as Optimizer<object>,
      (optimizer) => optimizer.step(),
      (optimizer) => {
        optimizer.step();
        optimizer.step();
        (optimizer.paramGroups[0] as { amsgrad: boolean }).amsgrad = true;
      }));
    expect(points).toBe(2);
  });

  it("masked step, fresh state (RMSprop centered with momentum; byte and float masks)", () => {
    const points = failEveryAllocation((round) => optimizerCase(round, [[9], [4, 5]],
      (params) => new RMSprop(params, { centered: true, momentum: 0.9 }) as Optimizer<object>,
      (optimizer, [a, b]) => optimizer.step({
        mask: new Map<Parameter, Uint8Array | Float32Array>([
          [a!, Uint8Array.from({ length: a!.size }, (_, i) => i % 2)],
          [b!, Float32Array.from({ length: b!.size }, (_, i) => (i % 3 === 0 ? 1 : 0))],
        ]),
      })));
    expect(points).toBe(3 * 2 + 1); // three buffers each, then the scratch
  });

  it("masked step over existing state: only the mask scratch grows, before any parameter steps", () => {
    // The unmasked first parameter steps before the second's mask is staged: the scratch must
    // have been reserved up front even though no state is created. (Larger than the masks above:
    // the scratch they grew is kept.)
    expect(failEveryAllocation((round) => optimizerCase(round, [[6], [60, 9]],
      (params) => new Adam(params) as Optimizer<object>,
      (optimizer, [, b]) => optimizer.step({ mask: new Map([[b!, Uint8Array.from({ length: b!.size }, (_, i) => i % 2)]]) }),
      (optimizer) => optimizer.step()))).toBe(1);
  });

  it("row step, fresh state, and a row step after dense steps once a new buffer is needed", () => {
    const rows = (p: Parameter) => Int32Array.from([0, 2, p.shape[0]! - 1]);
    expect(failEveryAllocation((round) => optimizerCase(round, [[5, 3], [6, 2]],
      (params) => new Adam(params) as Optimizer<object>,
      (optimizer, [a, b]) => optimizer.step({ rows: new Map([[a!, rows(a!)], [b!, rows(b!)]]) })))).toBe(4);
    expect(failEveryAllocation((round) => optimizerCase(round, [[5, 3]],
      (params) => new Adam(params) as Optimizer<object>,
      (optimizer, [a]) => optimizer.step({ rows: new Map([[a!, rows(a!)]]) }),
      (optimizer) => {
        optimizer.step();
        (optimizer.paramGroups[0] as { amsgrad: boolean }).amsgrad = true;
      }))).toBe(1);
  });

  it("guarded step (skipIfNonfinite) with fresh momentum buffers", () => {
    expect(failEveryAllocation((round) => optimizerCase(round, [[8], [3]],
      (params) => new SGD(params, { lr: 0.1, momentum: 0.9 }) as Optimizer<object>,
      (optimizer) => optimizer.step({ skipIfNonfinite: true })))).toBe(2);
  });
});

describe("after a failed step", () => {
  it("a masked first step that fails after making the state leaves no trace a dense step could reuse", () => {
    // SGD without momentum keeps no buffer: the state object is made, then the mask scratch
    // (larger than any above) fails. The state is dropped; the next step must make it anew.
    const p = parameter([40, 40], { init: values(7, 1600) });
    p.grad.set(values(8, 1600));
    const sgd = new SGD([p], { lr: 0.5 });
    const before = [...p.data];
    failNthAllocation(1);
    try {
      expect(() => sgd.step({ mask: new Map([[p, new Uint8Array(1600).fill(1)]]) })).toThrow(/out of wasm memory/);
    } finally {
      failNthAllocation(0);
    }
    expect([...p.data]).toEqual(before);
    expect(sgd.stateDict().state).toEqual([null]);
    expect(sgd.step()).toBe(true);
    expect(sgd.stateDict().state).toEqual([{ step: 1, buffers: {}, touchedRows: null, scalars: {} }]);
    expect([...p.data]).toEqual(before.map((x, i) => Math.fround(x - Math.fround(0.5 * p.grad[i]!))));
    sgd.dispose();
    p.dispose();
  });
});

describe("matmul, batch norm and construction: every allocation point fails cleanly", () => {
  it("matmul with plain arrays (scratch for packing and copies), transA, and out overlapping a view input", () => {
    failEveryAllocation((round) => {
      const m = 5, n = 6, k = 40 + 8 * round;
      const a = Float32Array.from(values(1, m * k));
      const b = Float32Array.from(values(2, k * n));
      const out = Float32Array.from(values(3, m * n));
      return { run: () => matmul(a, b, { m, k, n, transA: true, out, beta: 0.5 }), state: () => [...out], dispose: () => {} };
    });
    failEveryAllocation((round) => {
      const m = 4, n = 4, k = 400 + 8 * round;
      const host = parameter([m * k + m * n], { init: values(4, m * k + m * n) });
      const b = Float32Array.from(values(5, k * n));
      return {
        run: () => matmul(host.data.subarray(0, m * k), b, { m, k, n, out: host.data.subarray(m * k - 3, m * k - 3 + m * n) }),
        state: () => [...host.data],
        dispose: () => host.dispose(),
      };
    });
  });

  it("batchNormForward and batchNormBackward with plain arrays (staging scratch)", () => {
    // Each case starts larger than the last, so that its first call grows the shared scratch.
    let base = 8;
    for (const layout of ["NCHW", "NHWC"] as const) {
      base = base * 3 + 100;
      failEveryAllocation((round) => {
        const N = base + 4 * round, C = 3, S = 5;
        const shape = layout === "NCHW" ? [N, C, S] : [N, S, C];
        const x = Float32Array.from(values(6, N * C * S));
        const out = new Float32Array(N * C * S);
        const runningMean = new Float32Array(C).fill(0.25);
        const runningVar = new Float32Array(C).fill(2);
        return {
          run: () => batchNormForward(x, shape, { layout, runningMean, runningVar, out }),
          state: () => ({ out: [...out], runningMean: [...runningMean], runningVar: [...runningVar] }),
          dispose: () => {},
        };
      });
      base = base * 3 + 100;
      failEveryAllocation((round) => {
        const N = base + 4 * round, C = 3, S = 5;
        const shape = layout === "NCHW" ? [N, C, S] : [N, S, C];
        const x = Float32Array.from(values(7, N * C * S));
        const dy = Float32Array.from(values(8, N * C * S));
        const { mean, invStd } = batchNormForward(x, shape, { layout });
        const out = new Float32Array(N * C * S);
        const dgammaOut = new Float32Array(C).fill(1);
        return {
          run: () => batchNormBackward(dy, x, shape, { layout, mean, invStd, out, dgammaOut, accumulate: true }),
          state: () => ({ out: [...out], dgamma: [...dgammaOut] }),
          dispose: () => {},
        };
      });
    }
  });

  it("parameter() and new BatchNorm(): all or nothing", () => {
    const made: Array<{ dispose(): void }> = [];
    const construct = (build: (round: number) => { dispose(): void }) => (round: number): Case => ({
      run: () => made.push(build(round)),
      state: () => null,
      dispose: () => {
        for (const thing of made.splice(0)) thing.dispose();
      },
    });
    expect(failEveryAllocation(construct((round) => parameter([3 + round, 2], { init: "ones" })))).toBe(2);
    expect(failEveryAllocation(construct((round) => new BatchNorm(4 + round)))).toBe(8); // weight, bias (2 each), 4 statistics
    expect(failEveryAllocation(construct((round) => new BatchNorm(4 + round, { affine: false, trackRunningStats: false })))).toBe(2);
  });
});
