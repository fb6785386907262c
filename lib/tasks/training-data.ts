import "server-only";
import fs from "node:fs";
import path from "node:path";
import { taskDatasetDir } from "@goat/contracts/paths";
import { db } from "../db";
import { env } from "../env";
import { ApiError } from "../errors";

/**
 * The public training file of a task, as a download. DATA_DIR/{slug}/ also holds the hidden test
 * inputs and LABELS (versions/, and the flat files of an older install), so nothing from the request
 * picks the file: only the name the organiser's import recorded (task.trainingDataFile, e.g.
 * `train-<sha256>.npz`), and only if it is a plain .npz name that is not one of the test files. Before the task opens nobody downloads it: an early download is a head start.
 */
const TEST_FILES = new Set(["inputs.npy", "inputs.npz", "labels.npy", "labels.npz"]);

export interface TrainingDataDownload {
  filePath: string;
  downloadName: string;
  sizeBytes: number;
}

export async function trainingDataForTask(slug: string): Promise<TrainingDataDownload> {
  const notFound = new ApiError(404, "NOT_FOUND", `Task "${slug}" has no downloadable training data.`);
  const task = await db.task.findUnique({ where: { slug }, select: { slug: true, trainingDataFile: true, opensAt: true } });
  if (!task) throw new ApiError(404, "TASK_NOT_FOUND", `There is no task "${slug}".`);
  if (task.opensAt && task.opensAt > new Date()) {
    throw new ApiError(403, "TASK_NOT_OPEN", `Task "${task.slug}" opens at ${task.opensAt.toISOString()}; its training data is available from then.`, {
      opensAt: task.opensAt.toISOString(),
    });
  }
  const file = task.trainingDataFile;
  if (!file || path.basename(file) !== file || !/^[\w.-]+\.npz$/.test(file) || TEST_FILES.has(file.toLowerCase())) throw notFound;
  const filePath = path.join(taskDatasetDir(env().DATA_DIR, task.slug), file);
  const stat = await fs.promises.stat(filePath).catch(() => null);
  if (!stat?.isFile()) throw notFound;
  const downloadName = `${task.slug}-${/^train-[0-9a-f]{64}\.npz$/.test(file) ? "train.npz" : file}`;
  return { filePath, downloadName, sizeBytes: stat.size };
}
