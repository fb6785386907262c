import "server-only";
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { hasLegacyDataset } from "@goat/contracts/dataset/dataset-versions";
import { DATASET_FILES, datasetFolderVersion } from "@goat/contracts/dataset/task-dataset";
import { datasetVersionDir, datasetVersionsDir, isDatasetVersion, taskDatasetDir } from "@goat/contracts/paths";
import { db } from "../db";
import { env } from "../env";

/**
 * Immutable dataset versions on disk (layout: contracts/src/paths.ts). An import writes a new
 * folder named by the version and never touches a folder in use; the sweep removes a version once
 * no evaluation uses it: it is not the task's current version, no RUNNING submission claimed it
 * (submissions.dataset_version), and the current one has been current for the grace period, so an
 * evaluation that claimed the old version a moment before the flip shows up RUNNING first.
 * The sweep runs after each import and with every reconciler pass (lib/queue/reconciler.ts).
 */

/** How long a superseded version stays at least, whatever the database says. */
export const DATASET_SWEEP_GRACE_MS = 5 * 60_000;
/** A staging folder this old was left by an import that died. */
const STALE_STAGING_MS = 60 * 60_000;
const STAGING_PREFIX = ".import-";

/** A fresh staging folder inside the task's folder (same filesystem: the final rename is atomic). */
export async function createStagingDir(dataDir: string, slug: string): Promise<string> {
  const root = taskDatasetDir(dataDir, slug);
  const staging = path.join(root, `${STAGING_PREFIX}${randomUUID()}`);
  await fs.mkdir(staging, { recursive: true });
  return staging;
}

/**
 * Makes the validated staging folder the folder of `version`. A rename onto an existing folder
 * fails, so a version already there (a re-import of the same files) is kept as it is, after its
 * hash is checked; one whose files were tampered with is replaced.
 */
export async function publishDatasetVersion(dataDir: string, slug: string, staging: string, version: string): Promise<string> {
  const target = datasetVersionDir(dataDir, slug, version);
  await fs.mkdir(datasetVersionsDir(dataDir, slug), { recursive: true });
  for (;;) {
    try {
      await fs.rename(staging, target);
      return target;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    }
    const intact = await datasetFolderVersion(target).then((actual) => actual === version, () => false);
    if (intact) {
      await fs.rm(staging, { recursive: true, force: true });
      return target;
    }
    const broken = path.join(taskDatasetDir(dataDir, slug), `${STAGING_PREFIX}broken-${randomUUID()}`);
    await fs.rename(target, broken);
    await fs.rm(broken, { recursive: true, force: true });
  }
}

/** Stores the public training file as `train-<sha256>.npz` beside the versions; returns its name. */
export async function storeTrainingFile(dataDir: string, slug: string, file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const name = `train-${hash.digest("hex")}.npz`;
  const root = taskDatasetDir(dataDir, slug);
  const target = path.join(root, name);
  if (await fs.stat(target).then((s) => s.isFile(), () => false)) return name;
  const staging = path.join(root, `${STAGING_PREFIX}${randomUUID()}.npz`);
  await fs.copyFile(file, staging);
  await fs.rename(staging, target);
  return name;
}

/** Marks the moment a version became current (the grace period counts from it). */
export async function markCurrent(dataDir: string, slug: string, version: string): Promise<void> {
  const now = new Date();
  await fs.utimes(datasetVersionDir(dataDir, slug, version), now, now).catch(() => undefined);
}

/**
 * An install from before versions keeps its files flat in the task's folder: copy them into
 * `versions/<current>/` (when their hash is the current version), so the next sweep can remove them.
 */
async function adoptLegacyDataset(dataDir: string, slug: string, current: string): Promise<boolean> {
  const root = taskDatasetDir(dataDir, slug);
  if (!(await hasLegacyDataset(dataDir, slug))) return false;
  if (await fs.stat(datasetVersionDir(dataDir, slug, current)).then(() => true, () => false)) return false;
  if ((await datasetFolderVersion(root).catch(() => null)) !== current) return false;
  const staging = await createStagingDir(dataDir, slug);
  try {
    for (const name of [DATASET_FILES.inputs, DATASET_FILES.inputsNpz, DATASET_FILES.labels]) {
      await fs.copyFile(path.join(root, name), path.join(staging, name)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
    }
    if ((await datasetFolderVersion(staging)) !== current) return false; // changed while copied
    await publishDatasetVersion(dataDir, slug, staging, current);
    await markCurrent(dataDir, slug, current);
    return true;
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

export interface SweepReport {
  /** "<slug>/<what>" for each version folder, legacy file set, training file or staging folder removed */
  removed: string[];
  /** "<slug>/<version>" of each legacy folder copied into versions/ */
  adopted: string[];
}

/** Removes, for every task (or one), what no evaluation and no download can need any more. */
export async function sweepDatasetVersions(options: { slug?: string; graceMs?: number; now?: Date } = {}): Promise<SweepReport> {
  const dataDir = env().DATA_DIR;
  const graceMs = options.graceMs ?? DATASET_SWEEP_GRACE_MS;
  const tasks = await db.task.findMany({
    where: options.slug ? { slug: options.slug } : {},
    select: { id: true, slug: true, datasetVersion: true, trainingDataFile: true },
  });
  const report: SweepReport = { removed: [], adopted: [] };
  for (const task of tasks) {
    const root = taskDatasetDir(dataDir, task.slug);
    const entries = await fs.readdir(root).catch(() => null);
    if (!entries || !task.datasetVersion) continue;
    const current = task.datasetVersion;
    if (await adoptLegacyDataset(dataDir, task.slug, current)) report.adopted.push(`${task.slug}/${current}`);

    const running = await db.submission.findMany({
      where: { taskId: task.id, status: "RUNNING", datasetVersion: { not: null } },
      distinct: ["datasetVersion"],
      select: { datasetVersion: true },
    });
    const inUse = new Set(running.map((r) => r.datasetVersion!));
    const now = options.now?.getTime() ?? Date.now();
    const currentSince = await fs.stat(datasetVersionDir(dataDir, task.slug, current)).then((s) => s.mtimeMs, () => now);
    const pastGrace = now - currentSince >= graceMs;

    const versions = await fs.readdir(datasetVersionsDir(dataDir, task.slug)).catch(() => [] as string[]);
    for (const version of versions) {
      if (!isDatasetVersion(version) || version === current || inUse.has(version) || !pastGrace) continue;
      await fs.rm(datasetVersionDir(dataDir, task.slug, version), { recursive: true, force: true });
      report.removed.push(`${task.slug}/versions/${version}`);
    }
    // The flat files of an install from before versions, once the current version has its folder and
    // no running evaluation reads a version that exists only there.
    const readsLegacy = [...inUse].some((version) => !versions.includes(version));
    if (pastGrace && !readsLegacy && versions.includes(current) && (await hasLegacyDataset(dataDir, task.slug))) {
      for (const name of [DATASET_FILES.inputs, DATASET_FILES.inputsNpz, DATASET_FILES.labels]) await fs.rm(path.join(root, name), { force: true });
      report.removed.push(`${task.slug}/legacy`);
    }
    for (const entry of entries) {
      const file = path.join(root, entry);
      // Training files no import names any more (a download in progress keeps its open file).
      if (/^train(-[0-9a-f]{64})?\.npz$/.test(entry) && entry !== task.trainingDataFile) {
        await fs.rm(file, { force: true });
        report.removed.push(`${task.slug}/${entry}`);
      } else if (entry.startsWith(STAGING_PREFIX)) {
        const stale = await fs.stat(file).then((s) => now - s.mtimeMs > STALE_STAGING_MS, () => false);
        if (stale) {
          await fs.rm(file, { recursive: true, force: true });
          report.removed.push(`${task.slug}/${entry}`);
        }
      }
    }
  }
  return report;
}
