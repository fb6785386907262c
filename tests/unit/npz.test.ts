import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { zipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { DatasetFormatError, encodeNpy } from "@goat/contracts/dataset/npy";
import { encodeNpz, parseNpz, readNpzFile, writeNpzFile } from "@goat/contracts/dataset/npz";

const b64 = (s: string) => Uint8Array.from(Buffer.from(s, "base64"));

// Written by NumPy 2.4: np.savez(f, x=np.arange(4, dtype='<f4').reshape(2, 2), mask=np.array([1, 0], dtype='u1')).
// NumPy writes its members with zip64 local headers (sizes 0xffffffff), which the reader must follow.
const NUMPY_SAVEZ = b64(
  "UEsDBC0AAAAAAAAAIQCR9Ofb//////////8FABQAeC5ucHkBABAAkAAAAAAAAACQAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJzxmNCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgyLCAyKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAAAAAAAAgD8AAABAAABAQFBLAwQtAAAAAAAAACEATmNrsf//////////CAAUAG1hc2subnB5AQAQAIIAAAAAAAAAggAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICd8dTEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgEAUEsBAi0DLQAAAAAAAAAhAJH059uQAAAAkAAAAAUAAAAAAAAAAAAAAIABAAAAAHgubnB5UEsBAi0DLQAAAAAAAAAhAE5ja7GCAAAAggAAAAgAAAAAAAAAAAAAAIABxwAAAG1hc2subnB5UEsFBgAAAAACAAIAaQAAAIMBAAAAAA==",
);
// np.savez_compressed(f, y=np.arange(3, dtype='<i8'))
const NUMPY_SAVEZ_COMPRESSED = b64(
  "UEsDBC0AAAAIAAAAIQD3QBLq//////////8FABQAeS5ucHkBABAAmAAAAAAAAABMAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loG6TaaGuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GsY6mjoKtQoUAC4GKGCE0kxQGgBQSwECLQMtAAAACAAAACEA90AS6kwAAACYAAAABQAAAAAAAAAAAAAAgAEAAAAAeS5ucHlQSwUGAAAAAAEAAQAzAAAAgwAAAAAA",
);

describe("parseNpz", () => {
  it("reads np.savez output, naming arrays without .npy", () => {
    const arrays = parseNpz(NUMPY_SAVEZ);
    expect(Object.keys(arrays).sort()).toEqual(["mask", "x"]);
    expect(arrays.x).toMatchObject({ dtype: "float32", shape: [2, 2] });
    expect(Array.from<number | bigint>(arrays.x.data)).toEqual([0, 1, 2, 3]);
    expect(arrays.mask).toMatchObject({ dtype: "uint8", shape: [2], data: Uint8Array.from([1, 0]) });
  });

  it("reads np.savez_compressed output", () => {
    const { y } = parseNpz(NUMPY_SAVEZ_COMPRESSED);
    expect(y.dtype).toBe("int64");
    expect(Array.from(y.data as BigInt64Array)).toEqual([0n, 1n, 2n]);
  });

  it("names the member whose array is refused", () => {
    const objects = encodeNpy({ dtype: "uint8", shape: [1], data: new Uint8Array(1) });
    // Turn 'descr': '|u1' into '|O' (keeping the length) to fake an object array inside a valid archive.
    const header = Buffer.from(objects);
    header.write("'|O' ", header.indexOf("'|u1'"), "latin1");
    const archive = zipSync({ "ok.npy": encodeNpy({ dtype: "int32", shape: [1], data: new Int32Array(1) }), "bad.npy": header });
    expect(() => parseNpz(archive)).toThrow("member 'bad.npy' of the .npz archive: dtype '|O' is a pickled object array");
  });

  it("refuses members that are not .npy files", () => {
    const archive = zipSync({ "notes.txt": Buffer.from("hello") });
    expect(() => parseNpz(archive)).toThrow("member 'notes.txt' of the .npz archive is not a .npy file");
  });

  it("refuses bytes that are not a zip archive", () => {
    expect(() => parseNpz(Buffer.from("definitely not a zip file"))).toThrow(DatasetFormatError);
  });
});

describe("encodeNpz", () => {
  const arrays = {
    a: { dtype: "float64" as const, shape: [2], data: Float64Array.from([0.5, -1]) },
    "b/nested": { dtype: "bool" as const, shape: [1, 3], data: Uint8Array.from([1, 0, 1]) },
  };

  it.each([false, true])("round-trips named arrays (compress: %s)", (compress) => {
    const back = parseNpz(encodeNpz(arrays, { compress }));
    expect(Object.keys(back).sort()).toEqual(["a", "b/nested"]);
    expect(back.a).toEqual(arrays.a);
    expect(back["b/nested"]).toEqual(arrays["b/nested"]);
  });

  it("is deterministic: the same arrays give the same bytes", () => {
    expect(encodeNpz(arrays)).toEqual(encodeNpz(arrays));
  });
});

describe("readNpzFile and writeNpzFile", () => {
  const dirPromise = fs.mkdtemp(path.join(os.tmpdir(), "goat-npz-"));
  afterAll(async () => fs.rm(await dirPromise, { recursive: true, force: true }));

  it("round-trip through a file, and name the file in errors", async () => {
    const dir = await dirPromise;
    const file = path.join(dir, "inputs.npz");
    await writeNpzFile(file, { x: { dtype: "int32", shape: [2], data: Int32Array.from([5, 6]) } });
    expect(Array.from<number | bigint>((await readNpzFile(file)).x.data)).toEqual([5, 6]);

    const broken = path.join(dir, "broken.npz");
    await fs.writeFile(broken, "nope");
    await expect(readNpzFile(broken)).rejects.toThrow(`${broken}: not a valid .npz (zip) archive`);
  });
});
