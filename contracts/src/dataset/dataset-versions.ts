import fs from "node:fs/promises";
import path from "node:path";
import { datasetVersionDir, taskDatasetDir } from "../paths";
import { DATASET_FILES } from "./task-dataset";

/**
 * Finding a dataset version on this host's copy of DATA_DIR (layout: contracts/src/paths.ts).
 * Used by the worker (and the web app's import, to adopt a legacy folder). Whoever reads the files
 * still checks their hash (readVerifiedDataset): a folder found here is not trusted yet.
 */

/** The version is not on this host: not imported yet, not copied to this GPU host, or removed. */
export class DatasetMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetMissingError";
  }
}

async function isDirectory(dir: string): Promise<boolean> {
  return fs.stat(dir).then((s) => s.isDirectory(), () => false);
}

/** Whether the task's folder still holds the flat files of an install from before versions. */
export async function hasLegacyDataset(dataDir: string, slug: string): Promise<boolean> {
  const root = taskDatasetDir(dataDir, slug);
  for (const name of [DATASET_FILES.inputs, DATASET_FILES.inputsNpz]) {
    if (await fs.stat(path.join(root, name)).then((s) => s.isFile(), () => false)) return true;
  }
  return false;
}

/**
 * The folder holding `version` of the task's dataset: `versions/<version>/`, or, on an install from
 * before versions, the task's flat folder (its hash tells whether it is that version).
 */
export async function locateDatasetVersion(dataDir: string, slug: string, version: string): Promise<string> {
  const dir = datasetVersionDir(dataDir, slug, version);
  if (await isDirectory(dir)) return dir;
  if (await hasLegacyDataset(dataDir, slug)) return taskDatasetDir(dataDir, slug);
  throw new DatasetMissingError(`version ${version.slice(0, 12)} of the "${slug}" dataset is not on this host`);
}
