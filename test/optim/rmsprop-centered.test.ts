// Centered RMSprop with gradients so small that its running averages underflow in float32:
// squareAvg − gradAvg² can round below 0; the kernel clamps it at 0 (PyTorch would give NaN).

import { beforeAll, expect, it } from "vitest";
import { init, parameter, RMSprop } from "../../src/index.js";

beforeAll(async () => {
  await init();
});

// Gradients for which float32 rounding makes squareAvg − gradAvg² negative within 20 steps
// (found by simulating the kernel's float32 operations): unclamped, their square root is NaN.
const TINY = [-1.1231289124492735e-22, -4.0973545857706084e-23, 5.947868599314765e-23];

it("stays finite for gradients whose float32 variance rounds below zero", () => {
  const size = 12;
  const p = parameter([size], { init: "zeros" });
  const lr = 1e-2;
  const eps = 1e-8;
  const optimizer = new RMSprop([p], { lr, alpha: 0.9, eps, centered: true });
  const gradient = new Float32Array(size).map((_, i) => TINY[i % TINY.length]!);
  const steps = 20;
  for (let t = 0; t < steps; t++) {
    p.grad.set(gradient);
    optimizer.step();
  }
  for (let i = 0; i < size; i++) {
    const value = p.data[i]!;
    expect(Number.isFinite(value), `element ${i}`).toBe(true);
    // Each step moves against the gradient by lr·|g|/(√variance + ε) ≤ lr·|g|/ε.
    expect(Math.sign(value), `element ${i}`).toBe(-Math.sign(gradient[i]!));
    expect(Math.abs(value)).toBeLessThanOrEqual((steps * lr * Math.abs(gradient[i]!)) / eps * 1.0001);
  }
  optimizer.dispose(); p.dispose();
});
