import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startPlatform, until, type Platform } from "./support/platform";

// The seed README's three curl commands, verbatim but for the port, against the real built web app,
// a real worker and a database seeded by the real seed script (as `npm run demo` does).

let platform: Platform;

function curl(commandLine: string): { status: number; body: Record<string, unknown> } {
  // Run through a shell, exactly as a participant would paste it; -w appends the status code.
  const output = execFileSync("bash", ["-c", `${commandLine} -s -w '\\n%{http_code}'`], { cwd: platform.workDir, encoding: "utf8" });
  const lines = output.trimEnd().split("\n");
  const status = Number(lines.pop());
  return { status, body: JSON.parse(lines.join("\n")) };
}

beforeAll(async () => {
  platform = await startPlatform();
  await fs.copyFile(path.join(platform.workDir, "demo", "baseline.onnx"), path.join(platform.workDir, "model.onnx"));
}, 600_000);

afterAll(async () => {
  await platform?.stop();
});

it("the seed's curl commands work verbatim with the printed token", async () => {
  const TOKEN = platform.credentials.participant.token;
  const port = platform.port;
  const submitted = curl(`curl -X POST http://localhost:${port}/submit/task2 -H "Authorization: Bearer ${TOKEN}" -F "file=@model.onnx"`);
  expect(submitted.status).toBe(202);
  expect(submitted.body).toMatchObject({ id: 2, task: "task2", status: "QUEUED", statusUrl: "/submit/task2/status/2" });

  const queue = curl(`curl http://localhost:${port}/submit/queue/status -H "Authorization: Bearer ${TOKEN}"`);
  expect(queue.status).toBe(200);
  expect(queue.body).toHaveProperty("waiting");
  expect(queue.body).toHaveProperty("workersOnline");

  // Submission 1 is the seed's baseline, evaluated by the worker on the 2,000 hidden MNIST digits.
  const scored = await until("the baseline to be scored", () => {
    const answer = curl(`curl http://localhost:${port}/submit/task2/status/1 -H "Authorization: Bearer ${TOKEN}"`);
    return answer.body.status === "SCORED" ? answer : null;
  });
  expect(scored.status).toBe(200);
  const result = scored.body.result as { score: number; metrics: Record<string, number>; receipt: { rows: number } };
  expect(result.score).toBeGreaterThan(0.85);
  expect(Object.keys(result.metrics).sort()).toEqual(["accuracy", "macro_f1", "top_k"]);
  expect(result.receipt.rows).toBe(2000);

  const second = await until("the uploaded copy to be scored", () => {
    const answer = curl(`curl http://localhost:${port}/submit/task2/status/2 -H "Authorization: Bearer ${TOKEN}"`);
    return answer.body.status === "SCORED" ? answer : null;
  });
  expect((second.body.result as { score: number }).score).toBe(result.score);

  const board = await (await fetch(`${platform.baseUrl}/api/tasks/task2/leaderboard`)).json();
  expect(board.entries).toHaveLength(1);
  expect(board.entries[0]).toMatchObject({ rank: 1, team: "Demo Team", score: result.score, submissionId: 1, submissionCount: 2 });
}, 120_000);
