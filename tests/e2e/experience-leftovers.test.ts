import { randomBytes } from "node:crypto";
import { openAsBlob } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { DESKTOP, PHONE, launchBrowser, screenshot, seriousViolations, signIn, visitors } from "./support/browser";
import { startPlatform, until, type Platform } from "./support/platform";

// Issue 15's leftovers in a real browser against the built app, Postgres, Redis and a real worker:
// a disabled participant is signed out with the reason on the sign-in page; a submission's detail
// page follows its status and score without a reload; the dashboard shows each worker's own CPU.
// Screenshots: test-results/screenshots/{page}-{viewport}.png.

const run = randomBytes(3).toString("hex");
let platform: Platform;
const people = visitors();
const open = (viewport: { width: number; height: number }) => people.open(viewport);

beforeAll(async () => {
  platform = await startPlatform({ workers: 1, extraEnv: { HEARTBEAT_INTERVAL_MS: "1000" } });
}, 600_000);

afterAll(async () => {
  await people.closeAll();
  await platform?.stop();
});

it("a participant whose account an organiser disables is signed out, and the sign-in page says why", async () => {
  const email = `dora-${run}@example.org`;
  const dora = await open(DESKTOP);
  await dora.goto(`${platform.baseUrl}/signup`);
  await dora.fill("#name", "Dora");
  await dora.fill("#email", email);
  await dora.fill("#password", "dora-password-1");
  await dora.fill("#confirmPassword", "dora-password-1");
  await dora.click("button[type=submit]");
  await dora.waitForURL(`${platform.baseUrl}/team`);
  // Signed in, a sign-in page has nothing to say: it sends her on.
  expect(await dora.getByTestId("account-disabled").count()).toBe(0);

  const organiser = await open(DESKTOP);
  await signIn(organiser, platform.baseUrl, platform.credentials.admin, "/admin/users");
  await organiser.locator("tr", { hasText: email }).getByRole("button", { name: "Disable" }).click();
  await organiser.getByText(`${email} is disabled.`).waitFor();

  await dora.reload();
  await dora.waitForURL(`${platform.baseUrl}/signin?next=%2Fteam`);
  expect(await dora.getByTestId("account-disabled").textContent()).toBe(
    "Your account was disabled by the organisers, so you were signed out. If you think this is a mistake, ask them to enable it again.",
  );
  expect(await seriousViolations(dora)).toEqual([]);
  await screenshot(dora, "signin-disabled-desktop");
  await dora.setViewportSize(PHONE);
  await screenshot(dora, "signin-disabled-phone");

  // Her password no longer signs her in either.
  await dora.fill("#email", email);
  await dora.fill("#password", "dora-password-1");
  await dora.click("button[type=submit]");
  await dora.getByText("Wrong email or password, or the account is disabled.").waitFor();

  // Someone else on the sign-in page sees no such message.
  const visitor = await open(PHONE);
  await visitor.goto(`${platform.baseUrl}/signin`);
  await visitor.getByRole("heading", { name: "Sign in" }).waitFor();
  expect(await visitor.getByTestId("account-disabled").count()).toBe(0);
});

it("a submission's detail page shows it queued, then scored with its score, without a reload", async () => {
  await platform.stopWorkers();
  const form = new FormData();
  form.append("file", await openAsBlob(platform.credentials.baselineModel), "baseline.onnx");
  form.append("name", `live detail ${run}`);
  const response = await fetch(`${platform.baseUrl}/submit/task2`, { method: "POST", body: form, headers: { authorization: `Bearer ${platform.credentials.participant.token}` } });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: number };

  const page = await open(DESKTOP);
  await signIn(page, platform.baseUrl, platform.credentials.participant, `/tasks/task2/submissions/${id}`);
  expect(await page.getByTestId("submission-status").textContent()).toBe("QUEUED");
  await page.getByTestId("live-indicator").getByText("Live").waitFor();
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  await screenshot(page, "submission-detail-queued-desktop");

  await platform.startWorker();
  await page.getByTestId("submission-status").getByText("SCORED").waitFor({ timeout: 90_000 });
  expect(await page.getByTestId("submission-metrics").textContent()).toMatch(/accuracy \(public\)\s*0\.\d{4}/);
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  expect(await seriousViolations(page)).toEqual([]);
  await screenshot(page, "submission-detail-live-desktop");
  await page.setViewportSize(PHONE);
  await screenshot(page, "submission-detail-live-phone");
}, 300_000);

it("the dashboard shows each worker's own CPU from its heartbeat, beside the host's", async () => {
  const organiser = await open(DESKTOP);
  await signIn(organiser, platform.baseUrl, platform.credentials.admin, "/admin");
  const figure = organiser.locator("[data-testid^=cpu-of-]");
  // The figure from the heartbeat: a number once two beats have measured an interval.
  const text = await until("a heartbeat with the worker's CPU", async () => {
    const value = (await figure.first().textContent()) ?? "";
    return /^CPU \d+(\.\d)?% of \d+ cores \(host \d+(\.\d)?%\)$/.test(value) ? value : null;
  });
  const [, own, cores] = /^CPU ([\d.]+)% of (\d+) cores/.exec(text)!;
  expect(Number(own)).toBeGreaterThanOrEqual(0);
  expect(Number(own)).toBeLessThanOrEqual(100);
  expect(Number(cores)).toBeGreaterThan(0);
  await organiser.locator("figure", { hasText: "CPU use per worker: its own process and sandboxes" }).waitFor();
  await screenshot(organiser, "admin-dashboard-worker-cpu-desktop");
});

/**
 * Tries to send a form with a click on its button and with Enter in its first field, then waits: the
 * requests the page made meanwhile (a native submission navigates at once, so 1.5 s is plenty).
 */
async function requestsOnSubmit(page: Page, form: string, button: string): Promise<string[]> {
  const sent: string[] = [];
  page.on("request", (request) => sent.push(`${request.method()} ${request.url()}`));
  await page.locator(form).locator(button).click({ force: true });
  const field = page.locator(form).locator("input:not([type=hidden])").first();
  if ((await field.count()) > 0) await field.press("Enter");
  await page.waitForTimeout(1_500);
  return sent;
}

it("before a page has hydrated, its script-only forms cannot be sent: no password in a URL, no confirmation skipped", async () => {
  // With JavaScript off a page stays as the server sent it, as every page is before it hydrates.
  const before = await launchBrowser({ viewport: DESKTOP, javaScriptEnabled: false });
  try {
    const page = await before.newPage();
    await page.goto(`${platform.baseUrl}/signin`);
    const { email, password } = platform.credentials.participant;
    await page.fill("#email", email);
    await page.fill("#password", password);
    expect(await page.getByRole("button", { name: "Sign in" }).isDisabled()).toBe(true);
    // Sent natively, the form would be a GET to /signin?email=...&password=...
    expect(await requestsOnSubmit(page, "form", "button[type=submit]")).toEqual([]);
    expect(page.url()).toBe(`${platform.baseUrl}/signin`);

    // Signed in (the session cookie of a browser that ran the sign-in page), the forms that ask
    // first (leave the team, revoke a token, re-score a task) and the dataset upload wait too.
    const signedIn = await open(DESKTOP);
    await signIn(signedIn, platform.baseUrl, platform.credentials.participant, "/team");
    await before.context.addCookies(await signedIn.context().cookies());
    await page.goto(`${platform.baseUrl}/team`);
    expect(await page.getByRole("button", { name: "Leave team" }).isDisabled()).toBe(true);
    expect(await requestsOnSubmit(page, "form:has(button:has-text('Leave team'))", "button[type=submit]")).toEqual([]);
    await page.goto(`${platform.baseUrl}/tokens`);
    const revoke = page.getByRole("button", { name: /^Revoke / });
    expect(await revoke.count()).toBeGreaterThan(0);
    expect(await revoke.first().isDisabled()).toBe(true);

    const organiser = await open(DESKTOP);
    await signIn(organiser, platform.baseUrl, platform.credentials.admin, "/admin");
    await before.context.clearCookies();
    await before.context.addCookies(await organiser.context().cookies());
    await page.goto(`${platform.baseUrl}/admin/tasks/${platform.credentials.task}`);
    expect(await page.getByRole("button", { name: "Re-score every submission" }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Upload and validate" }).isDisabled()).toBe(true);
    expect(await requestsOnSubmit(page, "form:has(button:has-text('Re-score every submission'))", "button[type=submit]")).toEqual([]);
  } finally {
    await before.close();
  }

  // Hydrated, the same buttons work (the sign-in and its redirect above, and here the organiser's dataset form).
  const organiser = await open(DESKTOP);
  await signIn(organiser, platform.baseUrl, platform.credentials.admin, `/admin/tasks/${platform.credentials.task}`);
  await organiser.getByRole("button", { name: "Upload and validate" }).and(organiser.locator(":enabled")).waitFor();
  expect(await organiser.getByRole("button", { name: "Re-score every submission" }).isEnabled()).toBe(true);
});
