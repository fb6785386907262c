import pg from "pg";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { formatScore } from "@/components/tasks/format";
import { launchBrowser, screenshot, type Browser } from "./support/browser";
import { startPlatform, until, type Platform } from "./support/platform";

// How sure a rank is, in a real browser on a desktop and a phone against the built app and a real
// worker: the seed's baseline is scored by the worker, which computes its bootstrap intervals; two
// more teams' results are stored beside it (one inside the baseline's interval, one far below), and
// the public board, then the revealed private board, show each score's interval and mark the
// teams statistically tied with the leader. Screenshots: test-results/screenshots/leaderboard-intervals-*.png.

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
let platform: Platform;
let client: pg.Client;
const browsers: Browser[] = [];

interface StoredResult {
  public_score: number;
  private_score: number;
  public_interval_low: number;
  public_interval_high: number;
  private_interval_low: number;
  private_interval_high: number;
}

async function open(viewport: { width: number; height: number }): Promise<Page> {
  const browser = await launchBrowser({ viewport });
  browsers.push(browser);
  return browser.newPage();
}

/** A team with one scored submission, stored as the worker stores it (RUNNING -> SCORED with its result). */
async function teamWithResult(name: string, score: number, interval: [number, number]) {
  const { rows } = await client.query<{ id: number }>(`INSERT INTO teams (name, invite_code, updated_at) VALUES ($1, $2, now()) RETURNING id`, [name, `invite-${name.replace(/\W/g, "")}`]);
  const teamId = rows[0].id;
  const submission = await client.query<{ id: number }>(
    `INSERT INTO submissions (task_id, team_id, user_id, file_name, sha256, size_bytes, storage_key, param_count, status, updated_at)
     SELECT t.id, $1, u.id, 'm.onnx', repeat('ab', 32), 1, $2, 1, 'RUNNING', now() FROM tasks t, users u WHERE t.slug = 'task2' AND u.email = $3
     RETURNING id`,
    [teamId, `e2e-${teamId}`, platform.credentials.participant.email],
  );
  const submissionId = submission.rows[0].id;
  await client.query("BEGIN");
  await client.query(`UPDATE submissions SET status = 'SCORED', finished_at = now() WHERE id = $1`, [submissionId]);
  await client.query(
    `INSERT INTO results (submission_id, public_metrics, private_metrics, public_score, private_score, latency_p50_ms, latency_p95_ms,
       model_bytes, param_count, receipt, public_interval_low, public_interval_high, private_interval_low, private_interval_high)
     VALUES ($1, '{}', '{}', $2, $2, 1, 1, 1, 1, '{}', $3, $4, $3, $4)`,
    [submissionId, score, interval[0], interval[1]],
  );
  await client.query("COMMIT");
}

const rowOf = (page: Page, team: string) => page.locator(`[data-testid=leaderboard-row][data-team="${team}"]`);

beforeAll(async () => {
  platform = await startPlatform();
  client = new pg.Client({ connectionString: platform.env.DATABASE_URL });
  await client.connect();
}, 600_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await client?.end();
  await platform?.stop();
});

it("the public board shows each score's 95% interval and marks the teams tied with the leader; the private board does the same once revealed", async () => {
  const baselineTeam = platform.credentials.participant.team;
  // The seed's baseline, scored by the real worker with its intervals.
  const baseline = await until(
    "the baseline to be scored",
    async () =>
      (
        await client.query<StoredResult>(
          `SELECT r.* FROM results r JOIN submissions s ON s.id = r.submission_id JOIN teams t ON t.id = s.team_id WHERE t.name = $1`,
          [baselineTeam],
        )
      ).rows[0],
    120_000,
  );
  expect(baseline.public_interval_low).toBeLessThan(baseline.public_score);
  expect(baseline.public_interval_high).toBeGreaterThan(baseline.public_score);
  const width = baseline.public_interval_high - baseline.public_interval_low;
  // Inside the baseline's interval, and far below it.
  const close = baseline.public_score - width / 4;
  const far = baseline.public_interval_low - 3 * width;
  await teamWithResult("Close Second", close, [close - width / 2, close + width / 2]);
  await teamWithResult("Far Behind", far, [far - width / 2, far + width / 2]);

  for (const [viewport, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    const page = await open(size);
    await page.goto(`${platform.baseUrl}/tasks/task2/leaderboard`);
    await page.waitForSelector(`[data-testid=leaderboard-row][data-team="Far Behind"]`);
    expect(await rowOf(page, baselineTeam).getByTestId("interval").textContent()).toBe(
      `${formatScore(baseline.public_interval_low)}–${formatScore(baseline.public_interval_high)}`,
    );
    expect(await rowOf(page, "Far Behind").getByTestId("interval").textContent()).toBe(`${formatScore(far - width / 2)}–${formatScore(far + width / 2)}`);
    const marked = await page.locator("[data-testid=leaderboard-row]:has([data-testid=tied-marker])").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-team")));
    expect(marked).toEqual([baselineTeam, "Close Second"]);
    expect(await page.getByTestId("tier-legend").textContent()).toContain("2 teams are statistically tied for first");
    const { scroll, viewportWidth } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, viewportWidth: window.innerWidth }));
    expect(scroll).toBeLessThanOrEqual(viewportWidth);
    await screenshot(page, `leaderboard-intervals-${viewport}`);
  }

  // The private board, once the organisers reveal it, with the private intervals.
  await client.query(`UPDATE tasks SET private_revealed_at = now() WHERE slug = 'task2'`);
  const page = await open(DESKTOP);
  await page.goto(`${platform.baseUrl}/tasks/task2/leaderboard?board=private`);
  await page.waitForSelector(`[data-testid=leaderboard-row][data-team="Far Behind"]`);
  expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Private leaderboard");
  expect(await rowOf(page, baselineTeam).getByTestId("interval").textContent()).toBe(
    `${formatScore(baseline.private_interval_low)}–${formatScore(baseline.private_interval_high)}`,
  );
  expect(await rowOf(page, "Far Behind").getByTestId("tied-marker").count()).toBe(0);
  await screenshot(page, "leaderboard-intervals-private-desktop");
});
