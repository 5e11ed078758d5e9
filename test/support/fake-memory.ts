// A fresh copy of src/bindings/memory.ts over a stand-in for WebAssembly.Memory that records
// every grow() request and can refuse some: the allocator's growth and failure paths, exactly.
import { vi } from "vitest";

export type Memory = typeof import("../../src/bindings/memory.js");
export const PAGE = 65536;
export const MiB = 2 ** 20;

/** Grows like a WebAssembly.Memory (a new, longer buffer holding the old bytes), recording requests. */
export class FakeMemory {
  buffer: ArrayBuffer | SharedArrayBuffer;
  readonly grows: number[] = [];
  constructor(pages: number, readonly shared: boolean, readonly refuse: (pages: number) => boolean = () => false) {
    this.buffer = this.make(pages * PAGE);
  }
  private make(bytes: number): ArrayBuffer | SharedArrayBuffer {
    return this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  }
  grow(pages: number): number {
    this.grows.push(pages);
    if (this.refuse(pages)) throw new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded");
    const old = this.buffer.byteLength / PAGE;
    const next = this.make((old + pages) * PAGE);
    new Uint8Array(next).set(new Uint8Array(this.buffer));
    this.buffer = next;
    return old;
  }
}

export async function freshModule(): Promise<Memory> {
  vi.resetModules();
  return (await import("../../src/bindings/memory.js")) as Memory;
}

export async function attached(pages = 1, { shared = false, heapBase = 16, refuse }: { shared?: boolean; heapBase?: number; refuse?: (pages: number) => boolean } = {}): Promise<{ m: Memory; memory: FakeMemory }> {
  const m = await freshModule();
  const memory = new FakeMemory(pages, shared, refuse);
  m.attachMemory(memory as unknown as WebAssembly.Memory, shared, heapBase);
  return { m, memory };
}

