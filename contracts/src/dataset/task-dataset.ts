import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { describeShape, FREE_DIM, fixedRowWidth, type TensorDtype, type TensorSpec } from "../tensor-spec";
import { DatasetFormatError, parseNpy, rowCount, rowWidth, type NdArray } from "./npy";
import { DatasetTooLargeError, parseNpz } from "./npz";

/**
 * The on-disk layout of a task's hidden test set, in the task's dataset directory:
 *
 * - `inputs.npy`: the one model input, for single-input tasks; or
 * - `inputs.npz`: one array per model input, named as the task names its inputs;
 * - `labels.npy`: the ground truth, one row per input row;
 * - `train.npz` (optional): public training data that participants may download; not read here.
 *
 * Rows are along the first axis of every array.
 */
export const DATASET_FILES = { inputs: "inputs.npy", inputsNpz: "inputs.npz", labels: "labels.npy" } as const;

const INTEGER_DTYPES: readonly TensorDtype[] = ["int64", "int32", "uint8"];
const FLOAT_DTYPES: readonly TensorDtype[] = ["float32", "float64"];

export interface DatasetTask {
  kind: "CLASSIFICATION" | "REGRESSION";
  inputSpec: TensorSpec[];
  outputSpec: TensorSpec[];
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** Which inputs file the directory holds; exactly one of the two must be there. */
async function locateInputsFile(dir: string): Promise<typeof DATASET_FILES.inputs | typeof DATASET_FILES.inputsNpz> {
  const [npy, npz] = await Promise.all([
    exists(path.join(dir, DATASET_FILES.inputs)),
    exists(path.join(dir, DATASET_FILES.inputsNpz)),
  ]);
  if (npy && npz) {
    throw new DatasetFormatError(
      `${dir} holds both ${DATASET_FILES.inputs} and ${DATASET_FILES.inputsNpz}; keep only one`,
    );
  }
  if (!npy && !npz) {
    throw new DatasetFormatError(`${dir} holds neither ${DATASET_FILES.inputs} nor ${DATASET_FILES.inputsNpz}`);
  }
  return npy ? DATASET_FILES.inputs : DATASET_FILES.inputsNpz;
}

async function readDatasetFile(dir: string, name: string): Promise<Uint8Array> {
  const file = path.join(dir, name);
  if (!(await exists(file))) throw new DatasetFormatError(`${dir} has no ${name}`);
  return fs.readFile(file);
}

/** Prefixes format errors with the file they come from, so an organiser knows which one to fix. */
function inFile<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof DatasetTooLargeError) throw err; // a refusal of its own (413), not a format error
    if (err instanceof DatasetFormatError) throw new DatasetFormatError(`${name}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Checks an array against the model input it feeds: same dtype, same rank, same fixed dims after the batch. */
function checkAgainstSpec(arr: NdArray, spec: TensorSpec): void {
  if (arr.dtype !== spec.dtype) {
    throw new DatasetFormatError(`input '${spec.name}' is ${arr.dtype} but the task declares ${spec.dtype}`);
  }
  const fits =
    arr.shape.length === spec.shape.length &&
    spec.shape.every((d, i) => i === 0 || d === FREE_DIM || d === arr.shape[i]);
  if (!fits) {
    throw new DatasetFormatError(
      `input '${spec.name}' has shape ${describeShape(arr.shape)} but the task declares ${describeShape(spec.shape)}`,
    );
  }
}

/** Bounds on what a dataset file may inflate to (npz.ts). */
export interface DatasetLimits {
  maxInflatedBytes?: number;
}

function inputsFromBytes(
  fileName: string,
  bytes: Uint8Array,
  inputSpecs: readonly TensorSpec[],
  limits: DatasetLimits = {},
): Record<string, NdArray> {
  return inFile(fileName, () => {
    let arrays: Record<string, NdArray>;
    if (fileName === DATASET_FILES.inputs) {
      if (inputSpecs.length !== 1) {
        throw new DatasetFormatError(
          `the task has ${inputSpecs.length} model inputs; give one array per input in ${DATASET_FILES.inputsNpz}`,
        );
      }
      arrays = { [inputSpecs[0].name]: parseNpy(bytes) };
    } else {
      arrays = parseNpz(bytes, limits);
      const declared = new Set(inputSpecs.map((s) => s.name));
      const missing = inputSpecs.filter((s) => !(s.name in arrays)).map((s) => s.name);
      const extra = Object.keys(arrays).filter((name) => !declared.has(name));
      if (missing.length > 0 || extra.length > 0) {
        throw new DatasetFormatError(
          `the archive must hold exactly the task's inputs [${[...declared].join(", ")}]` +
            (missing.length > 0 ? `; missing: ${missing.join(", ")}` : "") +
            (extra.length > 0 ? `; not model inputs: ${extra.join(", ")}` : ""),
        );
      }
    }
    for (const spec of inputSpecs) checkAgainstSpec(arrays[spec.name], spec);
    return arrays;
  });
}

/**
 * The test inputs and labels of one dataset version, read once, checked against the version
 * (the sha256 the import recorded) before any of it is used, so a file changed or swapped after
 * the import is never scored: inputs and labels come from the same read of the same version.
 */
export async function readVerifiedDataset(
  dir: string,
  expectedVersion: string,
  inputSpecs: readonly TensorSpec[],
): Promise<{ inputs: Record<string, NdArray>; labels: NdArray; rows: number }> {
  const inputsFile = await locateInputsFile(dir);
  const inputsBytes = await readDatasetFile(dir, inputsFile);
  const labelsBytes = await readDatasetFile(dir, DATASET_FILES.labels);
  // The bytes hashed are the bytes parsed: nothing can change between the check and the use.
  const actual = datasetVersion([[inputsFile, inputsBytes], [DATASET_FILES.labels, labelsBytes]]);
  if (actual !== expectedVersion) {
    throw new DatasetIntegrityError(`${dir} holds version ${actual.slice(0, 12)}, not ${expectedVersion.slice(0, 12)}: its files changed after the import`);
  }
  const inputs = inputsFromBytes(inputsFile, inputsBytes, inputSpecs);
  const labels = inFile(DATASET_FILES.labels, () => parseNpy(labelsBytes));
  const rows = labels.shape[0] ?? 0;
  for (const [name, arr] of Object.entries(inputs)) {
    if (rowCount(arr) !== rows) throw new DatasetFormatError(`input '${name}' has ${rowCount(arr)} rows but ${DATASET_FILES.labels} has ${rows}`);
  }
  return { inputs, labels, rows };
}

/** The version of the test inputs and labels a folder holds now (the same hash as `validateDataset`'s). */
export async function datasetFolderVersion(dir: string): Promise<string> {
  const inputsFile = await locateInputsFile(dir);
  const inputsBytes = await readDatasetFile(dir, inputsFile);
  const labelsBytes = await readDatasetFile(dir, DATASET_FILES.labels);
  return datasetVersion([[inputsFile, inputsBytes], [DATASET_FILES.labels, labelsBytes]]);
}

/** A dataset folder whose files are not the version they are named for (changed, truncated, swapped). */
export class DatasetIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetIntegrityError";
  }
}

/** Loads the test inputs, keyed by the task's input names, each checked against its spec. */
export async function loadDatasetInputs(dir: string, inputSpecs: TensorSpec[]): Promise<Record<string, NdArray>> {
  const fileName = await locateInputsFile(dir);
  return inputsFromBytes(fileName, await readDatasetFile(dir, fileName), inputSpecs);
}

/** Loads the ground-truth labels. */
export async function loadDatasetLabels(dir: string): Promise<NdArray> {
  const bytes = await readDatasetFile(dir, DATASET_FILES.labels);
  return inFile(DATASET_FILES.labels, () => parseNpy(bytes));
}

/** The classification output's class count (its last dimension); the first output is the scores. */
function classCount(outputSpec: readonly TensorSpec[]): number {
  const shape = outputSpec[0]?.shape ?? [];
  const classes = shape[shape.length - 1];
  if (shape.length < 2 || classes === undefined || classes === FREE_DIM) {
    throw new DatasetFormatError(
      `a classification task's first output must have shape [N, C] with a fixed class count C, got ${describeShape(shape)}`,
    );
  }
  return classes;
}

/** Elements per row of the regression output; every dimension after the batch must be fixed. */
function regressionRowWidth(outputSpec: readonly TensorSpec[]): number {
  const shape = outputSpec[0]?.shape ?? [];
  const width = shape.length === 0 ? null : fixedRowWidth({ shape });
  if (width === null) {
    throw new DatasetFormatError(
      `a regression task's first output must fix every dimension after the first, got ${describeShape(shape)}`,
    );
  }
  return width;
}

function checkClassificationLabels(labels: NdArray, classes: number): void {
  if (!INTEGER_DTYPES.includes(labels.dtype)) {
    throw new DatasetFormatError(
      `classification labels must be integers (${INTEGER_DTYPES.join(", ")}), got ${labels.dtype}`,
    );
  }
  if (labels.shape.length !== 1) {
    throw new DatasetFormatError(`classification labels must be 1-d [N], got ${describeShape(labels.shape)}`);
  }
  for (let i = 0; i < labels.data.length; i++) {
    const label = Number(labels.data[i]);
    if (label < 0 || label >= classes) {
      throw new DatasetFormatError(`label ${label} at row ${i} is outside [0, ${classes}), the model's class range`);
    }
  }
}

function checkRegressionLabels(labels: NdArray, width: number): void {
  if (!FLOAT_DTYPES.includes(labels.dtype)) {
    throw new DatasetFormatError(`regression labels must be float32 or float64, got ${labels.dtype}`);
  }
  if (labels.shape.length === 0 || rowWidth(labels) !== width) {
    throw new DatasetFormatError(
      `regression labels have shape ${describeShape(labels.shape)}, ${labels.shape.length === 0 ? "no rows" : `${rowWidth(labels)} values a row`}, ` +
        `but the model outputs ${width} values a row`,
    );
  }
  // A NaN or infinite target would turn every error metric into NaN or Infinity.
  const bad = (labels.data as Float32Array | Float64Array).findIndex((v) => !Number.isFinite(v));
  if (bad !== -1) throw new DatasetFormatError(`label value at flat index ${bad} is not finite`);
}

/**
 * Checks a task's dataset directory against the task: the inputs fit the model's inputs,
 * inputs and labels have the same number of rows (at least one), and the labels fit the kind.
 * `version` is a SHA-256 over the inputs and labels files, so results can name the data they came from.
 */
export async function validateDataset(dir: string, task: DatasetTask, limits: DatasetLimits = {}): Promise<{ rows: number; version: string }> {
  const inputsFile = await locateInputsFile(dir);
  const inputsBytes = await readDatasetFile(dir, inputsFile);
  const labelsBytes = await readDatasetFile(dir, DATASET_FILES.labels);

  const inputs = inputsFromBytes(inputsFile, inputsBytes, task.inputSpec, limits);
  const labels = inFile(DATASET_FILES.labels, () => parseNpy(labelsBytes));

  if (labels.shape.length === 0) throw new DatasetFormatError(`${DATASET_FILES.labels}: labels must have a row axis`);
  const rows = rowCount(labels);
  if (rows === 0) throw new DatasetFormatError(`${DATASET_FILES.labels} has no rows`);
  for (const [name, arr] of Object.entries(inputs)) {
    if (rowCount(arr) !== rows) {
      throw new DatasetFormatError(`input '${name}' has ${rowCount(arr)} rows but ${DATASET_FILES.labels} has ${rows}`);
    }
  }

  if (task.kind === "CLASSIFICATION") {
    const classes = classCount(task.outputSpec);
    inFile(DATASET_FILES.labels, () => checkClassificationLabels(labels, classes));
  } else {
    const width = regressionRowWidth(task.outputSpec);
    inFile(DATASET_FILES.labels, () => checkRegressionLabels(labels, width));
  }

  return { rows, version: datasetVersion([[inputsFile, inputsBytes], [DATASET_FILES.labels, labelsBytes]]) };
}

/**
 * SHA-256 over each file's name, byte length and bytes, in the order given. The name and length
 * frame each file, so moving bytes from one file to the other changes the version.
 */
function datasetVersion(files: [name: string, bytes: Uint8Array][]): string {
  const hash = createHash("sha256");
  for (const [name, bytes] of files) {
    hash.update(`${name}\n${bytes.length}\n`);
    hash.update(bytes);
  }
  return hash.digest("hex");
}
