import path from "node:path";

/** Where a task's hidden dataset lives on a worker's disk: `${DATA_DIR}/${slug}/`. */
export function taskDatasetDir(dataDir: string, slug: string): string {
  if (!/^[a-z0-9][a-z0-9-_]*$/i.test(slug)) throw new Error(`invalid task slug: ${slug}`);
  return path.join(dataDir, slug);
}
