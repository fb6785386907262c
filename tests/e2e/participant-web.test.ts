import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser, screenshot, signIn, type Browser } from "./support/browser";
import { startPlatform, until, type Platform } from "./support/platform";

// The participants' web app in a real browser (Debian's chromium) against the built app, Postgres,
// Redis and a real worker: accounts, teams, tokens, the upload form, live status, the leaderboard.

let platform: Platform;
const browsers: Browser[] = [];
const run = randomBytes(3).toString("hex");
const teamName = `Rockets ${run}`;
const ada = { name: "Ada", email: `ada-${run}@example.org`, password: "ada-password-1" };
const bob = { name: "Bob", email: `bob-${run}@example.org`, password: "bob-password-1" };
let baselineScore: number;

async function statusOf(id: number) {
  const response = await fetch(`${platform.baseUrl}/submit/task2/status/${id}`, { headers: { authorization: `Bearer ${platform.credentials.participant.token}` } });
  return (await response.json()) as { status: string; result: { score: number } | null };
}

async function signUp(page: Page, who: typeof ada) {
  await page.goto(`${platform.baseUrl}/signup`);
  await page.fill("#name", who.name);
  await page.fill("#email", who.email);
  await page.fill("#password", who.password);
  await page.fill("#confirmPassword", who.password);
  await page.click("button[type=submit]");
  await page.waitForURL(`${platform.baseUrl}/team`);
  await page.getByText("You are in no team yet").waitFor();
}

beforeAll(async () => {
  platform = await startPlatform();
  const scored = await until("the seed's baseline to be scored", async () => {
    const status = await statusOf(1);
    return status.status === "SCORED" ? status : null;
  });
  baselineScore = scored.result!.score;
  await fs.writeFile(path.join(platform.workDir, "bad.onnx"), "this is not an ONNX model\n");
}, 600_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await platform?.stop();
});

it("a participant signs up, creates a team, a second joins with the invite code, a token is created, models are uploaded and ranked live", async () => {
  const adaBrowser = await launchBrowser();
  const bobBrowser = await launchBrowser({ viewport: { width: 390, height: 844 } }); // a phone
  browsers.push(adaBrowser, bobBrowser);
  const adaPage = await adaBrowser.newPage();
  const bobPage = await bobBrowser.newPage();
  // A Content-Security-Policy that blocked one of Next's scripts would show here (and break the forms).
  const cspViolations: string[] = [];
  for (const page of [adaPage, bobPage]) page.on("console", (message) => void (/Content.Security.Policy/i.test(message.text()) && cspViolations.push(message.text())));

  // Sign up, create a team.
  await signUp(adaPage, ada);
  await adaPage.fill("#team-name", teamName);
  await adaPage.getByRole("button", { name: "Create team" }).click();
  await adaPage.getByTestId("invite-code").waitFor();
  expect(await adaPage.getByTestId("team-name").textContent()).toBe(teamName);
  const inviteCode = (await adaPage.getByTestId("invite-code").textContent())!.trim();
  expect(inviteCode.length).toBeGreaterThanOrEqual(6);

  // A second participant joins with the invite code and sees both members.
  await signUp(bobPage, bob);
  await bobPage.fill("#invite-code", inviteCode);
  await bobPage.getByRole("button", { name: "Join team" }).click();
  await bobPage.getByTestId("team-members").waitFor();
  const members = await bobPage.getByTestId("team-members").textContent();
  expect(members).toContain(ada.email);
  expect(members).toContain(bob.email);

  // A named token, shown once, with curl lines carrying the real host and task slug.
  await adaPage.goto(`${platform.baseUrl}/tokens`);
  await adaPage.fill("#token-name", "laptop");
  await adaPage.getByRole("button", { name: "Create token" }).click();
  const token = (await adaPage.getByTestId("new-token").textContent())!.trim();
  expect(token).toMatch(/^goat_[A-Za-z0-9_-]{43}$/);
  expect(await adaPage.getByTestId("token-row").count()).toBe(1);
  const curl = await adaPage.getByTestId("curl-task2").textContent();
  expect(curl).toContain(`curl -X POST ${platform.baseUrl}/submit/task2 -H "Authorization: Bearer $TOKEN" -F "file=@model.onnx"`);
  // The token works with the API.
  const queue = await fetch(`${platform.baseUrl}/submit/queue/status`, { headers: { authorization: `Bearer ${token}` } });
  expect(queue.status).toBe(200);

  // The task page; a bad file is refused with the intake check's exact message.
  await adaPage.goto(`${platform.baseUrl}/tasks/task2`);
  expect(await adaPage.getByTestId("task-description").textContent()).toContain("handwritten digits");
  expect(await adaPage.getByTestId("quota").textContent()).toContain("20 of 20");
  await adaPage.getByTestId("model-file").setInputFiles(path.join(platform.workDir, "bad.onnx"));
  await adaPage.getByRole("button", { name: "Submit model" }).click();
  const refusal = (await adaPage.getByTestId("upload-refused-message").textContent())!.trim();
  const form = new FormData();
  form.append("file", new Blob([await fs.readFile(path.join(platform.workDir, "bad.onnx"))]), "bad.onnx");
  const api = await (await fetch(`${platform.baseUrl}/submit/task2`, { method: "POST", body: form, headers: { authorization: `Bearer ${token}` } })).json();
  expect(api.error.code).toBe("NOT_ONNX");
  expect(refusal).toBe(api.error.message);
  await screenshot(adaPage, "task-page");

  // An anonymous reader's leaderboard is the kept page (rendered once, served as bytes): the team is not on it yet.
  const anonymousBoard = async () => {
    const answer = await fetch(`${platform.baseUrl}/tasks/task2/leaderboard`, { headers: { accept: "text/html" } });
    return { cache: answer.headers.get("x-goat-page-cache"), html: await answer.text() };
  };
  await until("the anonymous leaderboard to be kept", async () => (await anonymousBoard()).cache === "hit");
  expect((await anonymousBoard()).html).not.toContain(teamName);

  // Bob watches the leaderboard: the team is not on it yet.
  await bobPage.goto(`${platform.baseUrl}/tasks/task2/leaderboard`);
  await bobPage.getByText("Live", { exact: true }).waitFor();
  expect(await bobPage.locator(`[data-testid=leaderboard-row][data-team="${teamName}"]`).count()).toBe(0);

  // No worker: the upload waits in the queue, visibly; then a worker scores it, live, without a reload.
  await platform.stopWorkers();
  await adaPage.goto(`${platform.baseUrl}/tasks/task2/submissions`);
  await adaPage.getByText("Live: updates appear as they happen").waitFor();
  await adaPage.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  await adaPage.getByTestId("model-file").setInputFiles(path.join(platform.workDir, "demo", "baseline.onnx"));
  await adaPage.getByRole("button", { name: "Submit model" }).click();
  const accepted = await adaPage.getByTestId("upload-accepted").textContent();
  expect(accepted).toMatch(/Accepted: submission #\d+, position 1 in the queue/);
  const id = Number(/#(\d+)/.exec(accepted!)![1]);
  const row = adaPage.getByTestId(`submission-${id}`);
  await row.waitFor();
  expect(await row.getAttribute("data-status")).toBe("QUEUED");
  expect(await row.getByTestId("queue-position").textContent()).toContain("position 1");
  // Why it waits, in words, and no made-up start time.
  expect(await row.getByTestId("queue-position").textContent()).toContain("start time unknown");
  expect(await row.getByTestId("wait-reasons").textContent()).toContain("No evaluation worker is online right now.");
  expect(await row.textContent()).toContain("baseline.onnx");

  await platform.startWorker();
  await adaPage.waitForSelector(`[data-testid=submission-${id}][data-status=SCORED]`, { timeout: 60_000 });
  expect(await adaPage.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  expect(await row.getByTestId("submission-score").textContent()).toContain(baselineScore.toFixed(4));
  expect(await row.textContent()).toMatch(/sha256 [0-9a-f]{12}/);
  await screenshot(adaPage, "submissions");

  // Bob's leaderboard updated by itself: same score as the demo team, so the same rank (1).
  const teamRow = bobPage.locator(`[data-testid=leaderboard-row][data-team="${teamName}"]`);
  await teamRow.waitFor({ timeout: 30_000 });
  expect(await teamRow.getByTestId("rank").textContent()).toBe("1");
  expect(await teamRow.getByTestId("score").textContent()).toBe(baselineScore.toFixed(4));
  const demoRow = bobPage.locator(`[data-testid=leaderboard-row][data-team="Demo Team"]`);
  expect(await demoRow.getByTestId("rank").textContent()).toBe("1");
  // The score's event dropped the anonymous reader's kept page: the next one has the team (a kept
  // page otherwise lives 10 s, longer than this waits).
  await until("the anonymous leaderboard to show the new score", async () => (await anonymousBoard()).html.includes(teamName), 2_000, 100);
  await adaPage.goto(`${platform.baseUrl}/tasks/task2/leaderboard`);
  await adaPage.getByTestId("best-score-chart").waitFor();
  await screenshot(adaPage, "leaderboard");

  // Signed out, the submissions page sends to sign-in, and a copy of the session cookie is dead too.
  const savedCookie = (await adaBrowser.context.cookies()).find((cookie) => cookie.name.endsWith("next-auth.session-token"))!;
  const withSavedCookie = () => fetch(`${platform.baseUrl}/api/tasks/task2/submissions`, { headers: { cookie: `${savedCookie.name}=${savedCookie.value}` } });
  expect((await withSavedCookie()).status).toBe(200);
  await adaPage.getByRole("button", { name: "Sign out" }).click();
  await adaPage.waitForURL(`${platform.baseUrl}/`);
  expect((await withSavedCookie()).status).toBe(401);
  await adaPage.goto(`${platform.baseUrl}/tasks/task2/submissions`);
  expect(adaPage.url()).toBe(`${platform.baseUrl}/signin?next=${encodeURIComponent("/tasks/task2/submissions")}`);
  expect(await adaPage.content()).not.toContain("baseline.onnx");
  expect(cspViolations).toEqual([]);
}, 240_000);

it("an anonymous reader's leaderboard page is kept with its render's nonce on every script, runs in the browser, and is not what a token's caller gets", async () => {
  const url = `${platform.baseUrl}/tasks/task2/leaderboard`;
  const kept = await until("a kept leaderboard page", async () => {
    const answer = await fetch(url, { headers: { accept: "text/html" } });
    return answer.headers.get("x-goat-page-cache") === "hit" ? answer : null;
  });
  const csp = kept.headers.get("content-security-policy")!;
  expect(csp).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'(;|$)/);
  const nonce = /'nonce-([^']+)'/.exec(csp)![1];
  const html = await kept.text();
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
  expect(scripts.length).toBeGreaterThan(0);
  for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
  expect(kept.headers.get("x-frame-options")).toBe("DENY");
  expect(kept.headers.get("x-content-type-options")).toBe("nosniff");
  expect(kept.headers.get("cache-control")).toContain("no-store");

  // A caller by token gets a page rendered for them, with a fresh nonce.
  const own = await fetch(url, { headers: { accept: "text/html", authorization: `Bearer ${platform.credentials.participant.token}` } });
  expect(own.headers.get("x-goat-page-cache")).toBeNull();
  expect(own.headers.get("content-security-policy")).not.toContain(nonce);

  // In a browser, the kept page's scripts run under its policy: the live badge needs them.
  const browser = await launchBrowser();
  browsers.push(browser);
  const page = await browser.newPage();
  const violations: string[] = [];
  page.on("console", (message) => void (/Content.Security.Policy/i.test(message.text()) && violations.push(message.text())));
  const answer = await page.goto(url);
  expect(answer?.headers()["x-goat-page-cache"]).toMatch(/^(hit|miss)$/);
  await page.getByText("Live", { exact: true }).waitFor();
  expect(violations).toEqual([]);
});

it("a signed-in reader gets the page kept for every signed-in reader, with nothing of anyone in it; the browser fills in their name, their team's row and their chart", async () => {
  const url = `${platform.baseUrl}/tasks/task2/leaderboard`;
  const { participant, admin } = platform.credentials;
  const readers = [];
  for (const who of [participant, admin]) {
    const browser = await launchBrowser();
    browsers.push(browser);
    const page = await browser.newPage();
    await signIn(page, platform.baseUrl, who, "/tasks");
    const session = (await browser.context.cookies()).find((cookie) => cookie.name.endsWith("next-auth.session-token"))!;
    readers.push({ page, cookie: `${session.name}=${session.value}` });
  }
  const [alice, organiser] = readers;

  // The bytes: one kept page for every session cookie, holding no one's name, row or chart, and not the anonymous readers' page.
  const keptFor = (cookie?: string) =>
    until(`the kept page for ${cookie ? "a signed-in" : "an anonymous"} reader`, async () => {
      const answer = await fetch(url, { headers: { accept: "text/html", ...(cookie ? { cookie } : {}) } });
      return answer.headers.get("x-goat-page-cache") === "hit" ? answer.text() : null;
    });
  // Both readers' hits are one render: the same bytes, nonce included. The kept page is renewed
  // (another nonce) when it is 10 s old or the board changes, which may fall between the two
  // requests on a slow machine: then both are asked again. Per-reader pages would never match.
  const html = await until("one kept page for both signed-in readers", async () => {
    const first = await keptFor(alice.cookie);
    return (await keptFor(organiser.cookie)) === first ? first : null;
  });
  for (const absent of ["Alice", participant.email, "Organiser", admin.email, "team-score-chart", "histogram-own", "signed-in-as", ">Sign in<"]) expect(html, absent).not.toContain(absent);
  const anonymousHtml = await keptFor();
  expect(anonymousHtml).toContain(">Sign in<");
  expect(anonymousHtml).not.toBe(html);

  // In the browser: the reader's own part, asked for once per page view (preloaded, then taken by the component).
  const viewerRequests: string[] = [];
  alice.page.on("request", (request) => void (request.url().includes("/leaderboard/viewer") && viewerRequests.push(request.url())));
  const answer = await alice.page.goto(url);
  expect(answer?.headers()["x-goat-page-cache"]).toMatch(/^(hit|miss)$/);
  await alice.page.getByTestId("signed-in-as").waitFor();
  expect(await alice.page.getByTestId("signed-in-as").textContent()).toBe(`Alice · ${participant.team}`);
  expect(await alice.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Team" }).count()).toBe(1);
  expect(await alice.page.getByRole("link", { name: "Admin" }).count()).toBe(0);
  const ownRow = alice.page.locator(`[data-testid=leaderboard-row][data-team="${participant.team}"]`);
  await until("the team's row to be marked as its own", async () => (await ownRow.getAttribute("class"))?.includes("bg-indigo-50"));
  await alice.page.getByTestId("team-score-chart").waitFor();
  expect(await alice.page.getByTestId("histogram-own").textContent()).toContain(participant.team);
  await alice.page.waitForTimeout(1_000); // a second request, were the preload not taken, would be out by now
  expect(viewerRequests).toEqual([`${platform.baseUrl}/api/tasks/task2/leaderboard/viewer?board=public`]);

  await organiser.page.goto(url);
  await organiser.page.getByRole("link", { name: "Admin" }).waitFor();
  expect(await organiser.page.getByTestId("signed-in-as").textContent()).toBe("Organiser");
  expect(await organiser.page.getByTestId("team-score-chart").count()).toBe(0);

  // Over the address's polling limit (429, Retry-After 1 s) for its first two requests (the
  // preload's and one more): the reader's part is asked again when the answer says, and the
  // header holds its place meanwhile; it never offers a signed-in reader "Sign in".
  const asked: { at: number; refused: boolean }[] = [];
  await alice.page.route("**/leaderboard/viewer?*", (route) => {
    const refused = asked.filter((request) => request.refused).length < 2;
    asked.push({ at: Date.now(), refused });
    return refused
      ? route.fulfill({ status: 429, headers: { "retry-after": "1", "content-type": "application/json" }, body: '{"error":"rate_limited","message":"Too many requests from your address."}' })
      : route.continue();
  });
  await alice.page.goto(url);
  await until("the second refusal", async () => asked.length >= 2);
  expect(await alice.page.getByTestId("account-pending").count()).toBe(1);
  expect(await alice.page.getByRole("link", { name: "Sign in" }).count()).toBe(0);
  await alice.page.getByTestId("signed-in-as").waitFor();
  expect(await alice.page.getByTestId("signed-in-as").textContent()).toBe(`Alice · ${participant.team}`);
  expect(asked.map((request) => request.refused)).toEqual([true, true, false]);
  expect(asked.at(-1)!.at - asked[0].at).toBeGreaterThanOrEqual(1_000); // asked again when the answer said, not at once
  await alice.page.unroute("**/leaderboard/viewer?*");
});

it("pages and API answers of the built app carry the security headers, and every script of a page carries the CSP nonce", async () => {
  const page = await fetch(`${platform.baseUrl}/tasks`);
  const csp = page.headers.get("content-security-policy")!;
  const nonce = /'nonce-([^']+)'/.exec(csp)![1];
  expect(csp).not.toContain("unsafe-eval");
  expect(csp).toContain("frame-ancestors 'none'");
  const scripts = [...(await page.text()).matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
  expect(scripts.length).toBeGreaterThan(0);
  for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);

  const upload = new FormData();
  upload.append("file", new Blob([await fs.readFile(path.join(platform.workDir, "bad.onnx"))]), "bad.onnx");
  const answers = {
    page,
    api: await fetch(`${platform.baseUrl}/api/health`),
    upload: await fetch(`${platform.baseUrl}/submit/task2`, { method: "POST", body: upload, headers: { authorization: `Bearer ${platform.credentials.participant.token}` } }),
  };
  for (const [name, answer] of Object.entries(answers)) {
    expect(answer.headers.get("x-frame-options"), name).toBe("DENY");
    expect(answer.headers.get("x-content-type-options"), name).toBe("nosniff");
    expect(answer.headers.get("referrer-policy"), name).toBe("strict-origin-when-cross-origin");
    expect(answer.headers.get("strict-transport-security"), name).toBeNull();
  }
  expect(answers.api.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(answers.upload.status).toBe(422);
  expect(answers.upload.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
});
