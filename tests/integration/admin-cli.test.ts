import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { writeNpyFile } from "@goat/contracts/dataset/npy";
import { hashApiToken } from "@/lib/auth/api-token";
import { db } from "@/lib/db";
import { int64Labels, randomRows, uniqueName } from "./support/fixtures";

// The organisers' command line (`npm run admin -- ...`), run as a real process against the test database.

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../..");

// Each command starts npm, tsx and the Prisma client: seconds apiece on a loaded 2-core machine, and
// the first test runs several in a row.
const CLI_TEST_TIMEOUT_MS = 240_000;

async function admin(...args: string[]) {
  const { stdout } = await run("npm", ["run", "--silent", "admin", "--", ...args], { cwd: ROOT, env: process.env });
  return JSON.parse(stdout);
}

it("creates a user, a team with that member, a token, a task, and imports its dataset", async () => {
  const email = `${uniqueName("cli")}@test.local`;
  const user = await admin("user", "create", "--email", email, "--name", "Cli User", "--password", "cli-password-1");
  expect(user).toMatchObject({ email, name: "Cli User", role: "PARTICIPANT" });

  const teamName = uniqueName("cli-team");
  const team = await admin("team", "create", "--name", teamName, "--member", email);
  expect(team.name).toBe(teamName);
  expect(await db.teamMember.findUnique({ where: { userId: user.id }, select: { teamId: true } })).toEqual({ teamId: team.id });

  const token = await admin("token", "create", "--email", email, "--name", "laptop", "--expires-days", "30");
  expect(token.token).toMatch(/^goat_[A-Za-z0-9_-]{43}$/);
  const stored = await db.apiToken.findUniqueOrThrow({ where: { tokenHash: hashApiToken(token.token) } });
  expect(stored).toMatchObject({ userId: user.id, name: "laptop" });
  expect(stored.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 29 * 24 * 3600 * 1000);

  const dir = path.join(process.env.GOAT_TEST_ROOT!, uniqueName("cli-files"));
  await fs.mkdir(dir, { recursive: true });
  const slug = uniqueName("cli-task");
  await fs.writeFile(
    path.join(dir, "task.json"),
    JSON.stringify({
      slug,
      title: "CLI task",
      kind: "CLASSIFICATION",
      inputSpec: [{ name: "input", dtype: "float32", shape: [-1, 4] }],
      outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 3] }],
      rankMetric: "accuracy",
    }),
  );
  const task = await admin("task", "create", "--file", path.join(dir, "task.json"));
  expect(task.slug).toBe(slug);
  const created = await db.task.findUniqueOrThrow({ where: { slug } });
  expect(created).toMatchObject({ metrics: ["accuracy", "macro_f1", "top_k"], direction: "MAXIMIZE", datasetVersion: null });

  await writeNpyFile(path.join(dir, "inputs.npy"), randomRows(12, 4, 1));
  await writeNpyFile(path.join(dir, "labels.npy"), int64Labels([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]));
  const imported = await admin("task", "import-dataset", "--task", slug, "--inputs", path.join(dir, "inputs.npy"), "--labels", path.join(dir, "labels.npy"));
  expect(imported.rows).toBe(12);
  expect((await db.task.findUniqueOrThrow({ where: { slug } })).datasetVersion).toBe(imported.version);
  // An immutable folder named by the version (contracts/src/paths.ts).
  expect(await fs.readdir(path.join(process.env.DATA_DIR!, slug))).toEqual(["versions"]);
  expect(await fs.readdir(path.join(process.env.DATA_DIR!, slug, "versions"))).toEqual([imported.version]);
  expect((await fs.readdir(path.join(process.env.DATA_DIR!, slug, "versions", imported.version))).sort()).toEqual(["inputs.npy", "labels.npy"]);
}, CLI_TEST_TIMEOUT_MS);

it("refuses a dataset that does not fit the task, and keeps the live one", async () => {
  const dir = path.join(process.env.GOAT_TEST_ROOT!, uniqueName("cli-bad"));
  await fs.mkdir(dir, { recursive: true });
  const live = await db.task.findFirstOrThrow({ where: { title: "CLI task" } });
  await writeNpyFile(path.join(dir, "inputs.npy"), randomRows(5, 7, 1)); // 7 columns; the task takes 4
  await writeNpyFile(path.join(dir, "labels.npy"), int64Labels([0, 1, 2, 0, 1]));
  const failure = await run("npm", ["run", "--silent", "admin", "--", "task", "import-dataset", "--task", live.slug, "--inputs", path.join(dir, "inputs.npy"), "--labels", path.join(dir, "labels.npy")], { cwd: ROOT, env: process.env }).then(
    () => null,
    (error: { code: number; stderr: string }) => error,
  );
  expect(failure?.code).toBe(1);
  expect(failure?.stderr).toContain("input 'input' has shape [5, 7] but the task declares [N, 4]");
  expect((await db.task.findUniqueOrThrow({ where: { id: live.id } })).datasetVersion).toBe(live.datasetVersion);
  expect(await fs.readdir(path.join(process.env.DATA_DIR!, live.slug))).toEqual(["versions"]);
  expect(await fs.readdir(path.join(process.env.DATA_DIR!, live.slug, "versions"))).toEqual([live.datasetVersion]);
}, CLI_TEST_TIMEOUT_MS);
