import { randomBytes } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser, screenshot as saveScreenshot, seriousViolations, signIn, type Browser } from "./support/browser";
import { startPlatform, until, type Platform } from "./support/platform";

// What competition users expect, in a real browser on a desktop and a phone against the built app,
// Postgres, Redis and a real worker: named submissions with a detail page, filters and a model
// download; invite links and copy buttons; organisers' announcements arriving live; dark mode.
// Screenshots: test-results/screenshots/{page}-{viewport}.png. Every page screenshotted is also
// checked with axe: zero serious or critical violations (soft, so one run lists every page's).

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
let platform: Platform;
const browsers: Browser[] = [];
const run = randomBytes(3).toString("hex");

async function open(viewport: { width: number; height: number }): Promise<Page> {
  const browser = await launchBrowser({ viewport });
  browsers.push(browser);
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"]);
  return browser.newPage();
}

/** The page fits the viewport: nothing makes the document wider than the screen. */
async function expectNoHorizontalScroll(page: Page) {
  const { scroll, viewport } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth }));
  expect(scroll).toBeLessThanOrEqual(viewport);
}

/** The page as it is now: axe finds no serious or critical violation, then a screenshot. */
async function screenshot(page: Page, name: string): Promise<void> {
  expect.soft(await seriousViolations(page), `axe on ${name} (${page.url()})`).toEqual([]);
  await saveScreenshot(page, name);
}

async function clipboardText(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

beforeAll(async () => {
  platform = await startPlatform();
}, 600_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await platform?.stop();
});

it("a named upload gets a detail page (scores, receipt, hash, download), its name is edited there, and the list filters by status", async () => {
  for (const [viewport, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    const page = await open(size);
    await signIn(page, platform.baseUrl, platform.credentials.participant, "/tasks/task2/submissions");
    const name = `MLP ${viewport} ${run}`;
    await page.getByTestId("submission-name-input").fill(name);
    await page.getByTestId("submission-description-input").fill("logistic regression, seed 1");
    await page.getByTestId("model-file").setInputFiles(platform.credentials.baselineModel);
    await page.getByRole("button", { name: "Submit model" }).click();
    const accepted = await page.getByTestId("upload-accepted").textContent();
    const id = Number(/#(\d+)/.exec(accepted!)![1]);
    const row = page.getByTestId(`submission-${id}`);
    expect(await row.getByTestId("submission-name").textContent()).toBe(name);
    await page.waitForSelector(`[data-testid=submission-${id}][data-status=SCORED]`, { timeout: 60_000 });

    // Only scored ones under the "scored" filter; the link is a real URL.
    await page.getByTestId("status-filter").getByRole("link", { name: /^scored/ }).click();
    await page.waitForURL(/\?status=scored/);
    const statuses = await page.locator("[data-testid^=submission-][data-status]").evaluateAll((rows) => rows.map((each) => each.getAttribute("data-status")));
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(["SCORED"]));
    await screenshot(page, `submissions-filtered-${viewport}`);

    await page.getByTestId(`submission-${id}`).getByTestId("submission-link").click();
    await page.waitForURL(`${platform.baseUrl}/tasks/task2/submissions/${id}`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toContain(name);
    expect(await page.getByTestId("submission-metrics").textContent()).toContain("accuracy");
    expect(await page.getByTestId("submission-receipt").textContent()).toContain('"onnxruntimeVersion"');
    const sha256 = (await page.getByTestId("submission-sha256").textContent())!.trim();
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    await page.getByRole("button", { name: "Copy hash" }).click();
    expect(await clipboardText(page)).toBe(sha256);

    // The download is the same bytes (the route's hash header is checked against the page's).
    const href = await page.getByTestId("download-model").getAttribute("href");
    const download = await page.context().request.get(`${platform.baseUrl}${href}`);
    expect(download.status()).toBe(200);
    expect(download.headers()["x-content-sha256"]).toBe(sha256);
    expect((await download.body()).length).toBeGreaterThan(1000);

    // Rename on the detail page; the list shows the new name.
    await page.fill("#submission-name", `${name} (renamed)`);
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByTestId("labels-saved").waitFor();
    await expectNoHorizontalScroll(page);
    await screenshot(page, `submission-detail-${viewport}`);
    await page.goto(`${platform.baseUrl}/tasks/task2/submissions`);
    expect(await page.getByTestId(`submission-${id}`).getByTestId("submission-name").textContent()).toBe(`${name} (renamed)`);
  }
});

it("an invite link signs a newcomer up and joins the team with one button; codes, tokens and curl lines copy", async () => {
  const member = await open(DESKTOP);
  await signIn(member, platform.baseUrl, platform.credentials.participant, "/team");
  const link = (await member.getByTestId("invite-link").textContent())!.trim();
  expect(link).toBe(`${platform.baseUrl}/team/join/${platform.credentials.participant.inviteCode}`);
  await member.getByTestId("copy-invite-link").click();
  expect(await clipboardText(member)).toBe(link);
  await member.getByTestId("copy-invite-code").click();
  expect(await clipboardText(member)).toBe(platform.credentials.participant.inviteCode);
  await screenshot(member, "team-desktop");

  // The new token's curl lines carry the token itself, ready to paste.
  await member.goto(`${platform.baseUrl}/tokens`);
  await member.fill("#token-name", `ci-${run}`);
  await member.getByRole("button", { name: "Create token" }).click();
  const token = (await member.getByTestId("new-token").textContent())!.trim();
  const newTokenLines = await member.getByTestId("curl-new-token").textContent();
  expect(newTokenLines).toMatch(new RegExp(`^TOKEN=${token}\n`));
  expect(newTokenLines).toContain(`curl -X POST ${platform.baseUrl}/submit/task2`);
  await member.getByTestId("copy-curl-new-token").click();
  expect(await clipboardText(member)).toContain(`TOKEN=${token}`);
  await member.getByTestId("copy-new-token").click();
  expect(await clipboardText(member)).toBe(token);
  await screenshot(member, "tokens-desktop");

  // A newcomer on a phone opens the link signed out: sign in (or up) first, then back to join.
  const newcomer = await open(PHONE);
  await newcomer.goto(link);
  await newcomer.waitForURL(/\/signin\?next=%2Fteam%2Fjoin%2F/);
  await newcomer.goto(`${platform.baseUrl}/signup?next=${encodeURIComponent(new URL(link).pathname)}`);
  await newcomer.fill("#name", "Nia");
  await newcomer.fill("#email", `nia-${run}@example.org`);
  await newcomer.fill("#password", "nia-password-1");
  await newcomer.fill("#confirmPassword", "nia-password-1");
  await newcomer.click("button[type=submit]");
  await newcomer.waitForURL(link);
  expect(await newcomer.getByTestId("invite-team-name").textContent()).toBe(platform.credentials.participant.team);
  await expectNoHorizontalScroll(newcomer);
  await screenshot(newcomer, "team-join-phone");
  await newcomer.getByTestId("join-by-link").click();
  await newcomer.waitForURL(`${platform.baseUrl}/team`);
  expect(await newcomer.getByTestId("team-members").textContent()).toContain(`nia-${run}@example.org`);
});

it("an organiser's announcement appears on open task pages without a reload, and goes when withdrawn", async () => {
  const participant = await open(PHONE);
  await participant.goto(`${platform.baseUrl}/tasks/task2`);
  await participant.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  const before = await participant.getByTestId("announcement").count();

  const organiser = await open(DESKTOP);
  await signIn(organiser, platform.baseUrl, platform.credentials.admin, "/admin/announcements");
  const text = `Private leaderboard revealed at 18:00 (${run})`;
  await organiser.selectOption("#announcement-task", "task2");
  await organiser.fill("#announcement-body", text);
  await organiser.getByRole("button", { name: "Post announcement" }).click();
  expect(await organiser.getByTestId("announcement-form-status").textContent()).toBe("Posted on task2's pages.");
  await organiser.getByTestId("admin-announcements").getByText(text).waitFor();
  await screenshot(organiser, "admin-announcements-desktop");

  await participant.getByTestId("announcements").getByText(text).waitFor({ timeout: 15_000 });
  expect(await participant.getByTestId("announcement").count()).toBe(before + 1);
  expect(await participant.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await screenshot(participant, "task-page-announcement-phone");

  organiser.once("dialog", (dialog) => void dialog.accept());
  await organiser.getByTestId("admin-announcements").locator("li", { hasText: text }).getByRole("button", { name: "Withdraw" }).click();
  await until("the withdrawn announcement to leave the open page", async () => (await participant.getByTestId("announcements").getByText(text).count()) === 0, 15_000);
});

it("dark mode follows the system, and the header's switch overrides it and survives a reload without a flash", async () => {
  for (const [viewport, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    const page = await open(size);
    // The body's background drawn on a canvas and read back as sRGB, whatever notation the
    // stylesheet's colours compile to (oklch, lab, rgb): dark means a red channel under 128.
    const isDark = () =>
      page.evaluate(() => {
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = 1;
        const context = canvas.getContext("2d")!;
        context.fillStyle = getComputedStyle(document.body).backgroundColor;
        context.fillRect(0, 0, 1, 1);
        return context.getImageData(0, 0, 1, 1).data[0] < 128;
      });

    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(`${platform.baseUrl}/tasks/task2`);
    expect(await page.getByTestId("theme-toggle").getAttribute("data-theme")).toBe("system");
    expect(await isDark()).toBe(true);
    await page.emulateMedia({ colorScheme: "light" });
    expect(await isDark()).toBe(false);

    // Auto -> Light -> Dark, then a reload: the server renders <html class="dark"> from the cookie.
    await page.getByTestId("theme-toggle").click();
    await page.getByTestId("theme-toggle").click();
    expect(await page.getByTestId("theme-toggle").getAttribute("data-theme")).toBe("dark");
    expect(await isDark()).toBe(true);
    const response = await page.reload();
    expect(await response!.text()).toMatch(/<html[^>]*class="[^"]*\bdark\b/);
    expect(await isDark()).toBe(true);
    expect(await page.evaluate(() => localStorage.getItem("goat-theme"))).toBe("dark");
    await screenshot(page, `task-page-dark-${viewport}`);
    await page.goto(`${platform.baseUrl}/tasks/task2/leaderboard`);
    expect(await isDark()).toBe(true);
  }
});
