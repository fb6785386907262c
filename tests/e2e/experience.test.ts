import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser, screenshot, seriousViolations, type Browser } from "./support/browser";
import { startPlatform, until, type Platform } from "./support/platform";

// Issue 15's defects, walked in a real browser against the built app, Postgres, Redis and a real
// worker, on a desktop and two phones: every page fits 360 px (wide tables scroll inside their
// card with a cue), has zero serious or critical axe violations signed out, as a participant and
// as an organiser; times are in the reader's zone; the task editor keeps what was typed; Markdown
// is rendered safely; the dashboard's tables, audit names and drain state are right.

const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "360x740", width: 360, height: 740 },
  { name: "390x844", width: 390, height: 844 },
] as const;
// A zone far from UTC with a half-hour offset, so a time left in UTC cannot pass for local.
const READER_ZONE = "Asia/Kolkata";
const ZONE_LABEL = /GMT\+5:30|IST/;
// Each test walks 15-18 page loads with an axe run each; on a busy 2-core machine that is minutes.
const WALK_TIMEOUT_MS = 600_000;

let platform: Platform;
const browsers: Browser[] = [];

async function signIn(page: Page, who: { email: string; password: string }) {
  await page.goto(`${platform.baseUrl}/signin`);
  await page.fill("#email", who.email);
  await page.fill("#password", who.password);
  await page.click("button[type=submit]");
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
}

async function statusOf(id: number) {
  const response = await fetch(`${platform.baseUrl}/submit/task2/status/${id}`, { headers: { authorization: `Bearer ${platform.credentials.participant.token}` } });
  return (await response.json()) as { status: string };
}

/** The elements that stick out past the right edge of the screen, for a failure message. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 5)
      .map((element) => `${element.tagName.toLowerCase()}.${String(element.className).slice(0, 60)} (${Math.round(element.getBoundingClientRect().right)} px)`),
  );
}

/**
 * Opens `path` at every viewport: the page must not be wider than the screen, axe must find no
 * serious or critical violation, and a screenshot is saved as {name}-{viewport}. Soft checks: one
 * run reports every page's problems, and the test goes on to the behaviour after the walk.
 */
async function walk(page: Page, path: string, name: string, ready: (page: Page) => Promise<unknown>) {
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    await page.goto(`${platform.baseUrl}${path}`);
    await ready(page);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    const wide = width > viewport.width ? (await overflowing(page)).join("; ") : "";
    expect.soft(width, `${path} at ${viewport.name} lays out ${width} px wide: ${wide}`).toBeLessThanOrEqual(viewport.width);
    expect.soft(await seriousViolations(page), `${path} at ${viewport.name}`).toEqual([]);
    await screenshot(page, `${name}-${viewport.name}`);
  }
}

const heading = (text: string | RegExp) => (page: Page) => page.getByRole("heading", { name: text, level: 1 }).waitFor();

beforeAll(async () => {
  platform = await startPlatform({ workers: 1, extraEnv: { HEARTBEAT_INTERVAL_MS: "1000" } });
  await until("the seed's baseline to be scored", async () => (await statusOf(1)).status === "SCORED", 90_000);
}, 600_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await platform?.stop();
});

it("signed out, every public page fits a phone and has no serious accessibility violation", async () => {
  const browser = await launchBrowser({ timezoneId: READER_ZONE });
  browsers.push(browser);
  const page = await browser.newPage();
  await walk(page, "/", "home", heading(/leaderboards/i));
  await walk(page, "/tasks", "tasks", heading(/tasks/i));
  await walk(page, "/tasks/task2", "task", (p) => p.getByTestId("task-description").waitFor());
  await walk(page, "/tasks/task2/leaderboard", "leaderboard", (p) => p.getByTestId("leaderboard-table").waitFor());
  await walk(page, "/signin", "signin", heading(/sign in/i));
  await walk(page, "/signup", "signup", heading(/sign up|create/i));

  // The page title names the task and the page.
  await page.goto(`${platform.baseUrl}/tasks/task2/leaderboard`);
  const title = await page.title();
  expect(title).toMatch(/^Leaderboard · .+ · MLS-GOAT$/);
  expect(title).not.toContain("task2 ·"); // the task's title, not its slug
  // The favicon is served.
  expect((await fetch(`${platform.baseUrl}/icon.svg`)).status).toBe(200);

  // On a 360 px phone the leaderboard scrolls inside its card, with a cue, and the curl block wraps.
  await page.setViewportSize({ width: 360, height: 740 });
  const region = page.getByRole("region", { name: "Leaderboard" });
  const sizes = await region.evaluate((element) => ({ scroll: element.scrollWidth, client: element.clientWidth }));
  if (sizes.scroll > sizes.client) await page.getByTestId("scroll-cue").waitFor();
  await page.goto(`${platform.baseUrl}/tasks/task2`);
  const curl = page.getByTestId("curl-task2");
  expect(await curl.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);
}, WALK_TIMEOUT_MS);

it("a participant's pages: quota rules and reset in the reader's zone, the latest submission in the status line, relative times on the server's clock", async () => {
  const browser = await launchBrowser({ timezoneId: READER_ZONE });
  browsers.push(browser);
  const page = await browser.newPage();
  await signIn(page, platform.credentials.participant);

  // A token, so the tokens table (with its Revoke button) is on the page.
  await page.goto(`${platform.baseUrl}/tokens`);
  await page.fill("#token-name", "phone");
  await page.getByRole("button", { name: "Create token" }).click();
  await page.getByTestId("new-token").waitFor();

  await walk(page, "/tasks/task2", "task-participant", (p) => p.getByTestId("quota").waitFor());
  await walk(page, "/tasks/task2/submissions", "submissions", (p) => p.getByTestId("submission-list").waitFor());
  await walk(page, "/tasks/task2/leaderboard", "leaderboard-participant", (p) => p.getByTestId("leaderboard-table").waitFor());
  await walk(page, "/team", "team", heading(/team/i));
  await walk(page, "/tokens", "tokens", (p) => p.getByTestId("token-table").waitFor());

  // At 360 px the Revoke button is reachable inside the table's scroll area, not clipped by the page.
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(`${platform.baseUrl}/tokens`);
  const revoke = page.getByRole("button", { name: /^Revoke / }).first();
  await revoke.scrollIntoViewIfNeeded();
  expect(await revoke.isVisible()).toBe(true);

  // The quota: which failures cost a submission, and the reset in the reader's time zone.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${platform.baseUrl}/tasks/task2`);
  const quota = page.getByTestId("quota");
  await until("the reset time in the reader's zone", async () => ZONE_LABEL.test((await quota.textContent()) ?? ""), 10_000);
  expect(await quota.locator("time").getAttribute("title")).toMatch(/UTC$/);
  expect(await page.getByTestId("quota-rules").textContent()).toMatch(/your own fault.*uses a submission.*our side.*does not/s);
  // The status line names the team's latest submission (the seed's #1), not a fixed id.
  expect(await page.getByTestId("curl-task2").textContent()).toContain("/submit/task2/status/1 ");

  // The quota line follows an upload at once (no reload), and the status line the new submission.
  const before = Number(/has (\d+) of/.exec((await quota.textContent())!)![1]);
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  await page.getByTestId("model-file").setInputFiles(platform.credentials.baselineModel);
  await page.getByRole("button", { name: "Submit model" }).click();
  const accepted = (await page.getByTestId("upload-accepted").textContent())!;
  const id = Number(/#(\d+)/.exec(accepted)![1]);
  await until("the quota line to count the upload", async () => (await quota.textContent())?.includes(`has ${before - 1} of`), 15_000);
  await until("the status line to name the new submission", async () => (await page.getByTestId("curl-task2").textContent())?.includes(`/status/${id} `), 15_000);
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await until("the upload to be scored", async () => (await statusOf(id)).status === "SCORED", 90_000);

  // A browser whose clock runs 30 s behind the server's still never shows a time in the future.
  const skewed = await browser.newPage();
  await skewed.addInitScript(() => {
    const realNow = Date.now.bind(Date);
    Date.now = () => realNow() - 30_000;
  });
  await skewed.goto(`${platform.baseUrl}/tasks/task2/leaderboard`);
  const times = skewed.getByTestId("leaderboard-table").locator("time");
  await until("relative times to be computed", async () => !(await times.first().textContent())?.includes("UTC"), 10_000);
  for (const text of await times.allTextContents()) expect(text).not.toMatch(/^in /);
  expect(await times.first().getAttribute("title")).toMatch(ZONE_LABEL);
  await skewed.close();

  // "Your scores" are points, one per scored submission, not a smoothed line.
  await page.goto(`${platform.baseUrl}/tasks/task2/submissions`);
  const chart = page.getByTestId("team-score-chart");
  await until("the team's score points", async () => (await chart.locator(".recharts-scatter-symbol").count()) >= 2, 15_000);
  expect(await chart.locator(".recharts-line-curve").count()).toBe(0);
  // The score axis never goes past 1 for accuracy.
  // recharts 3 draws tick labels in their own layer (not inside .recharts-yAxis).
  const ticks = (await chart.locator(".recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value").allTextContents()).map(Number);
  expect(ticks.length).toBeGreaterThan(0);
  expect(Math.max(...ticks)).toBeLessThanOrEqual(1);
  // The leaderboard page shows the member the same points (read there on their own, not with the whole list).
  const points = await chart.locator(".recharts-scatter-symbol").count();
  await page.goto(`${platform.baseUrl}/tasks/task2/leaderboard`);
  const boardChart = page.getByTestId("team-score-chart");
  await until("the team's score points on the leaderboard page", async () => (await boardChart.locator(".recharts-scatter-symbol").count()) === points, 15_000);
}, WALK_TIMEOUT_MS);

it("an organiser's pages: one admin navigation, the task editor keeps values with messages beside fields, Markdown is safe, the dashboard names things and shows a drain at once", async () => {
  const browser = await launchBrowser({ timezoneId: READER_ZONE });
  browsers.push(browser);
  const page = await browser.newPage();
  await signIn(page, platform.credentials.admin);

  await walk(page, "/admin", "admin-dashboard", (p) => p.getByTestId("recent-submissions").waitFor());
  await walk(page, "/admin/tasks", "admin-tasks", heading("Tasks"));
  await walk(page, "/admin/tasks/task2", "admin-task", (p) => p.locator("#task-title").waitFor());
  await walk(page, "/admin/tasks/new", "admin-task-new", heading("New task"));
  await walk(page, "/admin/users", "admin-users", heading("Users"));

  // One navigation for the admin section, the current page marked.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${platform.baseUrl}/admin/users`);
  const nav = page.getByRole("navigation", { name: "Admin" });
  expect(await nav.getByRole("link").allTextContents()).toEqual(["Dashboard", "Tasks", "Users and teams", "Announcements", "Webhooks"]);
  expect(await nav.locator("[aria-current=page]").textContent()).toBe("Users and teams");
  expect(await page.title()).toBe("Users and teams · Admin · MLS-GOAT");

  // The task editor: a refused form keeps every value, says what is wrong beside each field in
  // plain words, and moves the focus to the first invalid field.
  await page.goto(`${platform.baseUrl}/admin/tasks/new`);
  await page.fill("#task-slug", "Not A Slug!");
  await page.fill("#task-title", "Kept title");
  await page.fill("#task-description", "Kept *description*");
  await page.fill("#task-publicFraction", "2");
  await page.fill("#task-inputSpec", "not json");
  await page.click("button:has-text('Create task')");
  await page.getByTestId("error-inputSpec").waitFor();
  expect(await page.getByTestId("error-inputSpec").textContent()).toMatch(/^Not valid JSON, e\.g\. /);
  expect(await page.inputValue("#task-slug")).toBe("Not A Slug!");
  expect(await page.inputValue("#task-title")).toBe("Kept title");
  expect(await page.inputValue("#task-description")).toBe("Kept *description*");
  expect(await page.inputValue("#task-publicFraction")).toBe("2");
  expect(await page.inputValue("#task-inputSpec")).toBe("not json");
  await until("the focus on the invalid field", async () => (await page.evaluate(() => document.activeElement?.id)) === "task-inputSpec", 5_000);
  expect(await page.locator("#task-inputSpec").getAttribute("aria-invalid")).toBe("true");
  // Fixing the JSON brings the remaining problems, each beside its field, the values still there,
  // the focus on the first of them.
  await page.fill("#task-inputSpec", '[{"name":"input","dtype":"float32","shape":[-1,784]}]');
  await page.click("button:has-text('Create task')");
  await page.getByTestId("error-publicFraction").waitFor();
  expect(await page.getByTestId("error-publicFraction").textContent()).toBe("Enter at most 1.");
  expect(await page.getByTestId("error-slug").textContent()).toBe("Use only lower-case letters, digits, - and _.");
  expect(await page.getByTestId("error-inputSpec").count()).toBe(0);
  expect(await page.inputValue("#task-slug")).toBe("Not A Slug!");
  expect(await page.inputValue("#task-title")).toBe("Kept title");
  expect(await page.inputValue("#task-description")).toBe("Kept *description*");
  await until("the focus on the first invalid field", async () => (await page.evaluate(() => document.activeElement?.id)) === "task-slug", 5_000);
  const formText = (await page.getByRole("form", { name: "Task configuration" }).textContent())!;
  expect(formText).not.toMatch(/Invalid input|expected \w+, received/);
  await screenshot(page, "admin-task-new-refused-desktop");

  // Markdown description with a preview; raw HTML and javascript: links never reach the page.
  const markdown = "## How to win\n\n- **Accuracy** counts\n- see [the rules](https://example.org/rules)\n\n<script>window.pwned = 1</script><img src=x onerror=\"window.pwned=1\">\n\n[click](javascript:window.pwned=1)";
  await page.goto(`${platform.baseUrl}/admin/tasks/task2`);
  await page.fill("#task-description", markdown);
  await page.getByRole("button", { name: "Preview", exact: true }).click();
  const preview = page.getByTestId("description-preview");
  expect(await preview.locator("h2").textContent()).toBe("How to win");
  expect(await preview.locator("strong").textContent()).toBe("Accuracy");
  await page.getByRole("button", { name: "Edit" }).click();
  await page.click("button:has-text('Save')");
  await page.getByTestId("task-form-status").getByText("Saved.").waitFor();
  const reader = await browser.newPage();
  await reader.goto(`${platform.baseUrl}/tasks/task2`);
  const description = reader.getByTestId("task-description");
  expect(await description.locator("h2").textContent()).toBe("How to win");
  expect(await description.locator("li").count()).toBe(2);
  expect(await description.locator("a[href='https://example.org/rules']").count()).toBe(1);
  expect(await description.locator("script, img").count()).toBe(0);
  expect(await description.locator("a[href^='javascript']").count()).toBe(0);
  expect(await reader.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  await screenshot(reader, "task-markdown-desktop");
  await reader.close();

  // The dashboard: recent submissions with headers, score and time; the audit log names the task.
  await page.goto(`${platform.baseUrl}/admin`);
  const recent = page.getByTestId("recent-submissions");
  expect(await recent.locator("th").allTextContents()).toEqual(expect.arrayContaining(["Score (public)", "Submitted", "Team", "Status"]));
  const firstRow = page.getByTestId("submission-1");
  expect(await firstRow.locator("td").nth(4).textContent()).toMatch(/^0\.\d+/);
  expect(await firstRow.locator("time").textContent()).toMatch(ZONE_LABEL);
  await page.getByTestId("audit-log").getByText("task task2").waitFor();

  // Drain the only worker: the dashboard says "draining" at once, and the web app stays up.
  page.on("dialog", (dialog) => void dialog.accept());
  const workerRow = page.locator("[data-testid^=worker-]").first();
  await workerRow.getByText("online").waitFor({ timeout: 30_000 });
  await workerRow.getByRole("button", { name: "Drain" }).click();
  // An idle worker stops at its next heartbeat (1 s here), so the row may go straight from online
  // to stopped; it must not stay "online" (the state shown at once is covered in the unit tests).
  const health = workerRow.locator("td").nth(1);
  await until("the row to leave online", async () => ["draining", "stopped"].includes(((await health.textContent()) ?? "").trim()), 5_000, 100);
  await until("the drained worker to stop", async () => (await health.textContent())?.trim() === "stopped", 60_000);
  expect((await fetch(`${platform.baseUrl}/api/health`)).status).toBe(200);
  await screenshot(page, "admin-dashboard-drained-desktop");
}, WALK_TIMEOUT_MS);
