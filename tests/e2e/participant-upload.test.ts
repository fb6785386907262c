import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildMlp, mlpParamCount } from "../../tools/onnx/build-model";
import { launchBrowser, screenshot, signIn, type Browser } from "./support/browser";
import { ROOT, startPlatform, until, type Platform } from "./support/platform";

// What participant-web.test.ts leaves out, in a real browser (Debian's chromium) against the built
// app, Postgres, Redis and a real worker: a multi-MB model dropped on the task page's drop zone
// with the upload throttled, so that its progress bar is seen moving while the page stays
// responsive, then scored live; the private leaderboard once the organiser reveals it (public rank
// beside private rank); the countdown on the task list for a task that closes within 48 h.

const execFileAsync = promisify(execFile);

let platform: Platform;
const browsers: Browser[] = [];
const run = randomBytes(3).toString("hex");
const rivalTeam = `Rivals ${run}`;
const rival = { name: "Rival", email: `rival-${run}@example.org`, password: "rival-password-1" };
const closingTask = { slug: `closing-${run}`, title: `Closing soon ${run}` };
const MODEL_NAME = "wide-mlp.onnx";
/** 784 -> 2048 -> 784 -> 10: about 9.6 MB of float32 weights; task2 takes models up to 50 MB. */
const BIG_MODEL_SIZES = [784, 2048, 784, 10];
const bigModel = Buffer.from(buildMlp({ sizes: BIG_MODEL_SIZES, seed: 11 }));
/** 2 MB/s: a ~5 s upload, long enough to watch the progress bar move. */
const UPLOAD_BYTES_PER_SECOND = 2 * 1024 * 1024;

/** The organisers' command line (`npm run admin -- ...`) against this platform's database. */
async function adminCli(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await execFileAsync("npm", ["run", "--silent", "admin", "--", ...args], { cwd: ROOT, env: platform.env });
  return JSON.parse(stdout) as Record<string, unknown>;
}

async function statusOf(id: number, token: string) {
  const response = await fetch(`${platform.baseUrl}/submit/task2/status/${id}`, { headers: { authorization: `Bearer ${token}` } });
  return (await response.json()) as { status: string; result: { score: number } | null };
}

/** Team name -> { rank, score } as the leaderboard page shows them. */
async function boardRows(page: Page) {
  const rows = new Map<string, { cells: string[]; rank: string; publicRank: string | null; score: string }>();
  for (const row of await page.getByTestId("leaderboard-row").all()) {
    const cells = (await row.locator("td").allTextContents()).map((text) => text.trim());
    const publicRank = (await row.getByTestId("public-rank").count()) ? (await row.getByTestId("public-rank").textContent())!.trim() : null;
    rows.set((await row.getAttribute("data-team"))!, { cells, rank: (await row.getByTestId("rank").textContent())!.trim(), publicRank, score: (await row.getByTestId("score").textContent())!.trim() });
  }
  return rows;
}

beforeAll(async () => {
  platform = await startPlatform();
  const { participant } = platform.credentials;
  await until("the seed's baseline to be scored", async () => (await statusOf(1, participant.token)).status === "SCORED");

  // A second team (through the admin CLI) with a weak model, so that the boards rank two teams.
  await adminCli("user", "create", "--email", rival.email, "--name", rival.name, "--password", rival.password);
  await adminCli("team", "create", "--name", rivalTeam, "--member", rival.email);
  const { token } = (await adminCli("token", "create", "--email", rival.email, "--name", "e2e")) as { token: string };
  const form = new FormData();
  form.append("file", new Blob([Buffer.from(buildMlp({ sizes: [784, 16, 10], seed: 3 }))]), "weak.onnx");
  const response = await fetch(`${platform.baseUrl}/submit/task2`, { method: "POST", body: form, headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: number };
  await until("the rival team's model to be scored", async () => (await statusOf(id, token)).status === "SCORED");

  // A task that closes in 30 hours (within the 48 h in which the task list counts down).
  const taskFile = path.join(platform.workDir, "closing-task.json");
  await fs.writeFile(
    taskFile,
    JSON.stringify({
      ...closingTask,
      kind: "CLASSIFICATION",
      inputSpec: [{ name: "input", dtype: "float32", shape: [-1, 784] }],
      outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
      rankMetric: "accuracy",
      closesAt: new Date(Date.now() + 30 * 3600_000).toISOString(),
    }),
  );
  expect((await adminCli("task", "create", "--file", taskFile)).slug).toBe(closingTask.slug);
}, 600_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await platform?.stop();
});

let participantBrowser: Browser;

it("a participant drops a multi-MB model on the task page, watches the upload's progress with the page responsive, and sees it scored live", async () => {
  participantBrowser = await launchBrowser();
  browsers.push(participantBrowser);
  const page = await participantBrowser.newPage();
  await signIn(page, platform.baseUrl, platform.credentials.participant, "/tasks/task2");
  const uploadForm = page.getByTestId("upload-form");
  await uploadForm.waitFor();
  expect(bigModel.length).toBeGreaterThan(9 * 1024 * 1024);

  // No worker: the submission waits in the queue until the page has shown it there.
  await platform.stopWorkers();

  // Drag and drop: a DataTransfer holding the model as a File, dropped on the drop zone.
  const dropZone = uploadForm.locator("div", { hasText: "Drop your" }).first();
  const dataTransfer = await page.evaluateHandle(
    async ({ base64, name }) => {
      // Decoded here, not fetched from a data: URL: the page's Content-Security-Policy allows no data: connections.
      const blob = new Blob([Uint8Array.from(atob(base64), (char) => char.charCodeAt(0))], { type: "application/octet-stream" });
      const transfer = new DataTransfer();
      transfer.items.add(new File([blob], name, { type: "application/octet-stream" }));
      return transfer;
    },
    { base64: bigModel.toString("base64"), name: MODEL_NAME },
  );
  await dropZone.dispatchEvent("dragenter", { dataTransfer });
  await dropZone.dispatchEvent("dragover", { dataTransfer });
  await expect.poll(() => dropZone.getAttribute("class")).toContain("border-indigo-500"); // highlighted while dragged over
  await dropZone.dispatchEvent("drop", { dataTransfer });
  await expect.poll(() => dropZone.getAttribute("class")).not.toContain("border-indigo-500");
  const selected = uploadForm.locator("p", { hasText: "Selected:" });
  expect(await selected.textContent()).toBe(`Selected: ${MODEL_NAME} (${(bigModel.length / 1024 ** 2).toFixed(1)} MB)`);

  // Every progress value the page renders, recorded in the page as it happens.
  await page.evaluate(() => {
    const seen: { value: number; width: string }[] = [];
    (window as unknown as { progressSeen: typeof seen }).progressSeen = seen;
    const record = () => {
      const bar = document.querySelector("[role=progressbar]");
      if (!bar) return;
      const value = Number(bar.getAttribute("aria-valuenow"));
      if (seen.at(-1)?.value !== value) seen.push({ value, width: (bar.firstElementChild as HTMLElement).style.width });
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow", "style"] });
  });

  // The upload, throttled.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: UPLOAD_BYTES_PER_SECOND });
  const uploadStarted = Date.now();
  await page.getByRole("button", { name: "Submit model" }).click();
  const progressbar = page.getByRole("progressbar", { name: "Upload progress" });
  await progressbar.waitFor();
  await page.waitForFunction(() => {
    const value = Number(document.querySelector("[role=progressbar]")?.getAttribute("aria-valuenow"));
    return value > 0 && value < 100;
  });

  // Mid-upload the page answers at once and takes clicks; the form is locked.
  const evaluateStarted = performance.now();
  expect(await page.evaluate(() => 1 + 1)).toBe(2);
  expect(performance.now() - evaluateStarted).toBeLessThan(500);
  const clickStarted = performance.now();
  await page.getByTestId("task-description").click();
  expect(performance.now() - clickStarted).toBeLessThan(1_000);
  expect(await page.getByRole("button", { name: "Uploading…" }).isDisabled()).toBe(true);
  expect(await page.getByTestId("model-file").isDisabled()).toBe(true);
  expect(Number(await progressbar.getAttribute("aria-valuenow"))).toBeLessThan(100); // still uploading
  expect(await uploadForm.getByText(/^Uploading… \d+%$/).count()).toBe(1);

  // The intake's answer: accepted, first in the queue (no worker runs).
  const accepted = (await page.getByTestId("upload-accepted").textContent({ timeout: 60_000 }))!;
  const uploadSeconds = (Date.now() - uploadStarted) / 1000;
  expect(accepted).toMatch(/^Accepted: submission #\d+, position 1 in the queue when it arrived\. \d+ submission\(s\) left today\./);
  const id = Number(/#(\d+)/.exec(accepted)![1]);
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await cdp.detach();
  // The throttle held: ~9.6 MB at 2 MB/s cannot take much under 4 s.
  expect(uploadSeconds).toBeGreaterThan((bigModel.length / UPLOAD_BYTES_PER_SECOND) * 0.8);
  expect(await progressbar.count()).toBe(0);
  expect(await selected.count()).toBe(0);

  // The bar moved forward through intermediate values to 100%, its width following its value.
  const seen = await page.evaluate(() => (window as unknown as { progressSeen: { value: number; width: string }[] }).progressSeen);
  const values = seen.map((each) => each.value);
  expect(values.filter((value) => value > 0 && value < 100).length).toBeGreaterThanOrEqual(3);
  expect(values).toEqual([...values].sort((a, b) => a - b));
  expect(values.at(-1)).toBe(100);
  for (const each of seen) expect(each.width).toBe(`${each.value}%`);

  // Followed to My submissions (a client-side navigation, no reload): queued, then scored live.
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  await page.getByRole("link", { name: "Follow it on My submissions" }).click();
  await page.waitForURL(`${platform.baseUrl}/tasks/task2/submissions`);
  const row = page.getByTestId(`submission-${id}`);
  await row.waitFor();
  expect(await row.getAttribute("data-status")).toBe("QUEUED");
  expect(await row.getByTestId("queue-position").textContent()).toContain("position 1");
  expect(await row.textContent()).toContain(`${MODEL_NAME}, ${(bigModel.length / 1024 ** 2).toFixed(1)} MB`);
  await platform.startWorker();
  await page.waitForSelector(`[data-testid=submission-${id}][data-status=SCORED]`, { timeout: 90_000 });
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  expect(await row.getByTestId("submission-score").textContent()).toMatch(/accuracy \d\.\d{4}/);
  expect(await row.textContent()).toContain(`parameters ${mlpParamCount(BIG_MODEL_SIZES).toLocaleString("en")}`);
}, 180_000);

it("the private leaderboard, once the organiser reveals it, shows each team's public rank beside its private rank", async () => {
  const page = await participantBrowser.newPage();

  // Hidden: ?board=private still shows the public board, with no way to switch.
  await page.goto(`${platform.baseUrl}/tasks/task2/leaderboard?board=private`);
  await page.getByRole("heading", { name: "Leaderboard", exact: true }).waitFor();
  expect(await page.getByRole("link", { name: "Private", exact: true }).count()).toBe(0);
  expect(await page.getByRole("columnheader", { name: "Public rank" }).count()).toBe(0);
  const publicBoard = await boardRows(page);
  expect([...publicBoard.keys()].sort()).toEqual(["Demo Team", rivalTeam].sort());
  expect(publicBoard.get("Demo Team")!.rank).toBe("1");
  expect(publicBoard.get(rivalTeam)!.rank).toBe("2");

  // The organiser reveals it with the button on the admin task page.
  const adminBrowser = await launchBrowser();
  browsers.push(adminBrowser);
  const adminPage = await adminBrowser.newPage();
  await signIn(adminPage, platform.baseUrl, platform.credentials.admin, "/admin/tasks/task2");
  await adminPage.getByRole("button", { name: "Reveal private leaderboard" }).click();
  await adminPage.getByRole("status").getByText('The private leaderboard of "task2" is revealed.').waitFor();
  await adminBrowser.close();

  // The participant switches boards with the tabs.
  await page.goto(`${platform.baseUrl}/tasks/task2/leaderboard`);
  await page.getByRole("link", { name: "Private", exact: true }).click();
  await page.waitForURL(`${platform.baseUrl}/tasks/task2/leaderboard?board=private`);
  await page.getByRole("heading", { name: "Private leaderboard" }).waitFor();
  const headers = (await page.getByTestId("leaderboard-table").locator("thead th").allTextContents()).map((text) => text.trim());
  expect(headers.slice(0, 5)).toEqual(["Private rank", "Public rank", "Team", "accuracy", "Public score"]);
  const privateBoard = await boardRows(page);
  expect([...privateBoard.keys()].sort()).toEqual([...publicBoard.keys()].sort());
  for (const [team, entry] of privateBoard) {
    expect(entry.cells[0]).toBe(entry.rank);
    expect(entry.rank).toMatch(/^[12]$/);
    expect(entry.publicRank).toBe(publicBoard.get(team)!.rank); // public rank beside the private one
    expect(entry.cells[1]).toMatch(new RegExp(`^${entry.publicRank}`)); // then the move from it
    expect(entry.cells[4]).toBe(publicBoard.get(team)!.score);
  }
  await screenshot(page, "private-leaderboard");
  await page.close();
}, 60_000);

it("the task list counts down to the deadline of a task closing within 48 hours", async () => {
  const page = await participantBrowser.newPage();
  await page.goto(`${platform.baseUrl}/tasks`);
  const closing = page.getByTestId("task-list").locator("li", { hasText: closingTask.title });
  const countdown = closing.getByTestId("countdown");
  await countdown.waitFor();
  const first = (await countdown.textContent())!;
  expect(first).toMatch(/^1d 0[56]:\d\d:\d\d$/); // 30 hours minus the test's time so far
  expect(await closing.textContent()).toContain("Closes");
  // It ticks.
  await expect.poll(() => countdown.textContent(), { timeout: 5_000 }).not.toBe(first);
  // task2 has no deadline: no countdown.
  const task2 = page.getByTestId("task-list").locator("li", { hasText: "Handwritten digits" });
  expect(await task2.textContent()).toContain("Open, no deadline");
  expect(await task2.getByTestId("countdown").count()).toBe(0);
  await page.close();
}, 60_000);
