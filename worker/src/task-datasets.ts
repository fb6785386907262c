import { DatasetMissingError, locateDatasetVersion } from "@goat/contracts/dataset/dataset-versions";
import type { NdArray } from "@goat/contracts/dataset/npy";
import { publicPrivateSplit } from "@goat/contracts/dataset/split";
import { DatasetIntegrityError, readVerifiedDataset } from "@goat/contracts/dataset/task-dataset";
import type { TensorSpec } from "@goat/contracts/tensor-spec";
import { PlatformFault } from "./faults";

/**
 * The worker's side of a task's test set, keyed by dataset VERSION (the sha256 an import recorded,
 * which also names the version's immutable folder): the test inputs (handed to the sandbox, which
 * sends them to its children), the labels and the public/private split. Each version is read once,
 * inputs and labels in the same read, and its hash is checked before any of it is used; the check
 * is cached with the version. Labels never enter the process that runs participant code.
 *
 * A version that is missing on this host or whose files changed is a platform fault (retried,
 * no quota): a sync to an extra GPU host that has not happened yet, a disk fault, tampering.
 */
export interface TaskDataset {
  version: string;
  /** the folder the files were read from (versions/<version>/, or an older install's flat folder) */
  datasetDir: string;
  inputs: Record<string, NdArray>;
  labels: NdArray;
  rows: number;
}

export interface TaskLabels extends TaskDataset {
  publicRows: Uint32Array;
  privateRows: Uint32Array;
}

export interface TaskForDataset {
  slug: string;
  datasetVersion: string;
  inputSpecs: readonly TensorSpec[];
}

interface TaskForLabels extends TaskForDataset {
  publicFraction: number;
  splitSeed: number;
}

function datasetFault(slug: string, error: unknown): PlatformFault {
  const what = error instanceof DatasetIntegrityError ? "DATASET_MISMATCH" : "DATASET_UNAVAILABLE";
  const why = error instanceof DatasetMissingError || error instanceof DatasetIntegrityError ? error.message : `cannot be read: ${(error as Error).message}`;
  return new PlatformFault(what, `The test set of "${slug}": ${why}`, { cause: error });
}

export class TaskDatasetCache {
  /** the latest version read per task (a worker evaluates one submission at a time) */
  private readonly datasets = new Map<string, { key: string; value: Promise<TaskDataset> }>();
  private readonly splits = new Map<string, { key: string; value: Promise<TaskLabels> }>();

  constructor(private readonly dataDir: string) {}

  /** The verified inputs and labels of one version; rejects with a PlatformFault. */
  dataset(task: TaskForDataset): Promise<TaskDataset> {
    const key = `${task.datasetVersion}:${JSON.stringify(task.inputSpecs)}`;
    const cached = this.datasets.get(task.slug);
    if (cached?.key === key) return cached.value;
    const value = this.read(task);
    this.datasets.set(task.slug, { key, value });
    value.catch(() => {
      if (this.datasets.get(task.slug)?.value === value) this.datasets.delete(task.slug); // read again next time
    });
    return value;
  }

  /** The version's dataset with the task's public/private split. */
  labels(task: TaskForLabels): Promise<TaskLabels> {
    const key = `${task.datasetVersion}:${JSON.stringify(task.inputSpecs)}:${task.publicFraction}:${task.splitSeed}`;
    const cached = this.splits.get(task.slug);
    if (cached?.key === key) return cached.value;
    const value = this.dataset(task).then((dataset) => ({ ...dataset, ...publicPrivateSplit(dataset.rows, task.publicFraction, task.splitSeed) }));
    this.splits.set(task.slug, { key, value });
    value.catch(() => {
      if (this.splits.get(task.slug)?.value === value) this.splits.delete(task.slug);
    });
    return value;
  }

  private async read(task: TaskForDataset): Promise<TaskDataset> {
    try {
      const datasetDir = await locateDatasetVersion(this.dataDir, task.slug, task.datasetVersion);
      const { inputs, labels, rows } = await readVerifiedDataset(datasetDir, task.datasetVersion, task.inputSpecs);
      return { version: task.datasetVersion, datasetDir, inputs, labels, rows };
    } catch (error) {
      throw datasetFault(task.slug, error);
    }
  }
}
