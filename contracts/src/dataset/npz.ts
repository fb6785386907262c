import fs from "node:fs/promises";
import { unzipSync, zipSync, type Zippable } from "fflate";
import { DatasetFormatError, encodeNpy, parseNpy, type NdArray } from "./npy";

/**
 * NumPy `.npz` archives: a zip with one `.npy` member per named array, as `np.savez` writes.
 * Archives are decompressed into memory, so their inflated size is bounded first: a zip bomb (a
 * few MB inflating to many GB) is refused before anything is inflated. fflate allocates each
 * member at the size its zip header declares and never grows it (a member that lies inflates
 * cut short, and its .npy then fails to parse), so bounding the declared sizes bounds memory.
 */

const NPY_SUFFIX = ".npy";

/** The most an archive may inflate to unless the caller says otherwise. */
export const NPZ_MAX_INFLATED_BYTES = 2 * 1024 ** 3;

/** The archive would inflate past the bound. */
export class DatasetTooLargeError extends DatasetFormatError {
  constructor(readonly limitBytes: number) {
    super(`the .npz archive inflates to more than ${Math.round(limitBytes / 1048576)} MB`);
    this.name = "DatasetTooLargeError";
  }
}

/** Parses an `.npz` archive into its arrays, keyed by member name without `.npy`. */
export function parseNpz(bytes: Uint8Array, opts: { maxInflatedBytes?: number } = {}): Record<string, NdArray> {
  const limit = opts.maxInflatedBytes ?? NPZ_MAX_INFLATED_BYTES;
  let members: Record<string, Uint8Array>;
  let declared = 0;
  try {
    members = unzipSync(bytes, {
      filter: (member) => {
        declared += member.originalSize;
        if (declared > limit) throw new DatasetTooLargeError(limit);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof DatasetTooLargeError) throw err;
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
