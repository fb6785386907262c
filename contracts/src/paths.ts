import path from "node:path";

/**
 * Where a task's datasets live (on the web app's disk and on every worker host's copy):
 *
 * - `${DATA_DIR}/${slug}/versions/${version}/`: one folder per dataset version, named by the
 *   version (the sha256 of its test inputs and labels). Written once by an import, never changed;
 *   removed by the sweep when no evaluation uses it any more (lib/datasets/dataset-versions.ts).
 * - `${DATA_DIR}/${slug}/train-${sha256}.npz`: the public training file, named by its own hash.
 * - legacy (installs from before versions): `inputs.npy`/`labels.npy` right in `${DATA_DIR}/${slug}/`;
 *   read as the task's current version after its hash is checked, moved into `versions/` by the next import.
 */
export function taskDatasetDir(dataDir: string, slug: string): string {
  if (!/^[a-z0-9][a-z0-9-_]*$/i.test(slug)) throw new Error(`invalid task slug: ${slug}`);
  return path.join(dataDir, slug);
}

/** A dataset version as stored in `tasks.dataset_version`: 64 lower-case hex digits. */
export function isDatasetVersion(version: string): boolean {
  return /^[0-9a-f]{64}$/.test(version);
}

/** The folders of every version of a task's dataset. */
export function datasetVersionsDir(dataDir: string, slug: string): string {
  return path.join(taskDatasetDir(dataDir, slug), "versions");
}

/** The immutable folder of one dataset version. */
export function datasetVersionDir(dataDir: string, slug: string, version: string): string {
  if (!isDatasetVersion(version)) throw new Error(`invalid dataset version: ${version.slice(0, 80)}`);
  return path.join(datasetVersionsDir(dataDir, slug), version);
}
