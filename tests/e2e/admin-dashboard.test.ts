import { openAsBlob, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { writeNpyFile } from "@goat/contracts/dataset/npy";
import { datasetVersionsDir } from "@goat/contracts/paths";
import { launchBrowser, screenshot, type Browser } from "./support/browser";
import { startPlatform, until, type Platform } from "./support/platform";

// The organiser's dashboard in a real browser against the built app, Postgres, Redis and two real
// workers: the counts and charts move while submissions are evaluated, without a reload; a task is
// created from the browser with a dataset and a reference model, and the validation result shows.

let platform: Platform;
let browser: Browser;

beforeAll(async () => {
  platform = await startPlatform({ workers: 2, extraEnv: { HEARTBEAT_INTERVAL_MS: "1000" } });
  browser = await launchBrowser({ viewport: { width: 1400, height: 1000 } });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

async function uploadBaseline() {
  const form = new FormData();
  form.append("file", await openAsBlob(platform.credentials.baselineModel), "baseline.onnx");
  const response = await fetch(`${platform.baseUrl}/submit/task2`, { method: "POST", body: form, headers: { authorization: `Bearer ${platform.credentials.participant.token}` } });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: number }).id;
}

it("an organiser watches the dashboard change live while submissions are evaluated, then creates a validated task", async () => {
  const page = await browser.newPage();
  await page.goto(`${platform.baseUrl}/signin?next=%2Fadmin`);
  await page.fill("#email", platform.credentials.admin.email);
  await page.fill("#password", platform.credentials.admin.password);
  await page.click("button[type=submit]");
  await page.waitForURL(`${platform.baseUrl}/admin`);
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();

  // Both workers appear with their heartbeats (CPU figures: this machine has no GPU).
  await until("two online workers on the dashboard", async () => (await page.locator("[data-testid^=worker-] >> text=online").count()) === 2, 30_000);
  await until("the seed's baseline to be scored", async () => Number(await page.getByTestId("queue-scored").textContent()) >= 1, 60_000);
  const scoredBefore = Number(await page.getByTestId("queue-scored").textContent());
  const throughputBefore = await page.locator("figure", { hasText: "Evaluations per minute" }).innerHTML();
  const memoryChart = page.locator("figure", { hasText: "Host memory used" });
  const utilisationChart = page.locator("figure", { hasText: "CPU use per worker" });

  const ids = [await uploadBaseline(), await uploadBaseline(), await uploadBaseline()];
  // The page is not reloaded: the numbers and charts change through its polling.
  await until("the scored count to rise by three", async () => Number(await page.getByTestId("queue-scored").textContent()) === scoredBefore + 3, 90_000);
  await until("the throughput chart to redraw", async () => (await page.locator("figure", { hasText: "Evaluations per minute" }).innerHTML()) !== throughputBefore, 10_000);
  await until("a line per worker in the utilisation chart", async () => (await utilisationChart.locator(".recharts-line").count()) === 2, 15_000);
  await until("a line per worker in the memory chart", async () => (await memoryChart.locator(".recharts-line").count()) === 2, 15_000);
  for (const id of ids) await page.getByTestId(`submission-${id}`).getByText("SCORED").waitFor();
  expect(await page.getByTestId("queue-waiting").textContent()).toBe("0");
  await screenshot(page, "admin-dashboard");

  // A control from the dashboard, recorded in the audit log shown on it.
  await page.getByRole("button", { name: "Pause queue" }).click();
  await page.getByTestId("queue-state").getByText("paused").waitFor();
  await page.getByTestId("audit-log").getByText("queue.pause").waitFor();
  await page.getByRole("button", { name: "Resume queue" }).click();
  await page.getByTestId("queue-state").getByText("running").waitFor();

  // A new task with the same signature as task2, from the browser.
  await page.goto(`${platform.baseUrl}/admin/tasks/new`);
  await page.fill("#task-slug", "digits-check");
  await page.fill("#task-title", "Digits, checked");
  await page.click("button:has-text('Create task')");
  await page.waitForURL(/\/admin\/tasks\/digits-check/);
  await page.getByTestId("dataset-status").getByText("none yet").waitFor();

  // A broken dataset (labels for 5 rows, inputs for 2,000) is refused before it replaces anything.
  // The seed's dataset, in its version's folder (contracts/src/paths.ts).
  const versions = datasetVersionsDir(String(platform.env.DATA_DIR), "task2");
  const [seededVersion] = readdirSync(versions);
  const task2Dir = path.join(versions, seededVersion);
  const badLabels = path.join(platform.workDir, "bad-labels.npy");
  await writeNpyFile(badLabels, { dtype: "int64", shape: [5], data: BigInt64Array.from([1n, 2n, 3n, 4n, 5n]) });
  await page.setInputFiles("input[name=inputs]", path.join(task2Dir, "inputs.npy"));
  await page.setInputFiles("input[name=labels]", badLabels);
  await page.click("button:has-text('Upload and validate')");
  await page.getByText(/Dataset refused/).waitFor();

  // The real dataset and the seed's baseline as the reference model.
  await page.setInputFiles("input[name=inputs]", path.join(task2Dir, "inputs.npy"));
  await page.setInputFiles("input[name=labels]", path.join(task2Dir, "labels.npy"));
  await page.setInputFiles("input[name=reference]", platform.credentials.baselineModel);
  await page.click("button:has-text('Upload and validate')");
  await page.getByText(/Dataset imported: 2000 test rows/).waitFor();
  await page.getByTestId("reference-status").getByText("SCORED").waitFor({ timeout: 60_000 });
  const status = await page.getByTestId("reference-status").textContent();
  const accuracy = Number(/accuracy ([0-9.]+) public/.exec(status ?? "")?.[1]);
  expect(accuracy).toBeGreaterThan(0.8);
  await screenshot(page, "admin-task-validated");

  // The reference model is never on the leaderboard.
  const board = await (await fetch(`${platform.baseUrl}/api/tasks/digits-check/leaderboard`)).json();
  expect(board.entries).toEqual([]);

  // Each worker shows the memory a model could have on it; a task that allows more than a worker
  // has room for is flagged on the dashboard (its models near the limit would fail there).
  await page.goto(`${platform.baseUrl}/admin/tasks/new`);
  await page.fill("#task-slug", "huge-memory");
  await page.fill("#task-title", "Huge memory");
  // The form shows the workers' room beside the limit, and warns as soon as the limit typed is larger.
  await page.getByTestId("worker-memory-room").filter({ hasText: /^Room for a model on the live workers now: [\d,]+ MB/ }).waitFor();
  expect(await page.getByTestId("memory-limit-warning").count()).toBe(0); // the default 2,048 MB fits this machine
  await page.fill("#task-evalMemoryMb", "65536");
  await page.getByTestId("memory-limit-warning").filter({ hasText: /^No live worker has room for 65,536 MB for a model: the least is [\d,]+ MB on \S+ \(its share of its host's memory, which 2 workers draw on\)\. / }).waitFor();
  await screenshot(page, "admin-task-memory-warning");
  await page.click("button:has-text('Create task')");
  await page.waitForURL(/\/admin\/tasks\/huge-memory/);
  // The task's own page warns too, for the limit it was saved with.
  await page.getByTestId("memory-limit-warning").filter({ hasText: "No live worker has room for 65,536 MB" }).waitFor();
  await page.goto(`${platform.baseUrl}/admin`);
  const shortfalls = page.getByTestId("memory-shortfalls");
  await shortfalls.getByText(/huge-memory allows 65,536 MB; \S+ has room for [\d,]+ MB/).first().waitFor();
  expect(await shortfalls.getByText(/^digits-check /).count()).toBe(0); // its 2,048 MB fit this machine
  // This platform's two workers run without memory limits of their own on one host: each is shown
  // its share of the host's available memory (its kernel's boot id names the host they share).
  const room = await page.locator("[data-testid^=room-of-]").first().textContent();
  expect(room).toMatch(/room for a model: [\d,]+ MB \(its share: 2 workers draw on this host's memory\)/);
  expect(Number(/room for a model: ([\d,]+) MB/.exec(room ?? "")?.[1].replace(/,/g, ""))).toBeGreaterThan(2048);
  await screenshot(page, "admin-memory-shortfalls");
}, 300_000);
