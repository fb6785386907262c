import { loadDatasetLabels } from "@goat/contracts/dataset/task-dataset";
import type { NdArray } from "@goat/contracts/dataset/npy";
import { publicPrivateSplit } from "@goat/contracts/dataset/split";
import { taskDatasetDir } from "@goat/contracts/paths";

/**
 * The parent worker's side of a task's test set: the labels and the public/private split,
 * loaded once per task (and dataset version) and kept. The sandboxed evaluation process reads
 * the inputs only; labels never enter the process that runs participant code.
 */
export interface TaskLabels {
  datasetDir: string;
  labels: NdArray;
  rows: number;
  publicRows: Uint32Array;
  privateRows: Uint32Array;
}

interface TaskForLabels {
  slug: string;
  datasetVersion: string | null;
  publicFraction: number;
  splitSeed: number;
}

export class TaskLabelCache {
  private readonly entries = new Map<string, { key: string; value: Promise<TaskLabels> }>();

  constructor(private readonly dataDir: string) {}

  get(task: TaskForLabels): Promise<TaskLabels> {
    const key = `${task.datasetVersion}:${task.publicFraction}:${task.splitSeed}`;
    const cached = this.entries.get(task.slug);
    if (cached && cached.key === key) return cached.value;
    const value = this.load(task);
    this.entries.set(task.slug, { key, value });
    value.catch(() => this.entries.delete(task.slug)); // a failed read is retried next time
    return value;
  }

  private async load(task: TaskForLabels): Promise<TaskLabels> {
    const datasetDir = taskDatasetDir(this.dataDir, task.slug);
    const labels = await loadDatasetLabels(datasetDir);
    const rows = labels.shape[0];
    const { publicRows, privateRows } = publicPrivateSplit(rows, task.publicFraction, task.splitSeed);
    return { datasetDir, labels, rows, publicRows, privateRows };
  }
}
