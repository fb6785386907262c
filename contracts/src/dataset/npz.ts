import fs from "node:fs/promises";
import { unzipSync, zipSync, type Zippable } from "fflate";
import { DatasetFormatError, encodeNpy, parseNpy, type NdArray } from "./npy";

/**
 * NumPy `.npz` archives: a zip with one `.npy` member per named array, as `np.savez` writes.
 * Archives are decompressed whole into memory; they come from organisers, not participants.
 */

const NPY_SUFFIX = ".npy";

/** Parses an `.npz` archive into its arrays, keyed by member name without `.npy`. */
export function parseNpz(bytes: Uint8Array): Record<string, NdArray> {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (err) {
    throw new DatasetFormatError(`not a valid .npz (zip) archive: ${(err as Error).message}`, { cause: err });
  }
  const arrays: Record<string, NdArray> = {};
  for (const [member, content] of Object.entries(members)) {
    if (member.endsWith("/")) continue; // a directory entry, no data
    if (!member.endsWith(NPY_SUFFIX)) {
      throw new DatasetFormatError(`member '${member}' of the .npz archive is not a .npy file`);
    }
    try {
      arrays[member.slice(0, -NPY_SUFFIX.length)] = parseNpy(content);
    } catch (err) {
      if (err instanceof DatasetFormatError) {
        throw new DatasetFormatError(`member '${member}' of the .npz archive: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
  return arrays;
}

/**
 * A fixed modification time for every member, so that the same arrays always encode to the
 * same bytes (fflate stamps the current time otherwise, and zip cannot store dates before 1980).
 * fflate reads the date's local-time fields, so a date built from local fields is the same everywhere.
 */
const FIXED_MTIME = new Date(2000, 0, 1);

/**
 * Encodes named arrays as an `.npz` archive. Uncompressed by default, like `np.savez`;
 * `compress: true` deflates the members, like `np.savez_compressed`.
 */
export function encodeNpz(arrays: Record<string, NdArray>, options: { compress?: boolean } = {}): Uint8Array {
  const members: Zippable = {};
  for (const [name, arr] of Object.entries(arrays)) {
    if (name === "") throw new DatasetFormatError("an .npz array needs a non-empty name");
    members[name + NPY_SUFFIX] = encodeNpy(arr);
  }
  return zipSync(members, { level: options.compress ? 6 : 0, mtime: FIXED_MTIME });
}

/** Reads an `.npz` file; format errors name the file. */
export async function readNpzFile(path: string): Promise<Record<string, NdArray>> {
  const bytes = await fs.readFile(path);
  try {
    return parseNpz(bytes);
  } catch (err) {
    if (err instanceof DatasetFormatError) throw new DatasetFormatError(`${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

export async function writeNpzFile(
  path: string,
  arrays: Record<string, NdArray>,
  options: { compress?: boolean } = {},
): Promise<void> {
  await fs.writeFile(path, encodeNpz(arrays, options));
}
