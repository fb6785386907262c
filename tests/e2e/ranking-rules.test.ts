import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import pg from "pg";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser, screenshot, signIn, type Browser } from "./support/browser";
import { startPlatform, until, type Platform } from "./support/platform";

// The ranking rules in a real browser (docs/ranking.md), desktop and phone, against the built app,
// Postgres, Redis and a real worker: a participant selects its final submissions on its
// submissions page; an organiser sets a public freeze in the task editor; a rival team's score made
// after the freeze point stays off the public board and its chart (its own page marks it "after the
// freeze"); the organiser reveals, and the private board shows which submission counted for each
// team and whether it was a selected or a default final. Screenshots:
// test-results/screenshots/{page}-{viewport}.png.

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
let platform: Platform;
const browsers: Browser[] = [];
const run = randomBytes(3).toString("hex");
const rival = { name: "Rival", email: `rival-${run}@example.com`, password: "rival-password-1", team: `Rivals ${run}` };
let secondSubmission: number;
let rivalSubmission: number;

async function open(viewport: { width: number; height: number }): Promise<Page> {
  const browser = await launchBrowser({ viewport });
  browsers.push(browser);
  return browser.newPage();
}

async function api(path: string, init: RequestInit = {}) {
  const response = await fetch(`${platform.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${platform.credentials.participant.token}`, ...init.headers } });
  return { status: response.status, body: await response.json() };
}

async function scored(id: number) {
  await until(`submission ${id} to be scored`, async () => (await api(`/submit/task2/status/${id}`)).body.status === "SCORED" || null, 120_000);
}

async function sql(query: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: platform.env.DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(query, values)).rows;
  } finally {
    await client.end();
  }
}

/** The text of every leaderboard row and of the chart's legend, as a visitor's browser shows them. */
async function boardText(page: Page): Promise<{ rows: string[]; chart: string }> {
  const rows = await page.getByTestId("leaderboard-row").allTextContents();
  // recharts draws once it has measured its container: wait for the legend.
  await page.getByTestId("best-score-chart").locator(".recharts-legend-item").first().waitFor();
  const chart = await page.getByTestId("best-score-chart").textContent();
  return { rows, chart: chart ?? "" };
}

beforeAll(async () => {
  platform = await startPlatform();
  await scored(1);
  // A second scored submission of the demo team, uploaded through the API as `goat submit` does.
  const form = new FormData();
  form.append("file", new Blob([await fs.readFile(platform.credentials.baselineModel)]), "second.onnx");
  const accepted = await fetch(`${platform.baseUrl}/submit/task2`, { method: "POST", headers: { authorization: `Bearer ${platform.credentials.participant.token}` }, body: form });
  expect(accepted.status).toBe(202);
  secondSubmission = ((await accepted.json()) as { id: number }).id;
  await scored(secondSubmission);
  // The demo team submitted earlier in the event: three and two hours ago, before the freeze point
  // the organiser sets below (half an hour ago).
  await sql("UPDATE submissions SET created_at = now() - interval '3 hours' WHERE id = 1");
  await sql("UPDATE submissions SET created_at = now() - interval '2 hours' WHERE id = $1", [secondSubmission]);
}, 600_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await platform?.stop();
});

it("a participant selects a final submission on its submissions page; the default finals are shown until then", async () => {
  const page = await open(DESKTOP);
  await signIn(page, platform.baseUrl, platform.credentials.participant, "/tasks/task2/submissions");
  const summary = page.getByTestId("finals-summary");
  expect(await summary.textContent()).toContain("0 of 2 selected");
  expect(await summary.textContent()).toContain(`by default (#1, #${secondSubmission})`);
  expect(await page.getByTestId("submission-1").getByTestId("default-final").textContent()).toBe("default final");

  // A click, not check(): the box is controlled and turns checked once the server has answered.
  await page.getByTestId(`submission-${secondSubmission}`).getByTestId("final-checkbox").click();
  await until("the selection to be saved", async () => ((await summary.textContent()) ?? "").includes("1 of 2 selected") || null, 10_000);
  expect(await summary.textContent()).toContain(`Counting: #${secondSubmission}`);
  expect(await page.getByTestId("default-final").count()).toBe(0);
  const finals = await api("/api/tasks/task2/finals");
  expect(finals.body).toMatchObject({ default: false, finals: [secondSubmission], limit: 2, open: true });
  await screenshot(page, "submissions-finals-desktop");

  const phone = await open(PHONE);
  await signIn(phone, platform.baseUrl, platform.credentials.participant, `/tasks/task2/submissions/${secondSubmission}`);
  expect(await phone.getByTestId("final-checkbox").isChecked()).toBe(true);
  expect(await phone.getByTestId("finals-summary").textContent()).toContain("1 of 2 selected");
  await screenshot(phone, "submission-detail-final-phone");
  await phone.goto(`${platform.baseUrl}/tasks/task2/submissions`);
  expect(await phone.getByTestId(`submission-${secondSubmission}`).getByTestId("final-checkbox").isChecked()).toBe(true);
  await screenshot(phone, "submissions-finals-phone");
});

it("an organiser sets a freeze; a rival's score made after it stays off the public board and its chart", async () => {
  const admin = await open(DESKTOP);
  await signIn(admin, platform.baseUrl, platform.credentials.admin, "/admin/tasks/task2");
  // Closes in 30 minutes, frozen for the last 60: frozen from now on.
  const closes = new Date(Date.now() + 31 * 60_000).toISOString().slice(0, 16);
  await admin.fill("#task-closesAt", closes);
  await admin.fill("#task-publicFreezeMinutes", "60");
  // The seed's team merge deadline (two weeks out) must not fall after the new close.
  await admin.fill("#task-teamMergeDeadline", "");
  await admin.getByRole("button", { name: "Save" }).click();
  await admin.getByText("Saved.").waitFor();
  expect((await sql("SELECT public_freeze_minutes, closes_at FROM tasks WHERE slug = 'task2'"))[0]).toMatchObject({ public_freeze_minutes: 60 });

  // A rival signs up, makes a team and uploads through the submissions page: after the freeze point.
  const rivalPage = await open(DESKTOP);
  await rivalPage.goto(`${platform.baseUrl}/signup`);
  await rivalPage.fill("#name", rival.name);
  await rivalPage.fill("#email", rival.email);
  await rivalPage.fill("#password", rival.password);
  await rivalPage.fill("#confirmPassword", rival.password);
  await rivalPage.click("button[type=submit]");
  await rivalPage.waitForURL(`${platform.baseUrl}/team`);
  await rivalPage.fill("#team-name", rival.team);
  await rivalPage.getByRole("button", { name: "Create team" }).click();
  await rivalPage.getByTestId("invite-code").waitFor();
  await rivalPage.goto(`${platform.baseUrl}/tasks/task2/submissions`);
  await rivalPage.getByTestId("model-file").setInputFiles(platform.credentials.baselineModel);
  await rivalPage.getByRole("button", { name: "Submit model" }).click();
  const accepted = await rivalPage.getByTestId("upload-accepted").textContent();
  rivalSubmission = Number(/#(\d+)/.exec(accepted!)![1]);
  await rivalPage.waitForSelector(`[data-testid=submission-${rivalSubmission}][data-status=SCORED]`, { timeout: 120_000 });
  expect(await rivalPage.getByTestId(`submission-${rivalSubmission}`).getByTestId("after-freeze").textContent()).toBe("after the freeze");
  expect(await rivalPage.getByTestId(`submission-${rivalSubmission}`).getByTestId("submission-score").textContent()).toMatch(/accuracy \d\.\d{4}/);
  await screenshot(rivalPage, "submissions-after-freeze-desktop");

  // A visitor (signed out) sees the frozen board: no rival on it, nor in the chart.
  for (const [viewport, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    const visitor = await open(size);
    await visitor.goto(`${platform.baseUrl}/tasks/task2/leaderboard`);
    expect(await visitor.getByTestId("freeze-note").textContent()).toMatch(/^Frozen at .* UTC: scores of submissions made after that appear once the private leaderboard is revealed\.$/);
    const { rows, chart } = await boardText(visitor);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(platform.credentials.participant.team);
    expect(rows.join(" ")).not.toContain(rival.team);
    expect(chart).toContain(platform.credentials.participant.team);
    expect(chart).not.toContain(rival.team);
    await screenshot(visitor, `leaderboard-frozen-${viewport}`);
  }
  const board = await (await fetch(`${platform.baseUrl}/api/tasks/task2/leaderboard`)).json();
  expect(board.entries.map((entry: { team: string }) => entry.team)).toEqual([platform.credentials.participant.team]);
});

it("the organiser reveals after the close: both teams on the public board (a tie shares rank 1), the private board shows the counted finals", async () => {
  // The close passes (moved to a second ago rather than waiting half an hour).
  await sql("UPDATE tasks SET closes_at = now() - interval '1 second' WHERE slug = 'task2'");
  const admin = await open(DESKTOP);
  await signIn(admin, platform.baseUrl, platform.credentials.admin, "/admin/tasks/task2");
  await admin.getByRole("button", { name: "Reveal private leaderboard" }).click();
  await admin.getByRole("button", { name: "Hide private leaderboard" }).waitFor();

  for (const [viewport, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    const visitor = await open(size);
    await visitor.goto(`${platform.baseUrl}/tasks/task2/leaderboard`);
    expect(await visitor.getByTestId("freeze-note").count()).toBe(0);
    const { rows, chart } = await boardText(visitor);
    expect(rows).toHaveLength(2);
    // The same model scores the same: the two teams share rank 1, the earlier submission first.
    expect(await visitor.getByTestId("leaderboard-row").getByTestId("rank").allTextContents()).toEqual(["1", "1"]);
    expect(rows[0]).toContain(platform.credentials.participant.team);
    expect(rows[1]).toContain(rival.team);
    expect(chart).toContain(rival.team);
    await screenshot(visitor, `leaderboard-revealed-${viewport}`);

    await visitor.goto(`${platform.baseUrl}/tasks/task2/leaderboard?board=private`);
    const counted = await visitor.getByTestId("leaderboard-row").evaluateAll((elements) =>
      elements.map((row) => [row.getAttribute("data-team"), row.querySelector("[data-testid=counted-submission]")?.textContent]),
    );
    expect(counted).toEqual([
      [platform.credentials.participant.team, `#${secondSubmission}(selected final)`],
      [rival.team, `#${rivalSubmission}(default final)`],
    ]);
    await screenshot(visitor, `leaderboard-private-${viewport}`);
  }

  // The selection closed with the task.
  const participant = await open(DESKTOP);
  await signIn(participant, platform.baseUrl, platform.credentials.participant, "/tasks/task2/submissions");
  expect(await participant.getByTestId("finals-summary").textContent()).toContain("The task has closed: the selection can no longer change.");
  expect(await participant.getByTestId(`submission-${secondSubmission}`).getByTestId("final-checkbox").isDisabled()).toBe(true);
  const refused = await api("/api/tasks/task2/finals", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ submissionIds: [1] }) });
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe("SELECTION_CLOSED");
});
