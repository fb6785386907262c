import fs from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { buildMlp } from "@/tools/onnx/build-model";
import { buildOverflowingParamCountModel } from "@/tests/support/onnx/hostile-models";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset } from "../integration/support/fixtures";
import { upload } from "../integration/support/upload";
import { waitFor } from "../integration/support/wait";

/**
 * Issue 8, item 4: the upload was stored before its submission row existed, so a refusal inside
 * the transaction (the quota race, a parameter count overflowing its column: a 500) left the
 * file in storage forever and cost no quota: disk could be filled for free. Through the real
 * POST /submit/{task} route.
 */

let task: Awaited<ReturnType<typeof taskWithDataset>>;

async function storedFiles(): Promise<string[]> {
  return fs.readdir(path.join(process.env.STORAGE_DIR!, "models", task.slug)).catch(() => []);
}

async function spoolFiles(): Promise<string[]> {
  return (await fs.readdir(process.env.UPLOAD_TMP_DIR!).catch(() => [] as string[])).filter((f) => f.startsWith("upload-"));
}

beforeAll(async () => {
  task = await taskWithDataset({
    inputs: randomRows(8, 784, 1),
    labels: int64Labels([0, 1, 2, 3, 4, 5, 6, 7]),
    outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
    dailySubmissionLimit: 1,
  });
});

afterAll(async () => {
  await evaluationQueue().close();
});

describe("POST /submit/{task} stores a file only for a submission that exists", () => {
  it("answers 422 (not 500) for a parameter count past the column, and stores nothing", async () => {
    const team = await participantWithTeam();
    const response = await upload(task.slug, team.token, buildOverflowingParamCountModel());
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe("DECLARED_SIZE_TOO_LARGE");
    expect(await db.submission.count({ where: { teamId: team.team.id } })).toBe(0);
    expect(await storedFiles()).toEqual([]);
    expect(await spoolFiles()).toEqual([]);
  });

  it("leaves no file for the upload that loses the quota race inside the transaction", async () => {
    const team = await participantWithTeam();
    // Hold the team's lock (the one the intake's transaction takes) so both uploads get past
    // the early quota check and wait in the transaction; then let them race for the last slot.
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    let responses: Awaited<ReturnType<typeof upload>>[];
    try {
      await client.query("SELECT pg_advisory_lock($1::bigint)", [team.team.id]);
      const both = Promise.all([
        upload(task.slug, team.token, buildMlp({ sizes: [784, 10], seed: 21 })),
        upload(task.slug, team.token, buildMlp({ sizes: [784, 10], seed: 22 })),
      ]);
      await waitFor("both uploads waiting on the team's lock", async () => {
        const { rows } = await client.query(
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1",
          [team.team.id],
        );
        return rows[0].n === 2;
      });
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [team.team.id]);
      responses = await both;
    } finally {
      await client.end();
    }
    expect(responses.map((r) => r.status).sort()).toEqual([202, 429]);
    const accepted = responses.find((r) => r.status === 202)!;
    expect(responses.find((r) => r.status === 429)!.body.error.code).toBe("QUOTA_EXCEEDED");
    const rows = await db.submission.findMany({ where: { teamId: team.team.id }, select: { sha256: true } });
    expect(rows).toEqual([{ sha256: accepted.body.sha256 }]);
    expect(await storedFiles()).toEqual([`${accepted.body.sha256}.onnx`]);
    expect(await spoolFiles()).toEqual([]);
  });
});
