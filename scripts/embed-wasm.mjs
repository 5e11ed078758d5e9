// Generates src/bindings/wasm.ts, the wasm the main entry embeds so that `init()` needs no file
// path, fetch or bundler plugin on any runtime, and src/version.ts (the package version, kept
// apart so that the slim entry reports it without pulling in the embedded wasm).
//
// Size is what matters here (the embedded builds are most of the package), hence:
// - the relaxed build ships as a patch against the simd build: the two differ only in the
//   functions that use relaxed madd, so every other section and every identical function body is
//   copied from the simd bytes; differing function bodies and differing sections ship whole;
// - bytes are written one string character each, the most frequent byte values as single-byte
//   printable ASCII and the rest as two-byte UTF-8 characters, with no escapes at all: this gzips
//   almost as well as the raw .wasm (base64 costs ~40% more after gzip).
// The decoder is src/bindings/embedded.ts; `decodeWasm`/`applyPatch` below mirror it.
//
//   node scripts/embed-wasm.mjs [buildDir]   (default build/)
import { readFileSync, writeFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const buildDir = new URL(`${process.argv[2] ?? "build"}/`, root);
const simd = readFileSync(new URL("simdopt-simd.wasm", buildDir));
const relaxed = readFileSync(new URL("simdopt-relaxed.wasm", buildDir));
const { version } = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));

/** Reads the unsigned LEB128 at `at`: [value, offset after it]. */
function readU32(bytes, at) {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
  }
}

function writeU32(value, out) {
  do {
    const low = value % 128;
    value = Math.floor(value / 128);
    out.push(value > 0 ? low | 0x80 : low);
  } while (value > 0);
}

/** The sections of a module: id, start (of the id byte), payload start, end. */
function sections(bytes) {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (!magic.every((byte, i) => bytes[i] === byte)) throw new Error("embed-wasm: not a wasm module (version 1)");
  const out = [];
  let at = 8;
  while (at < bytes.length) {
    const start = at;
    const id = bytes[at++];
    let size;
    [size, at] = readU32(bytes, at);
    out.push({ id, start, payload: at, end: at + size });
    at += size;
  }
  if (at !== bytes.length) throw new Error("embed-wasm: truncated section");
  return out;
}

/** The function bodies of a code section payload (each with its size prefix), and where the vector starts. */
function functionBodies(bytes, section) {
  let [count, at] = readU32(bytes, section.payload);
  const first = at;
  const out = [];
  for (let i = 0; i < count; i++) {
    const start = at;
    let size;
    [size, at] = readU32(bytes, at);
    at += size;
    out.push({ start, end: at });
  }
  if (at !== section.end) throw new Error("embed-wasm: code section size mismatch");
  return { first, bodies: out };
}

const equal = (a, b) => a.length === b.length && a.every((byte, i) => byte === b[i]);

/**
 * `target` as a patch against `base`: varuint total length, then records of
 * (varuint copy offset in base, varuint copy length, varuint literal length, literal bytes).
 */
function makePatch(base, target) {
  // Pieces of the target: [offset, length] copied from base, or a literal byte array.
  const pieces = [];
  const baseSections = sections(base);
  const findSection = (bytes) => baseSections.find((s) => equal(base.subarray(s.start, s.end), bytes));
  for (const section of sections(target)) {
    const whole = target.subarray(section.start, section.end);
    const same = findSection(whole);
    if (same !== undefined) {
      pieces.push([same.start, same.end - same.start]);
    } else if (section.id === 10) {
      const baseCode = baseSections.find((s) => s.id === 10);
      const baseBodies = baseCode === undefined ? new Map() : new Map(
        functionBodies(base, baseCode).bodies.map(({ start, end }) => [base.subarray(start, end).toString("hex"), start]),
      );
      const { first, bodies } = functionBodies(target, section);
      pieces.push(target.subarray(section.start, first));
      for (const { start, end } of bodies) {
        const from = baseBodies.get(target.subarray(start, end).toString("hex"));
        pieces.push(from === undefined ? target.subarray(start, end) : [from, end - start]);
      }
    } else {
      pieces.push(whole);
    }
  }
  pieces.unshift(target.subarray(0, 8));
  const out = [];
  writeU32(target.length, out);
  let copy = [0, 0];
  let literal = [];
  const flush = () => {
    writeU32(copy[0], out);
    writeU32(copy[1], out);
    writeU32(literal.length, out);
    out.push(...literal);
    copy = [0, 0];
    literal = [];
  };
  for (const piece of pieces) {
    if (Array.isArray(piece)) {
      if (literal.length > 0 || (copy[1] > 0 && copy[0] + copy[1] !== piece[0])) flush();
      if (copy[1] === 0) copy = [piece[0], piece[1]];
      else copy[1] += piece[1];
    } else {
      literal.push(...piece);
    }
  }
  flush();
  return Uint8Array.from(out);
}

function applyPatch(base, patch) {
  let at = 0;
  const next = () => {
    let value;
    [value, at] = readU32(patch, at);
    return value;
  };
  const out = new Uint8Array(next());
  let written = 0;
  while (at < patch.length) {
    const from = next();
    const length = next();
    out.set(base.subarray(from, from + length), written);
    written += length;
    const literal = next();
    out.set(patch.subarray(at, at + literal), written);
    written += literal;
    at += literal;
  }
  return out;
}

// The alphabet: printable ASCII but `"` and `\` (one UTF-8 byte each), then U+00A0 onwards (two
// bytes each, and no control, combining or line-terminator characters among them).
const ALPHABET = [];
for (let c = 0x20; c < 0x7f; c++) if (c !== 0x22 && c !== 0x5c) ALPHABET.push(c);
for (let c = 0xa0; ALPHABET.length < 256; c++) ALPHABET.push(c);

/** Byte value → character code, the frequent byte values of the simd build getting one-byte characters. */
function alphabetFor(bytes) {
  const counts = new Array(256).fill(0);
  for (const byte of bytes) counts[byte]++;
  const order = counts.map((count, byte) => [count, byte]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const charOf = new Array(256);
  order.forEach(([, byte], rank) => (charOf[byte] = ALPHABET[rank]));
  return charOf;
}

const encode = (bytes, charOf) => Array.from(bytes, (byte) => String.fromCharCode(charOf[byte])).join("");

function decodeWasm(text, table) {
  const byteOf = new Uint8Array(0x200);
  for (let byte = 0; byte < 256; byte++) byteOf[table.charCodeAt(byte)] = byte;
  return Uint8Array.from(text, (char) => byteOf[char.charCodeAt(0)]);
}

const charOf = alphabetFor(simd);
const table = String.fromCharCode(...charOf);
const patch = makePatch(simd, relaxed);
const simdText = encode(simd, charOf);
const patchText = encode(patch, charOf);

// The generated strings must decode to exactly the builds.
if (!equal(decodeWasm(simdText, table), simd) || !equal(applyPatch(decodeWasm(simdText, table), decodeWasm(patchText, table)), relaxed)) {
  throw new Error("embed-wasm: the encoded builds do not decode to the originals");
}

writeFileSync(new URL("src/bindings/wasm.ts", root), `// Generated by scripts/embed-wasm.mjs from build/*.wasm — do not edit.
/** @internal Character code of each byte value 0–255 in the strings below. */
export const wasmAlphabet: string = "${table}";
/** @internal The plain v128 SIMD build, one character per byte. */
export const simdWasm: string = "${simdText}";
/** @internal The relaxed-SIMD build (relaxed madd in GEMM and batch norm), as a patch against the simd build. */
export const relaxedWasmPatch: string = "${patchText}";
`);
writeFileSync(new URL("src/version.ts", root), `// Generated by scripts/embed-wasm.mjs from package.json — do not edit.
/** The simdopt package version. */
export const version: string = "${version}";
`);
console.info(`embed-wasm: simd ${simd.length} B, relaxed ${relaxed.length} B as a ${patch.length} B patch`);
