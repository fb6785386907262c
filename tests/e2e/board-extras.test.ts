import { AxeBuilder } from "@axe-core/playwright";
import pg from "pg";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser, screenshot, signIn, type Browser } from "./support/browser";
import { startPlatform, until, type Platform } from "./support/platform";

// What Kaggle users expect of a leaderboard (issue 15 item 14), in a real browser against the built
// app, Postgres and Redis, on a desktop and a 390 px phone: the move since 00:00 UTC beside each
// rank, the organisers' reference row (unranked, where its score falls), the histogram of best
// public scores with the participant's range marked; then an organiser reveals the private board
// and the participant's open page learns it live (no reload), and the private board shows the
// public rank with the move and the shake-up line; a hide reaches the page the same way.
// Screenshots: test-results/screenshots/leaderboard-extras-*.png.

const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 900 },
  { name: "phone", width: 390, height: 844 },
] as const;

let platform: Platform;
let client: pg.Client;
const browsers: Browser[] = [];

async function open(viewport: { width: number; height: number }): Promise<Page> {
  const browser = await launchBrowser({ viewport });
  browsers.push(browser);
  return browser.newPage();
}

async function teamId(name: string): Promise<number> {
  const { rows } = await client.query<{ id: number }>(
    `INSERT INTO teams (name, invite_code, updated_at) VALUES ($1, $2, now()) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
    [name, `invite-${name.replace(/\W/g, "")}`],
  );
  return rows[0].id;
}

/** A scored submission of task2, stored as the worker stores it (RUNNING -> SCORED with its result). */
async function scored(team: string, publicScore: number, privateScore: number, options: { reference?: boolean; name?: string } = {}) {
  const id = await teamId(team);
  const submission = await client.query<{ id: number }>(
    `INSERT INTO submissions (task_id, team_id, user_id, file_name, name, sha256, size_bytes, storage_key, param_count, status, is_reference, updated_at)
     SELECT t.id, $1, u.id, 'm.onnx', $4, repeat('ab', 32), 1, $2, 1, 'RUNNING', $5, now() FROM tasks t, users u WHERE t.slug = 'task2' AND u.email = $3
     RETURNING id`,
    [id, `e2e-${team}-${publicScore}`, platform.credentials.participant.email, options.name ?? null, options.reference ?? false],
  );
  await client.query("BEGIN");
  await client.query(`UPDATE submissions SET status = 'SCORED', finished_at = now() WHERE id = $1`, [submission.rows[0].id]);
  await client.query(
    `INSERT INTO results (submission_id, public_metrics, private_metrics, public_score, private_score, latency_p50_ms, latency_p95_ms, model_bytes, param_count, receipt)
     VALUES ($1, '{}', '{}', $2, $3, 1, 1, 1, 1, '{}')`,
    [submission.rows[0].id, publicScore, privateScore],
  );
  await client.query("COMMIT");
  return id;
}

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .flatMap((violation) => violation.nodes.map((node) => `${violation.id}: ${node.target.join(" ")} (${violation.help})`));
}

/** The board's body rows in order: a team's name, or "reference". */
const rowOrder = (page: Page) =>
  page.locator("[data-testid=leaderboard-table] tbody:last-of-type tr").evaluateAll((rows) =>
    rows.map((row) => (row.getAttribute("data-testid") === "reference-row" ? "reference" : row.getAttribute("data-team"))),
  );
const movesOf = (page: Page, cell: "rank" | "public-rank") =>
  page.locator("[data-testid=leaderboard-row]").evaluateAll(
    (rows, testId) => rows.map((row) => [row.getAttribute("data-team"), row.querySelector(`[data-testid=${testId}-cell] [data-testid=rank-change]`)?.getAttribute("data-move") ?? null]),
    cell,
  );

/** Fits the screen, has no serious or critical axe violation; saved as a screenshot. */
async function checkPage(page: Page, name: string) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  expect.soft(scroll, `${name} lays out wider than the screen`).toBeLessThanOrEqual(width);
  expect.soft(await seriousViolations(page), name).toEqual([]);
  await screenshot(page, name);
}

let participantTeam: string;

beforeAll(async () => {
  // No worker: every score is stored as the worker stores it. The periodic pass is off, so the
  // day's start-of-day ranks are the ones this test stores before the first board read.
  platform = await startPlatform({ workers: 0, extraEnv: { DAY_START_INTERVAL_MS: "0" } });
  client = new pg.Client({ connectionString: platform.env.DATABASE_URL });
  await client.connect();
  participantTeam = platform.credentials.participant.team;
  const rising = await scored("Rising Star", 0.95, 0.7);
  const own = await scored(participantTeam, 0.9, 0.6);
  const steady = await scored("Steady", 0.8, 0.85);
  await scored("Newcomer", 0.6, 0.95);
  await scored("Organisers", 0.85, 0.75, { reference: true, name: "logistic baseline" });
  await client.query(`UPDATE tasks SET show_reference_on_boards = true WHERE slug = 'task2'`);
  // At 00:00 UTC today: Steady led, then the participant's team, then Rising Star; Newcomer had no score.
  await client.query(
    `INSERT INTO leaderboard_day_starts (task_id, day, ranks) SELECT id, (now() AT TIME ZONE 'UTC')::date, $1::jsonb FROM tasks WHERE slug = 'task2'
     ON CONFLICT (task_id, day) DO UPDATE SET ranks = EXCLUDED.ranks`,
    [JSON.stringify({ [steady]: 1, [own]: 2, [rising]: 3 })],
  );
}, 600_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await client?.end();
  await platform?.stop();
});

it("the public board shows moves since 00:00 UTC, the reference row and the score histogram; a reveal and a hide reach the open page live", async () => {
  const page = await open(VIEWPORTS[0]);
  await signIn(page, platform.baseUrl, platform.credentials.participant, "/tasks/task2/leaderboard");

  for (const viewport of VIEWPORTS) {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    await page.reload();
    await page.getByTestId("reference-row").waitFor();
    expect(await rowOrder(page)).toEqual(["Rising Star", participantTeam, "reference", "Steady", "Newcomer"]);
    expect(await page.locator("[data-testid=leaderboard-row] [data-testid=rank-cell]").allTextContents()).toEqual(["1▲2up 2 places since 00:00 UTC", "2–unchanged since 00:00 UTC", "3▼2down 2 places since 00:00 UTC", "4newnew since 00:00 UTC"]);
    expect(await movesOf(page, "rank")).toEqual([["Rising Star", "up"], [participantTeam, "same"], ["Steady", "down"], ["Newcomer", "new"]]);
    expect(await page.getByTestId("reference-row").textContent()).toContain("Reference: logistic baseline");
    expect(await page.getByTestId("reference-score").textContent()).toBe("0.8500");
    await page.getByTestId("score-histogram").locator(".recharts-bar-rectangle").first().waitFor();
    expect(await page.getByTestId("histogram-own").textContent()).toContain(`${participantTeam} is in 0.7750–0.9500.`);
    expect(await page.locator("[data-testid=score-histogram] table td").allTextContents()).toEqual(["0.6000–0.7750", "1", "0.7750–0.9500", "3"]);
    await checkPage(page, `leaderboard-extras-public-${viewport.name}`);
  }

  // The organiser reveals the private board while the participant's page stays open.
  await page.setViewportSize(VIEWPORTS[0]);
  await page.reload();
  await until("the live stream", async () => (await page.getByTestId("live-indicator").textContent())?.includes("Live"));
  await page.evaluate(() => ((window as unknown as { stillTheSamePage: boolean }).stillTheSamePage = true));
  const organiser = await open(VIEWPORTS[0]);
  await signIn(organiser, platform.baseUrl, platform.credentials.admin, "/admin/tasks/task2");
  await organiser.getByRole("button", { name: "Reveal private leaderboard" }).click();

  await page.getByTestId("reveal-notice").waitFor();
  expect(await page.getByTestId("reveal-notice").textContent()).toContain("The organisers have just revealed the private leaderboard.");
  await page.getByRole("link", { name: "Private", exact: true }).waitFor();
  expect(await page.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(true);
  await screenshot(page, "leaderboard-extras-reveal-notice-desktop");

  await page.getByRole("link", { name: "See the final ranking" }).click();
  await page.getByRole("heading", { name: "Private leaderboard", level: 1 }).waitFor();
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    await page.reload();
    await page.getByTestId("shake-up").waitFor();
    expect(await page.getByTestId("shake-up").textContent()).toContain("The top 3 changed; largest move: Newcomer up 3 places.");
    expect(await rowOrder(page)).toEqual(["Newcomer", "Steady", "reference", "Rising Star", participantTeam]);
    expect(await page.locator("[data-testid=leaderboard-row] [data-testid=public-rank]").allTextContents()).toEqual(["4", "3", "1", "2"]);
    expect(await movesOf(page, "public-rank")).toEqual([["Newcomer", "up"], ["Steady", "up"], ["Rising Star", "down"], [participantTeam, "down"]]);
    expect(await page.getByTestId("reference-score").textContent()).toBe("0.7500");
    await checkPage(page, `leaderboard-extras-private-${viewport.name}`);
  }

  // The organiser hides it again: the open private page falls back to the public board, live.
  await page.setViewportSize(VIEWPORTS[0]);
  await until("the live stream", async () => (await page.getByTestId("live-indicator").textContent())?.includes("Live"));
  await page.evaluate(() => ((window as unknown as { stillTheSamePage: boolean }).stillTheSamePage = true));
  await organiser.reload();
  await organiser.getByRole("button", { name: "Hide private leaderboard" }).click();
  await page.getByTestId("reveal-notice").waitFor();
  expect(await page.getByTestId("reveal-notice").textContent()).toContain("hidden the private leaderboard again");
  await page.getByRole("heading", { name: "Leaderboard", exact: true, level: 1 }).waitFor();
  expect(await page.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(true);
  expect(await page.getByTestId("shake-up").count()).toBe(0);
});
