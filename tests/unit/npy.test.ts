import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  DatasetFormatError,
  encodeNpy,
  parseNpy,
  readNpyFile,
  rowCount,
  rowWidth,
  writeNpyFile,
  type NdArray,
} from "@goat/contracts/dataset/npy";

const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));
const b64 = (s: string) => Uint8Array.from(Buffer.from(s, "base64"));

// Written by NumPy 2.4: np.save(f, np.arange(6, dtype='<f4').reshape(2, 3)).
// Header: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded to 128 bytes.
const ARANGE_2X3_F4 = hex(
  "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a" +
    "000000000000803f0000004000004040000080400000a040",
);
// np.lib.format.write_array(f, np.array([[1, 2], [3, 4]], dtype='<i4'), version=(2, 0))
const V2_I4 = b64(
  "k05VTVBZAgB0AAAAeydkZXNjcic6ICc8aTQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAgAAAAMAAAAEAAAA",
);
// np.lib.format.write_array(f, np.array([1.5, -2.25], dtype='<f8'), version=(3, 0))
const V3_F8 = b64(
  "k05VTVBZAwB0AAAAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAD4PwAAAAAAAALA",
);
// np.save(f, np.array([-1, 2**40, 3], dtype='<i8'))
const I8 = b64(
  "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr//////////wAAAAAAAQAAAwAAAAAAAAA=",
);
// np.save(f, np.array([True, False, True]))
const B1 = b64(
  "k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=",
);

/** A version 1.0 file with a hand-written header, padded per the format spec (64-byte alignment). */
function npyWithHeader(dict: string, data: Uint8Array = new Uint8Array()): Uint8Array {
  const padded = dict.padEnd(Math.ceil((10 + dict.length + 1) / 64) * 64 - 10 - 1, " ") + "\n";
  const out = new Uint8Array(10 + padded.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, padded.length, true);
  out.set(Buffer.from(padded, "latin1"), 10);
  out.set(data, 10 + padded.length);
  return out;
}

function refusal(bytes: Uint8Array): string {
  try {
    parseNpy(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetFormatError);
    return (err as Error).message;
  }
  throw new Error("expected parseNpy to refuse the bytes");
}

describe("parseNpy", () => {
  it("reads the file NumPy writes for arange(6, float32).reshape(2, 3)", () => {
    const arr = parseNpy(ARANGE_2X3_F4);
    expect(arr.dtype).toBe("float32");
    expect(arr.shape).toEqual([2, 3]);
    expect(arr.data).toBeInstanceOf(Float32Array);
    expect(Array.from<number | bigint>(arr.data)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("reads format versions 2.0 and 3.0", () => {
    const v2 = parseNpy(V2_I4);
    expect(v2).toMatchObject({ dtype: "int32", shape: [2, 2] });
    expect(Array.from<number | bigint>(v2.data)).toEqual([1, 2, 3, 4]);
    const v3 = parseNpy(V3_F8);
    expect(v3).toMatchObject({ dtype: "float64", shape: [2] });
    expect(Array.from<number | bigint>(v3.data)).toEqual([1.5, -2.25]);
  });

  it("reads int64 as BigInt64Array, exactly beyond 2^32", () => {
    const arr = parseNpy(I8);
    expect(arr.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(arr.data as BigInt64Array)).toEqual([-1n, 2n ** 40n, 3n]);
  });

  it("reads bool as a Uint8Array of 0/1, mapping any non-zero byte to 1", () => {
    expect(parseNpy(B1)).toMatchObject({ dtype: "bool", shape: [3], data: Uint8Array.from([1, 0, 1]) });
    const odd = npyWithHeader("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", Uint8Array.from([0, 7, 1]));
    expect(Array.from<number | bigint>(parseNpy(odd).data)).toEqual([0, 1, 1]);
  });

  it("copies the data into an aligned array when it starts at an unaligned offset", () => {
    const backing = new Uint8Array(ARANGE_2X3_F4.length + 1);
    backing.set(ARANGE_2X3_F4, 1);
    const arr = parseNpy(backing.subarray(1));
    expect(Array.from<number | bigint>(arr.data)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(arr.data.byteOffset % 4).toBe(0);
  });

  it("views the input without copying when the data is aligned", () => {
    const arr = parseNpy(ARANGE_2X3_F4);
    expect(arr.data.buffer).toBe(ARANGE_2X3_F4.buffer);
    expect(arr.data.byteOffset).toBe(128);
  });

  it("reads Python 2 long dimensions and zero-length arrays", () => {
    const long = npyWithHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 1L), }", Uint8Array.from([9, 8]));
    expect(parseNpy(long)).toMatchObject({ shape: [2, 1], data: Uint8Array.from([9, 8]) });
    expect(parseNpy(npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }")).shape).toEqual([0, 3]);
  });

  it("refuses pickled object arrays, for safety", () => {
    const message = refusal(npyWithHeader("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(16)));
    expect(message).toContain("'|O'");
    expect(message).toContain("pickled object arrays are not loaded, for safety; convert to plain numeric arrays");
  });

  it("refuses big-endian data, naming what was found and what is supported", () => {
    const message = refusal(npyWithHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)));
    expect(message).toContain("'>f4' is big-endian");
    expect(message).toContain("<f4, <f8, <i8, <i4, |u1, |b1");
  });

  it("refuses Fortran-order arrays", () => {
    const message = refusal(npyWithHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", new Uint8Array(24)));
    expect(message).toContain("fortran_order is True");
  });

  it.each([
    ["<f2", "float16"],
    ["<i2", "int16"],
    ["<u4", "uint32"],
    ["<U3", "unicode strings"],
  ])("refuses unsupported dtype %s (%s)", (descr) => {
    const message = refusal(npyWithHeader(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`, new Uint8Array(16)));
    expect(message).toContain(`unsupported dtype '${descr}'`);
    expect(message).toContain("supported dtypes are <f4, <f8, <i8, <i4, |u1, |b1");
  });

  it("refuses structured dtypes", () => {
    const message = refusal(npyWithHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)));
    expect(message).toContain("structured");
  });

  it("refuses bytes without the NumPy magic string", () => {
    expect(refusal(Buffer.from("PK\x03\x04 not numpy at all"))).toContain("not a NumPy .npy file");
    expect(refusal(new Uint8Array())).toContain("not a NumPy .npy file");
  });

  it("refuses an unknown format version", () => {
    const bytes = ARANGE_2X3_F4.slice();
    bytes[6] = 4;
    expect(refusal(bytes)).toContain("version 4.0 is not supported");
  });

  it("refuses data shorter than the shape implies, saying how much is missing", () => {
    const message = refusal(ARANGE_2X3_F4.subarray(0, ARANGE_2X3_F4.length - 1));
    expect(message).toBe("the .npy data is truncated: shape (2, 3) of <f4 needs 24 bytes but the file has 23");
  });

  it("refuses a header that ends past the file", () => {
    expect(refusal(ARANGE_2X3_F4.subarray(0, 60))).toContain("ends inside its header");
  });
});

describe("encodeNpy", () => {
  it("writes the same bytes as np.save", () => {
    const arr: NdArray = { dtype: "float32", shape: [2, 3], data: Float32Array.from([0, 1, 2, 3, 4, 5]) };
    expect(Buffer.from(encodeNpy(arr)).toString("hex")).toBe(Buffer.from(ARANGE_2X3_F4).toString("hex"));
    expect(encodeNpy({ dtype: "int64", shape: [3], data: BigInt64Array.from([-1n, 2n ** 40n, 3n]) })).toEqual(I8);
    expect(encodeNpy({ dtype: "bool", shape: [3], data: Uint8Array.from([1, 0, 1]) })).toEqual(B1);
  });

  it("writes a 1-d shape as a one-element Python tuple and aligns the data to 64 bytes", () => {
    const bytes = encodeNpy({ dtype: "float64", shape: [5], data: new Float64Array(5) });
    const headerLength = new DataView(bytes.buffer).getUint16(8, true);
    const header = Buffer.from(bytes.subarray(10, 10 + headerLength)).toString("latin1");
    expect(header.startsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }")).toBe(true);
    expect(header.endsWith(" \n")).toBe(true);
    expect((10 + headerLength) % 64).toBe(0);
  });

  it.each<NdArray>([
    { dtype: "float32", shape: [2, 2], data: Float32Array.from([1.5, -2, 3.25, Number.NaN]) },
    { dtype: "float64", shape: [3], data: Float64Array.from([Math.PI, -0, 1e300]) },
    { dtype: "int64", shape: [1, 2], data: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]) },
    { dtype: "int32", shape: [2, 1, 2], data: Int32Array.from([-2147483648, 0, 7, 2147483647]) },
    { dtype: "uint8", shape: [4], data: Uint8Array.from([0, 1, 128, 255]) },
    { dtype: "bool", shape: [2], data: Uint8Array.from([0, 1]) },
    { dtype: "float32", shape: [], data: Float32Array.from([42]) },
  ])("round-trips $dtype $shape", (arr) => {
    const back = parseNpy(encodeNpy(arr));
    expect(back.dtype).toBe(arr.dtype);
    expect(back.shape).toEqual(arr.shape);
    expect(back.data).toEqual(arr.data);
  });

  it("encodes a typed array that is a view into a larger buffer", () => {
    const big = Int32Array.from([100, 1, 2, 3, 200]);
    const back = parseNpy(encodeNpy({ dtype: "int32", shape: [3], data: big.subarray(1, 4) }));
    expect(Array.from<number | bigint>(back.data)).toEqual([1, 2, 3]);
  });

  it("refuses data that does not match the dtype or shape", () => {
    expect(() => encodeNpy({ dtype: "float64", shape: [2], data: new Float32Array(2) })).toThrow(DatasetFormatError);
    expect(() => encodeNpy({ dtype: "float32", shape: [2, 2], data: new Float32Array(3) })).toThrow(
      "shape [2, 2] holds 4 elements but the data has 3",
    );
  });
});

describe("rowCount and rowWidth", () => {
  it("count rows along the first axis and elements per row after it", () => {
    const arr: NdArray = { dtype: "uint8", shape: [4, 3, 2], data: new Uint8Array(24) };
    expect(rowCount(arr)).toBe(4);
    expect(rowWidth(arr)).toBe(6);
    expect(rowWidth({ dtype: "uint8", shape: [4], data: new Uint8Array(4) })).toBe(1);
    expect(() => rowCount({ dtype: "uint8", shape: [], data: new Uint8Array(1) })).toThrow(DatasetFormatError);
  });
});

describe("readNpyFile and writeNpyFile", () => {
  const dirPromise = fs.mkdtemp(path.join(os.tmpdir(), "goat-npy-"));
  afterAll(async () => fs.rm(await dirPromise, { recursive: true, force: true }));

  it("round-trip through a file", async () => {
    const file = path.join(await dirPromise, "a.npy");
    await writeNpyFile(file, { dtype: "float32", shape: [2, 3], data: Float32Array.from([0, 1, 2, 3, 4, 5]) });
    expect(new Uint8Array(await fs.readFile(file))).toEqual(ARANGE_2X3_F4);
    const arr = await readNpyFile(file);
    expect(arr.shape).toEqual([2, 3]);
    expect(Array.from<number | bigint>(arr.data)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("name the file in format errors", async () => {
    const file = path.join(await dirPromise, "objects.npy");
    await fs.writeFile(file, npyWithHeader("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)));
    await expect(readNpyFile(file)).rejects.toThrow(`${file}: dtype '|O' is a pickled object array`);
  });
});
