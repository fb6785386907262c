import fs from "node:fs/promises";
import type { TensorDtype } from "../tensor-spec";

/**
 * Reading and writing NumPy `.npy` files, natively, so that neither the web app nor the
 * worker needs Python or a third-party parser.
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 *
 * Only plain numeric arrays are read. Object arrays are stored as pickles, and unpickling
 * runs arbitrary code, so they are refused rather than decoded.
 */

/** An n-dimensional array in C (row-major) order. `bool` is held as a Uint8Array of 0/1. */
export interface NdArray {
  dtype: TensorDtype;
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
}

/** A dataset file that is malformed or holds something we do not load. The message says what and why. */
export class DatasetFormatError extends Error {
  override name = "DatasetFormatError";
}

interface DtypeCodec {
  /** NumPy's type code without the byte-order character, e.g. `f4`. */
  code: string;
  itemSize: number;
  create(buffer: ArrayBuffer, byteOffset: number, length: number): NdArray["data"];
  matches(data: NdArray["data"]): boolean;
}

const CODECS: Record<TensorDtype, DtypeCodec> = {
  float32: {
    code: "f4",
    itemSize: 4,
    create: (b, o, n) => new Float32Array(b, o, n),
    matches: (d) => d instanceof Float32Array,
  },
  float64: {
    code: "f8",
    itemSize: 8,
    create: (b, o, n) => new Float64Array(b, o, n),
    matches: (d) => d instanceof Float64Array,
  },
  int64: {
    code: "i8",
    itemSize: 8,
    create: (b, o, n) => new BigInt64Array(b, o, n),
    matches: (d) => d instanceof BigInt64Array,
  },
  int32: {
    code: "i4",
    itemSize: 4,
    create: (b, o, n) => new Int32Array(b, o, n),
    matches: (d) => d instanceof Int32Array,
  },
  uint8: {
    code: "u1",
    itemSize: 1,
    create: (b, o, n) => new Uint8Array(b, o, n),
    matches: (d) => d instanceof Uint8Array,
  },
  bool: {
    code: "b1",
    itemSize: 1,
    create: (b, o, n) => new Uint8Array(b, o, n),
    matches: (d) => d instanceof Uint8Array,
  },
};

const DTYPE_BY_CODE = new Map(Object.entries(CODECS).map(([dtype, c]) => [c.code, dtype as TensorDtype]));
const SUPPORTED_DESCRS = Object.values(CODECS)
  .map((c) => (c.itemSize === 1 ? `|${c.code}` : `<${c.code}`))
  .join(", ");

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** NumPy aligns the start of the data to 64 bytes so files can be memory-mapped. */
const ARRAY_ALIGN = 64;
/** NumPy leaves this much room in the header so the first axis can grow in place (numpy/lib/format.py). */
const GROWTH_AXIS_MAX_DIGITS = 21;

/**
 * Typed arrays use the host's byte order and .npy data here is little-endian. Every platform
 * we run on (x86-64, arm64) is little-endian; fail loudly rather than scramble data elsewhere.
 */
function assertLittleEndianHost(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error("NumPy files are read and written only on little-endian hosts");
  }
}

/** Number of elements a shape holds (1 for a 0-d array). */
function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** The length of the first axis: the number of examples in a dataset array. */
export function rowCount(arr: NdArray): number {
  if (arr.shape.length === 0) throw new DatasetFormatError("a 0-d array (a scalar) has no rows");
  return arr.shape[0];
}

/** Elements per row: the product of the dimensions after the first (1 for a 1-d array). */
export function rowWidth(arr: NdArray): number {
  return elementCount(arr.shape.slice(1));
}

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/**
 * The header is a Python dict literal, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
 * We read the three keys NumPy defines rather than evaluate Python.
 */
function parseHeader(text: string): NpyHeader {
  const descrList = /['"]descr['"]\s*:\s*\[/.exec(text);
  if (descrList) {
    throw new DatasetFormatError(
      `structured (record) dtypes are not supported; supported dtypes are ${SUPPORTED_DESCRS}`,
    );
  }
  const descr = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(text)?.[2];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new DatasetFormatError(`the .npy header is not a valid NumPy header: ${JSON.stringify(text.trim())}`);
  }
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    // Files written by Python 2 NumPy spell dimensions as long literals, e.g. `3L`.
    .map((s) => (/^\d+L?$/.test(s) ? Number.parseInt(s, 10) : Number.NaN));
  if (shape.some((d) => !Number.isSafeInteger(d))) {
    throw new DatasetFormatError(`the .npy header has an invalid shape: (${shapeText})`);
  }
  return { descr, fortranOrder: fortran === "True", shape };
}

function dtypeFromDescr(descr: string): TensorDtype {
  if (/^[|<>=]?O\d*$/.test(descr)) {
    throw new DatasetFormatError(
      `dtype '${descr}' is a pickled object array: pickled object arrays are not loaded, for safety; ` +
        `convert to plain numeric arrays (supported dtypes: ${SUPPORTED_DESCRS})`,
    );
  }
  const match = /^([|<>=]?)(.+)$/.exec(descr);
  const order = match?.[1] ?? "";
  const dtype = DTYPE_BY_CODE.get(match?.[2] ?? "");
  if (dtype === undefined) {
    throw new DatasetFormatError(`unsupported dtype '${descr}'; supported dtypes are ${SUPPORTED_DESCRS}`);
  }
  // Byte order is meaningless for one-byte types; for wider ones only little-endian is read,
  // and '=' (native) is what NumPy never writes to a file, so it is refused as ambiguous.
  if (CODECS[dtype].itemSize > 1 && order !== "<") {
    const found = order === ">" ? "big-endian" : `byte order '${order || "none"}'`;
    throw new DatasetFormatError(
      `dtype '${descr}' is ${found}; only little-endian data is supported (${SUPPORTED_DESCRS}); ` +
        `convert with arr.astype(arr.dtype.newbyteorder('<'))`,
    );
  }
  return dtype;
}

/** Where a `.npy` file's data starts and what it holds: read from its header alone. */
export interface NpyLayout {
  dtype: TensorDtype;
  /** NumPy's type string as the header spells it, e.g. `<f4`. */
  descr: string;
  shape: number[];
  /** Byte offset of the data in the file (NumPy aligns it to 64). */
  dataOffset: number;
  /** Bytes of data the shape and dtype need. */
  byteLength: number;
}

/**
 * Reads the header of a `.npy` file (format versions 1.0, 2.0 and 3.0) from its first bytes. Throws
 * when `head` ends inside the header: `npyHeaderLength` says how many bytes it needs.
 */
export function parseNpyLayout(head: Uint8Array): NpyLayout {
  assertLittleEndianHost();
  if (head.length < 10 || MAGIC.some((b, i) => head[i] !== b)) {
    throw new DatasetFormatError("not a NumPy .npy file (the magic string \\x93NUMPY is missing)");
  }
  const dataStart = npyHeaderLength(head);
  if (dataStart > head.length) throw new DatasetFormatError("the .npy file ends inside its header");
  const major = head[6];
  // Versions 1 and 2 use latin1 headers; version 3 allows utf8. The keys we read are ASCII either way.
  const headerText = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(head.subarray(major === 1 ? 10 : 12, dataStart));
  const header = parseHeader(headerText);
  const dtype = dtypeFromDescr(header.descr);
  if (header.fortranOrder) {
    throw new DatasetFormatError(
      "fortran_order is True; only C-order arrays are supported (save np.ascontiguousarray(arr))",
    );
  }
  return { dtype, descr: header.descr, shape: header.shape, dataOffset: dataStart, byteLength: elementCount(header.shape) * CODECS[dtype].itemSize };
}

/** The length of a `.npy` file's preamble and header, from its first 12 bytes (the data starts there). */
export function npyHeaderLength(head: Uint8Array): number {
  const major = head[6];
  const minor = head[7];
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (major === 1) {
    if (head.length < 10) throw new DatasetFormatError("the .npy file ends inside its header");
    return 10 + view.getUint16(8, true);
  }
  if (major === 2 || major === 3) {
    if (head.length < 12) throw new DatasetFormatError("the .npy file ends inside its header");
    return 12 + view.getUint32(8, true);
  }
  throw new DatasetFormatError(`.npy format version ${major}.${minor} is not supported (1.0, 2.0, 3.0 are)`);
}

/** A typed array of the dtype over `length` elements of `buffer` from `byteOffset` (a multiple of the element size). */
export function typedArrayOf(dtype: TensorDtype, buffer: ArrayBuffer, byteOffset: number, length: number): NdArray["data"] {
  return CODECS[dtype].create(buffer, byteOffset, length);
}

/**
 * Parses the bytes of a `.npy` file (format versions 1.0, 2.0 and 3.0). When the data is
 * aligned the result is a view into `bytes` (no copy of a large dataset), so it shares memory with it.
 */
export function parseNpy(bytes: Uint8Array): NdArray {
  const { dtype, descr, shape, dataOffset: dataStart, byteLength } = parseNpyLayout(bytes);
  const codec = CODECS[dtype];
  const count = byteLength / codec.itemSize;
  const available = bytes.length - dataStart;
  if (available < byteLength) {
    throw new DatasetFormatError(
      `the .npy data is truncated: shape (${shape.join(", ")}) of ${descr} needs ` +
        `${byteLength} bytes but the file has ${available}`,
    );
  }
  const absoluteOffset = bytes.byteOffset + dataStart;
  let data: NdArray["data"];
  if (absoluteOffset % codec.itemSize === 0) {
    data = codec.create(bytes.buffer as ArrayBuffer, absoluteOffset, count);
  } else {
    // Typed arrays need an offset that is a multiple of the element size; copy instead.
    const copy = bytes.slice(dataStart, dataStart + byteLength);
    data = codec.create(copy.buffer, 0, count);
  }
  if (dtype === "bool") data = normalizeBools(data as Uint8Array);
  return { dtype, shape, data };
}

/** NumPy bools are 0/1 bytes; a file could hold other non-zero bytes, which mean true. */
function normalizeBools(data: Uint8Array): Uint8Array {
  if (data.every((v) => v <= 1)) return data;
  const copy = data.slice();
  normalizeBoolBytes(copy);
  return copy;
}

/** The same, in place: every non-zero byte of `bytes` made 1 (a buffer the caller owns). */
export function normalizeBoolBytes(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 1) bytes[i] = 1;
}

function pythonShape(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

/**
 * Encodes an array as a `.npy` file byte-for-byte as `np.save` writes it: version 1.0 (2.0 when
 * the header does not fit), keys sorted, spare room for the first axis, data aligned to 64 bytes.
 */
export function encodeNpy(arr: NdArray): Uint8Array {
  assertLittleEndianHost();
  const codec = CODECS[arr.dtype];
  if (!codec.matches(arr.data)) {
    throw new DatasetFormatError(`dtype ${arr.dtype} does not match its data (${arr.data.constructor.name})`);
  }
  if (arr.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new DatasetFormatError(`invalid shape [${arr.shape.join(", ")}]`);
  }
  if (elementCount(arr.shape) !== arr.data.length) {
    throw new DatasetFormatError(
      `shape [${arr.shape.join(", ")}] holds ${elementCount(arr.shape)} elements but the data has ${arr.data.length}`,
    );
  }
  const descr = codec.itemSize === 1 ? `|${codec.code}` : `<${codec.code}`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${pythonShape(arr.shape)}, }`;
  if (arr.shape.length > 0) dict += " ".repeat(GROWTH_AXIS_MAX_DIGITS - String(arr.shape[0]).length);

  // hlen counts the trailing newline; the padding makes magic + length field + header a multiple of 64.
  const hlen = dict.length + 1;
  const paddedLength = (prefixLength: number) => hlen + ARRAY_ALIGN - ((prefixLength + hlen) % ARRAY_ALIGN);
  // Version 1.0 stores the header length in 16 bits; NumPy moves to 2.0 (32 bits) when it overflows.
  const version = paddedLength(10) <= 0xffff ? 1 : 2;
  const prefixLength = version === 1 ? 10 : 12;
  const header = dict.padEnd(paddedLength(prefixLength) - 1, " ") + "\n";

  const dataBytes = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const out = new Uint8Array(prefixLength + header.length + dataBytes.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefixLength + i] = header.charCodeAt(i);
  out.set(dataBytes, prefixLength + header.length);
  return out;
}

/** Reads a `.npy` file; format errors name the file. */
export async function readNpyFile(path: string): Promise<NdArray> {
  const bytes = await fs.readFile(path);
  try {
    return parseNpy(bytes);
  } catch (err) {
    if (err instanceof DatasetFormatError) throw new DatasetFormatError(`${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

export async function writeNpyFile(path: string, arr: NdArray): Promise<void> {
  await fs.writeFile(path, encodeNpy(arr));
}
