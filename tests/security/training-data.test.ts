import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";

// Attack: download a task's training data before the task opens, for a head start over every
// other team. The download route must refuse (403 TASK_NOT_OPEN) until opensAt, then serve it.
const { db } = await import("@/lib/db");
const { env } = await import("@/lib/env");
const { GET: trainingDataRoute } = await import("@/app/api/tasks/[task]/training-data/route");
const { int64Labels, randomRows, taskWithDataset } = await import("../integration/support/fixtures");

const download = (slug: string) => trainingDataRoute(new Request(`http://localhost/api/tasks/${slug}/training-data`), { params: Promise.resolve({ task: slug }) });

describe("training data before the task opens", () => {
  it("is refused with 403 TASK_NOT_OPEN until opensAt, and downloadable from then on", async () => {
    const task = await taskWithDataset({ inputs: randomRows(6, 4, 3), labels: int64Labels([0, 1, 2, 0, 1, 2]) });
    await fs.writeFile(path.join(env().DATA_DIR, task.slug, "train.npz"), "PK-training-rows");
    const opensAt = new Date(Date.now() + 3_600_000);
    await db.task.update({ where: { id: task.id }, data: { trainingDataFile: "train.npz", opensAt } });

    const early = await download(task.slug);
    expect(early.status).toBe(403);
    const body = await early.json();
    expect(body).toEqual({ error: { code: "TASK_NOT_OPEN", message: expect.stringContaining(opensAt.toISOString()), opensAt: opensAt.toISOString() } });
    expect(JSON.stringify(body)).not.toContain("PK-training-rows");

    await db.task.update({ where: { id: task.id }, data: { opensAt: new Date(Date.now() - 1000) } });
    const open = await download(task.slug);
    expect(open.status).toBe(200);
    expect(await open.text()).toBe("PK-training-rows");
  });
});
