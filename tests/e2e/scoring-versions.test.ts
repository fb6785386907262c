import { openAsBlob } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { launchBrowser, screenshot, signIn, type Browser } from "./support/browser";
import { startPlatform, until, type Platform } from "./support/platform";

// A scoring change walked in a real browser against the built app, Postgres, Redis and a real
// worker (docs/ranking.md): the organiser previews a score formula on the task's current results,
// saving it asks for confirmation (what changes, how many re-scores), the leaderboard then says
// "re-scoring 0 of 2" and shows no stale rows, and once the worker has re-scored both submissions
// it ranks by the formula's values. Desktop and 390 px phone screenshots.

const FORMULA = "accuracy - 0.02 * log10(params)";

let platform: Platform;
let desktop: Browser;
let phone: Browser;

beforeAll(async () => {
  platform = await startPlatform({ workers: 1 }).catch((error: unknown) => {
    // Printed whole: vitest's source-mapping of a stack through the built app can hide the message.
    console.error(String(error instanceof Error ? error.message : error).slice(0, 4000));
    throw error;
  });
  desktop = await launchBrowser({ viewport: { width: 1280, height: 900 } });
  phone = await launchBrowser({ viewport: { width: 390, height: 844 } });
}, 600_000);

afterAll(async () => {
  await desktop?.close();
  await phone?.close();
  await platform?.stop();
});

async function status(id: number) {
  const response = await fetch(`${platform.baseUrl}/submit/task2/status/${id}`, { headers: { authorization: `Bearer ${platform.credentials.participant.token}` } });
  return (await response.json()) as { status: string; result: { score: number; metrics: { accuracy: number }; paramCount: number } | null };
}

async function board() {
  return (await (await fetch(`${platform.baseUrl}/api/tasks/task2/leaderboard`, { cache: "no-store" })).json()) as {
    formula: string | null;
    scoringVersion: number;
    rescoring: { done: number; total: number } | null;
    entries: { score: number; submissionId: number; scoringVersion: number }[];
  };
}

async function openEditor(page: Page) {
  await page.goto(`${platform.baseUrl}/admin/tasks/task2`);
  await page.locator("#task-scoreFormula").fill(FORMULA);
  await page.getByRole("button", { name: "Preview the formula on current results" }).click();
  await page.getByTestId("formula-preview-row").first().waitFor();
}

it("an organiser previews a score formula, confirms the re-score, and the board says re-scoring n of m until it ranks by the formula", async () => {
  // The seed's baseline (submission 1) and one more upload of it: two scored submissions.
  const form = new FormData();
  form.append("file", await openAsBlob(platform.credentials.baselineModel), "baseline.onnx");
  const uploaded = await fetch(`${platform.baseUrl}/submit/task2`, { method: "POST", body: form, headers: { authorization: `Bearer ${platform.credentials.participant.token}` } });
  expect(uploaded.status).toBe(202);
  const second = ((await uploaded.json()) as { id: number }).id;
  for (const id of [1, second]) await until(`submission ${id} scored`, async () => (await status(id)).status === "SCORED", 120_000);
  const before = await board();
  expect(before).toMatchObject({ formula: null, scoringVersion: 1, rescoring: null });
  const counted = await status(before.entries[0].submissionId);
  const expected = counted.result!.metrics.accuracy - 0.02 * Math.log10(counted.result!.paramCount);

  const page = await desktop.newPage();
  await signIn(page, platform.baseUrl, platform.credentials.admin, "/admin");
  await openEditor(page);
  // The preview: the team's counted result, its current score and rank, the formula's value and the new rank.
  const row = page.getByTestId("formula-preview-row").first();
  const cells = await row.locator("td").allTextContents();
  expect(cells[0]).toBe(platform.credentials.participant.team);
  expect(cells[1]).toBe(`#${before.entries[0].submissionId}`);
  expect(Number(cells[2])).toBeCloseTo(before.entries[0].score, 5);
  expect(Number(cells[4])).toBeCloseTo(expected, 5);
  expect(cells[5]).toBe("1");
  await screenshot(page, "scoring-formula-preview");

  // A formula that divides by zero on a current result is refused in the preview.
  await page.locator("#task-scoreFormula").fill("accuracy / (params - params)");
  await page.getByRole("button", { name: "Preview the formula on current results" }).click();
  await page.getByTestId("formula-preview-error").getByText(/division by zero/).waitFor();
  await page.locator("#task-scoreFormula").fill(FORMULA);

  // Saving asks first: what changes and how many submissions are re-scored.
  await page.getByRole("button", { name: "Save", exact: true }).click();
  const dialog = page.getByTestId("rescore-confirm");
  await dialog.getByText("Re-score 2 submissions?").waitFor();
  expect(await dialog.textContent()).toContain(`score formula: (none) → ${FORMULA}`);
  expect((await board()).scoringVersion).toBe(1);
  await screenshot(page, "scoring-confirm-dialog");

  // With no worker running, the re-score waits; the board hides the older results and says so.
  await platform.stopWorkers();
  await page.getByRole("button", { name: "Save and re-score 2 submissions" }).click();
  await page.getByTestId("task-form-status").getByText("2 submissions are being re-scored").waitFor();
  await page.goto(`${platform.baseUrl}/admin/tasks/task2`);
  await page.getByTestId("scoring-version").getByText("Scoring version 2 · re-scoring 0 of 2 submissions").waitFor();
  expect(await board()).toMatchObject({ formula: FORMULA, scoringVersion: 2, rescoring: { done: 0, total: 2 }, entries: [] });

  await page.goto(`${platform.baseUrl}/tasks/task2/leaderboard`);
  await page.getByTestId("rescoring-banner").getByText(/re-scoring 0 of 2 submissions/).waitFor();
  expect(await page.getByTestId("leaderboard-row").count()).toBe(0);
  await screenshot(page, "scoring-rescoring-board");
  const phonePage = await phone.newPage();
  await phonePage.goto(`${platform.baseUrl}/tasks/task2/leaderboard`);
  await phonePage.getByTestId("rescoring-banner").waitFor();
  await screenshot(phonePage, "scoring-rescoring-board-phone");

  // The worker re-scores both; the board ranks by the formula.
  await platform.startWorker();
  await until("the re-score to finish", async () => (await board()).rescoring === null, 120_000);
  const after = await board();
  expect(after.entries).toHaveLength(1);
  expect(after.entries[0].scoringVersion).toBe(2);
  expect(after.entries[0].score).toBeCloseTo(expected, 9);
  await page.reload();
  await page.getByText(FORMULA).first().waitFor();
  expect(await page.getByTestId("rescoring-banner").count()).toBe(0);
  expect(await page.getByTestId("leaderboard-row").getByTestId("score").textContent()).toBe(expected.toFixed(4));
  await screenshot(page, "scoring-formula-board");

  // The phone layout of the editor's preview and confirmation.
  await signIn(phonePage, platform.baseUrl, platform.credentials.admin, "/admin");
  await openEditor(phonePage);
  // The seed's task computes top_k with k = 3: k = 2 changes scores.
  await phonePage.locator("#task-topK").fill("2");
  await phonePage.getByRole("button", { name: "Save", exact: true }).click();
  await phonePage.getByTestId("rescore-confirm").waitFor();
  await screenshot(phonePage, "scoring-confirm-dialog-phone");
  await phonePage.getByRole("button", { name: "Cancel" }).click();
  expect(await phonePage.getByTestId("rescore-confirm").count()).toBe(0);
  expect((await board()).scoringVersion).toBe(2);
}, 600_000);
