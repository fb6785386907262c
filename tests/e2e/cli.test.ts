import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNaNModel } from "@/tests/support/onnx/failing-models";
import { openApiValidator, type OpenApiDocument } from "../support/openapi-validator";
import { signatureIsValid, startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver";
import { launchBrowser } from "./support/browser";
import { ROOT, startPlatform, until, type Platform } from "./support/platform";

// The real `goat` binary (cli/bin/goat.js, as `npx goat` runs it) against the built web app with a
// real worker: exit codes, --json answers validated against the served OpenAPI document, and the
// team's webhook hitting a real receiver on 127.0.0.1 (allowed by WEBHOOK_ALLOW_PRIVATE here).

let platform: Platform;
let receiver: WebhookReceiver;
let validate: ReturnType<typeof openApiValidator>;
let configHome: string;
const WEBHOOK_SECRET = "whsec_e2e-secret";
const GOAT = path.join(ROOT, "node_modules", ".bin", "goat");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs goat without blocking this process (the webhook receiver lives here). */
function goat(args: string[], extraEnv: Record<string, string> = {}, command = GOAT): Promise<Run> {
  return new Promise((resolve, reject) => {
    const viaNpx = command !== GOAT;
    const environment = { PATH: process.env.PATH, NODE_ENV: "production", HOME: configHome, XDG_CONFIG_HOME: configHome, GOAT_URL: platform.baseUrl, GOAT_TOKEN: platform.credentials.participant.token, ...extraEnv } as NodeJS.ProcessEnv;
    // npx finds the workspace's bin from the repository root, as a participant's clone would.
    const child = spawn(command, viaNpx ? ["goat", ...args] : args, { cwd: viaNpx ? ROOT : platform.workDir, env: environment, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function json(run: Run) {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  platform = await startPlatform({ extraEnv: { WEBHOOK_ALLOW_PRIVATE: "true", WEBHOOK_BACKOFF_MS: "200" } });
  configHome = await fs.mkdtemp(path.join(os.tmpdir(), "goat-cli-config-"));
  await fs.copyFile(path.join(platform.workDir, "demo", "baseline.onnx"), path.join(platform.workDir, "model.onnx"));
  await fs.writeFile(path.join(platform.workDir, "nan.onnx"), buildNaNModel());
  await fs.writeFile(path.join(platform.workDir, "notes.onnx"), "this is not a model\n");
  // The team's webhook, as the team page saves it (a generic, signed one).
  const client = new pg.Client({ connectionString: platform.env.DATABASE_URL });
  await client.connect();
  await client.query(
    `INSERT INTO webhooks (scope, team_id, url, kind, secret, events, updated_at)
     SELECT 'TEAM', id, $1, 'GENERIC', $2, ARRAY['submission.scored', 'submission.failed'], now() FROM teams WHERE name = $3`,
    [`${receiver.url}/team`, WEBHOOK_SECRET, platform.credentials.participant.team],
  );
  await client.end();
  // The first delivery of a submission scored by the CLI gets a 500. Not the seed's baseline
  // (submission 1), which the worker may score just after this webhook is saved.
  receiver.failFirst("/team", 1, (body) => body.event === "submission.scored" && (body.data as { submissionId: number }).submissionId !== 1);
  const document = (await (await fetch(`${platform.baseUrl}/api/openapi.json`)).json()) as OpenApiDocument;
  validate = openApiValidator(document);
}, 600_000);

afterAll(async () => {
  await platform?.stop();
  await receiver?.close();
  if (configHome) await fs.rm(configHome, { recursive: true, force: true });
});

describe("goat", () => {
  it("runs as `npx goat` from the repository", async () => {
    const run = await goat(["--version"], {}, "npx");
    expect(run).toMatchObject({ code: 0, stdout: "0.1.0\n" });
  });

  it("login checks the token, stores it with mode 0600, and later commands use it without GOAT_URL/GOAT_TOKEN", async () => {
    const refused = await goat(["login", "--url", platform.baseUrl, "--token", "not-a-token"], { GOAT_URL: "", GOAT_TOKEN: "" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error: .+\n {2}Your token was refused/);

    const login = await goat(["login", "--url", platform.baseUrl, "--token", platform.credentials.participant.token], { GOAT_URL: "", GOAT_TOKEN: "" });
    expect(login.code, login.stderr).toBe(0);
    const file = path.join(configHome, "goat", "config.json");
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await fs.readFile(file, "utf8"))).toEqual({ url: platform.baseUrl, token: platform.credentials.participant.token });

    const tasks = await goat(["tasks", "--json"], { GOAT_URL: "", GOAT_TOKEN: "" });
    expect(tasks.code, tasks.stderr).toBe(0);
    validate("GET", "/api/tasks", 200, json(tasks));
    expect(json(tasks).tasks.map((task: { slug: string }) => task.slug)).toContain("task2");
    const table = await goat(["tasks"]);
    expect(table.stdout).toMatch(/^TASK\s+TITLE\s+PHASE/);
    expect(table.stdout).toMatch(/task2\s+.+\s+open\s/);
  });

  it("submit --name --wait follows a good model to SCORED and exits 0; the team's webhook gets it signed, after a retry", async () => {
    const run = await goat(["submit", "task2", "model.onnx", "--name", "bigger MLP", "--description", "two hidden layers", "--wait", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const final = json(run);
    validate("GET", "/submit/{task}/status/{id}", 200, final);
    expect(final).toMatchObject({ name: "bigger MLP", description: "two hidden layers" });
    expect(final).toMatchObject({ task: "task2", status: "SCORED", result: { metrics: { accuracy: expect.any(Number) } } });
    expect(final.result.score).toBeGreaterThan(0.85);
    expect(run.stderr).toMatch(new RegExp(`Submission ${final.id} accepted; waiting for its evaluation`));

    const hits = await until("the team webhook's retried delivery", () => {
      const found = receiver.received.filter((each) => each.path === "/team" && each.json.event === "submission.scored" && (each.json.data as { submissionId: number }).submissionId === final.id);
      return found.length >= 2 ? found : null;
    }, 30_000);
    expect(hits.map((each) => each.answered)).toEqual([500, 200]);
    for (const hit of hits) expect(signatureIsValid(WEBHOOK_SECRET, hit)).toBe(true);
    expect(hits[1].json.data).toMatchObject({ task: "task2", team: platform.credentials.participant.team, score: final.result.score });

    const status = await goat(["status", String(final.id), "--json"]);
    expect(status.code).toBe(0);
    validate("GET", "/api/submissions/{id}", 200, json(status));
    expect(json(status)).toEqual(final);
    const people = await goat(["status", String(final.id)]);
    expect(people.stdout).toMatch(new RegExp(`^Submission ${final.id}: scored 0\\.\\d{4} \\(.*accuracy 0\\.\\d{4}`));
  });

  it("submit --wait follows a model that fails at run time to FAILED and exits 1 with the reason; the webhook says so", async () => {
    const run = await goat(["submit", "task2", "nan.onnx", "--wait"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^Submission \d+: failed: .*NaN/);
    const id = Number(/^Submission (\d+)/.exec(run.stdout)![1]);
    const hit = await until("the failed submission's webhook", () =>
      receiver.received.find((each) => each.path === "/team" && each.answered === 200 && each.json.event === "submission.failed" && (each.json.data as { submissionId: number }).submissionId === id),
    );
    expect(signatureIsValid(WEBHOOK_SECRET, hit)).toBe(true);
    expect(hit.json.data).toMatchObject({ failureKind: "PARTICIPANT", message: expect.stringMatching(/NaN/) });
  });

  it("submit exits 2 with the API's message and a hint when intake refuses the file, and --json prints the error", async () => {
    const run = await goat(["submit", "task2", "notes.onnx", "--json"]);
    expect(run.code).toBe(2);
    const answer = json(run);
    expect(answer.error).toMatchObject({ status: 422, code: expect.stringMatching(/^(NOT_ONNX|TRUNCATED_MODEL)$/) });
    expect(run.stderr).toMatch(/^error: .*ONNX.*\n {2}\S/);
    const missing = await goat(["submit", "no-such-task", "model.onnx"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no task "no-such-task"[\s\S]*goat tasks/);
  });

  it("submissions and leaderboard print tables and JSON that matches the API description", async () => {
    const submissions = await goat(["submissions", "task2", "--json"]);
    expect(submissions.code).toBe(0);
    validate("GET", "/api/tasks/{task}/submissions", 200, json(submissions));
    expect(json(submissions).submissions.map((each: { status: string }) => each.status)).toEqual(expect.arrayContaining(["SCORED", "FAILED"]));
    const table = await goat(["submissions", "task2"]);
    expect(table.stdout).toMatch(/^ID\s+STATUS\s+ACCURACY\s+FILE/);
    expect(table.stdout).toMatch(/nan\.onnx/);

    const board = await goat(["leaderboard", "task2", "--json"]);
    expect(board.code).toBe(0);
    validate("GET", "/api/tasks/{task}/leaderboard", 200, json(board));
    expect(json(board).entries[0]).toMatchObject({ rank: 1, team: platform.credentials.participant.team });
    const boardTable = await goat(["leaderboard", "task2"]);
    expect(boardTable.stdout).toMatch(new RegExp(`^1\\s+${platform.credentials.participant.team}\\s+0\\.\\d{4}`, "m"));

    const hidden = await goat(["leaderboard", "task2", "--private"]);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toMatch(/private leaderboard of task2 is not revealed yet/);
  });

  it("select chooses the team's final submissions (POST /api/tasks/{task}/finals) and refuses one that is not scored", async () => {
    const list = json(await goat(["submissions", "task2", "--json"])) as { submissions: { id: number; status: string }[] };
    const scored = list.submissions.find((each) => each.status === "SCORED")!;
    const failed = list.submissions.find((each) => each.status === "FAILED")!;
    const run = await goat(["select", "task2", String(scored.id), "--json"]);
    expect(run.code).toBe(0);
    validate("POST", "/api/tasks/{task}/finals", 200, json(run));
    expect(json(run)).toMatchObject({ task: "task2", default: false, finals: [scored.id], limit: 2 });
    const text = await goat(["select", "task2", String(scored.id)]);
    expect(text.stdout).toMatch(new RegExp(`^Final submissions for task2: ${scored.id}\\.$`, "m"));
    const refused = await goat(["select", "task2", String(failed.id)]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(new RegExp(`Only your team's scored submissions of task "task2" can be finals; not: ${failed.id}\\.`));
  });

  it("serves the API description and its browsable page from the built app", async () => {
    const page = await fetch(`${platform.baseUrl}/api/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/api/docs/swagger-ui-bundle.js">');
    const bundle = await fetch(`${platform.baseUrl}/api/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(500_000);
    // Its scripts are files of this origin with no nonce: its own fixed policy lets a browser run them.
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self'(;|$)/);
    const browser = await launchBrowser();
    try {
      const tab = await browser.newPage();
      const violations: string[] = [];
      tab.on("console", (message) => void (/Content.Security.Policy/i.test(message.text()) && violations.push(message.text())));
      await tab.goto(`${platform.baseUrl}/api/docs`);
      await tab.locator(".opblock-summary-path", { hasText: "/submit/{task}/status/{id}" }).first().waitFor({ timeout: 30_000 });
      expect(violations).toEqual([]);
    } finally {
      await browser.close();
    }
    const health = await fetch(`${platform.baseUrl}/api/health`);
    validate("GET", "/api/health", 200, await health.json());
    const notFound = await fetch(`${platform.baseUrl}/submit/task2/status/999999`, { headers: { Authorization: `Bearer ${platform.credentials.participant.token}` } });
    validate("GET", "/submit/{task}/status/{id}", 404, await notFound.json());
  });
});
