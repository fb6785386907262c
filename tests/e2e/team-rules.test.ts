import { randomBytes } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DESKTOP, PHONE, screenshot, seriousViolations, signIn, visitors } from "./support/browser";
import { startPlatform, type Platform } from "./support/platform";

// The team rules in a real browser against the built app (docs/ranking.md, "Teams and daily
// quota"): an organiser sets the maximum team size and a task's team merge deadline; the team page
// refuses a join over the size and a join or leave past the deadline with a message that says why.
// Screenshots: test-results/screenshots/team-rules-*-{viewport}.png.

const run = randomBytes(3).toString("hex");
let platform: Platform;
const people = visitors();
const open = (viewport: { width: number; height: number }) => people.open(viewport);

async function signUp(page: Page, name: string): Promise<void> {
  await page.goto(`${platform.baseUrl}/signup`);
  await page.fill("#name", name);
  await page.fill("#email", `${name.toLowerCase()}-${run}@example.org`);
  await page.fill("#password", `${name.toLowerCase()}-password-1`);
  await page.fill("#confirmPassword", `${name.toLowerCase()}-password-1`);
  await page.click("button[type=submit]");
  await page.waitForURL(`${platform.baseUrl}/team`);
  await page.getByText("You are in no team yet").waitFor();
}

async function joinWithCode(page: Page, code: string): Promise<void> {
  await page.fill("#invite-code", code);
  await page.getByRole("button", { name: "Join team" }).click();
}

/** "2026-11-29T13:05" in UTC, as the task editor's datetime-local fields take it. */
function utcField(date: Date): string {
  return date.toISOString().slice(0, 16);
}

beforeAll(async () => {
  platform = await startPlatform({ workers: 0 });
}, 600_000);

afterAll(async () => {
  await people.closeAll();
  await platform?.stop();
});

it("a join over the maximum team size is refused with the team's size and the limit", async () => {
  const organiser = await open(DESKTOP);
  await signIn(organiser, platform.baseUrl, platform.credentials.admin, "/admin/users");
  await organiser.fill("#max-team-size", "2");
  await organiser.getByRole("button", { name: "Save" }).click();
  await organiser.getByText("Teams may have at most 2 members now.").waitFor();

  const ned = await open(DESKTOP);
  await signUp(ned, "Ned");
  await ned.fill("#team-name", `Nedlings ${run}`);
  await ned.getByRole("button", { name: "Create team" }).click();
  await ned.getByTestId("invite-code").waitFor();
  expect(await ned.getByRole("heading", { name: /^Members/ }).textContent()).toBe("Members (1 of at most 2)");
  expect(await ned.getByTestId("team-size-rule").textContent()).toBe("A team has at most 2 members.");
  const code = (await ned.getByTestId("invite-code").textContent())!.trim();

  const pia = await open(PHONE);
  await signUp(pia, "Pia");
  await joinWithCode(pia, code);
  await pia.getByTestId("team-members").waitFor();

  for (const [viewport, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    const quinn = await open(size);
    await signUp(quinn, `Quinn${viewport}`);
    await joinWithCode(quinn, code);
    const refusal = quinn.getByRole("alert").filter({ hasText: "is full" });
    await refusal.waitFor();
    expect(await refusal.textContent()).toBe(`"Nedlings ${run}" is full: it has 2 members and the organisers allow at most 2 per team.`);
    expect(await quinn.getByTestId("team-members").count()).toBe(0);
    expect(await seriousViolations(quinn)).toEqual([]);
    await screenshot(quinn, `team-rules-full-${viewport}`);

    // The invite link says so before anyone presses a button.
    await quinn.goto(`${platform.baseUrl}/team/join/${encodeURIComponent(code)}`);
    expect(await quinn.getByTestId("invite-team-full").textContent()).toContain(`"Nedlings ${run}" is full`);
    expect(await quinn.getByTestId("join-by-link").count()).toBe(0);
  }
}, 300_000);

it("past task2's team merge deadline the demo team can neither lose nor take members, and the page says which task closed it", async () => {
  const organiser = await open(DESKTOP);
  await signIn(organiser, platform.baseUrl, platform.credentials.admin, "/admin/tasks/task2");
  const deadline = new Date(Date.now() - 3600_000);
  await organiser.fill("#task-teamMergeDeadline", utcField(deadline));
  await organiser.getByRole("button", { name: "Save", exact: true }).click();
  expect(await organiser.getByTestId("task-form-status").textContent()).toContain("Saved.");

  // A newcomer (no submissions) tries the demo team's code: it has submitted to task2.
  const newcomer = await open(PHONE);
  await signUp(newcomer, "Rita");
  await joinWithCode(newcomer, platform.credentials.participant.inviteCode);
  const refusal = newcomer.getByRole("alert").filter({ hasText: "You cannot join" });
  await refusal.waitFor();
  expect(await refusal.textContent()).toMatch(
    /^You cannot join "Demo Team" now: team changes for the task "Handwritten digits \(MNIST\)" closed on \d+ \w+ \d{4}, \d\d:\d\d UTC, and that team has submitted to it\. They stay closed until the task ends; ask the organisers if you must change teams\.$/,
  );
  await screenshot(newcomer, "team-rules-join-closed-phone");

  // Alice, of the demo team: no Leave button, the reason instead, and the task's deadline listed.
  for (const [viewport, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    const alice = await open(size);
    await signIn(alice, platform.baseUrl, platform.credentials.participant, "/team");
    const notice = await alice.getByTestId("team-changes-closed").textContent();
    expect(notice).toMatch(/^Team changes are closed for you: the team merge deadline of Handwritten digits \(MNIST\) passed on .+, and you have submitted to it\./);
    expect(await alice.getByRole("button", { name: "Leave team" }).count()).toBe(0);
    expect(await alice.getByTestId("merge-deadlines").textContent()).toContain("Handwritten digits (MNIST): team changes closed");
    expect(await alice.getByTestId("team-size-rule").textContent()).toBe("A team has at most 2 members.");
    expect(await seriousViolations(alice)).toEqual([]);
    const width = await alice.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(size.width);
    await screenshot(alice, `team-rules-closed-${viewport}`);
  }
}, 300_000);
