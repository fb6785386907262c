import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "./platform";

/**
 * Debian's chromium driven by playwright-core (docs/architecture.md, "Constraints found by trying"): `npx playwright install`
 * downloads browsers and fails here, so the system binary is used with a fresh profile per launch.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR = path.join(ROOT, "test-results", "screenshots");

export interface Browser {
  context: BrowserContext;
  /** a new tab in this browser (its own page, the same cookies) */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * One browser profile = one visitor: its cookies (the session) are its own. `javaScriptEnabled:
 * false` shows a page as the server sent it, as a visitor sees it before hydration.
 */
export async function launchBrowser(options: { viewport?: { width: number; height: number }; timezoneId?: string; javaScriptEnabled?: boolean } = {}): Promise<Browser> {
  const profileDir = await fs.mkdtemp(path.join(os.tmpdir(), "goat-chromium-"));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    timezoneId: options.timezoneId,
    javaScriptEnabled: options.javaScriptEnabled,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  context.setDefaultTimeout(20_000);
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close().catch(() => undefined);
      await fs.rm(profileDir, { recursive: true, force: true });
    },
  };
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** Visitors for one test file: each page opened is a fresh browser profile (its own session); closeAll ends them. */
export function visitors() {
  const browsers: Browser[] = [];
  return {
    async open(viewport: { width: number; height: number }): Promise<Page> {
      const browser = await launchBrowser({ viewport });
      browsers.push(browser);
      return browser.newPage();
    },
    async closeAll(): Promise<void> {
      for (const browser of browsers.splice(0)) await browser.close();
    },
  };
}

/** Saves a full-page PNG as test-results/screenshots/{name}.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await fs.mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9-_]+/gi, "-")}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: "disabled" });
  return file;
}

/** Signs in through the sign-in page and waits until it has sent the browser on to `next`. */
export async function signIn(page: Page, baseUrl: string, who: { email: string; password: string }, next: string): Promise<void> {
  await page.goto(`${baseUrl}/signin?next=${encodeURIComponent(next)}`);
  await page.fill("#email", who.email);
  await page.fill("#password", who.password);
  await page.click("button[type=submit]");
  await page.waitForURL(`${baseUrl}${next}`);
}

/** The page's serious and critical axe violations, as "rule: target (help)" lines (empty when clean). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .flatMap((violation) => violation.nodes.map((node) => `${violation.id}: ${node.target.join(" ")} (${violation.help})`));
}
