import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Builds the web app (`npm run build`: scripts/build-web.sh) once for the whole e2e run: vitest's globalSetup for the e2e
 * project calls this before any e2e file starts, so several files share one build. Skipped with
 * GOAT_E2E_SKIP_BUILD=1 (a build from an earlier run is reused). A lock directory keyed by the
 * checkout keeps two e2e runs in the same checkout from building at the same time.
 *
 * The build is then copied out of `.next/` (the standalone folder with web-server.mjs, as the Docker image runs it):
 * anyone else's `next build` or `npm run demo` in the same checkout rewrites `.next/` and would
 * pull the build from under a running test ("Could not find a production build").
 */
const ROOT = path.resolve(__dirname, "../../..");
const LOCK_STALE_MS = 15 * 60_000;

function lockDir(): string {
  const key = ROOT.replace(/[^a-z0-9]+/gi, "_");
  return path.join(os.tmpdir(), `goat-next-build-${key}.lock`);
}

async function acquireBuildLock(): Promise<() => void> {
  const dir = lockDir();
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      fs.mkdirSync(dir);
      return () => fs.rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const age = Date.now() - fs.statSync(dir, { throwIfNoEntry: false })!.mtimeMs;
      // A build that crashed without releasing the lock must not block every later run.
      if (Number.isFinite(age) && age > LOCK_STALE_MS) fs.rmSync(dir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another next build holds ${dir}; remove it if no build is running`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** Copies the built app (the standalone folder, which scripts/build-web.sh makes whole) to `target` (a run's own copy). */
function snapshotBuild(target: string): void {
  const standalone = path.join(ROOT, ".next", "standalone");
  if (!fs.existsSync(path.join(standalone, "web-server.mjs"))) {
    throw new Error(`no built web app in ${standalone}: run \`npm run build\` (scripts/build-web.sh)`);
  }
  fs.rmSync(target, { recursive: true, force: true });
  execFileSync("cp", ["-a", standalone, target]);
}

/** Builds (unless skipped), snapshots the build and returns the snapshot's directory (holding web-server.mjs). */
export async function buildAppOnce(): Promise<string> {
  if (process.env.GOAT_E2E_APP_DIR) return process.env.GOAT_E2E_APP_DIR;
  const target = fs.mkdtempSync(path.join(os.tmpdir(), "goat-e2e-app-"));
  const release = await acquireBuildLock();
  try {
    if (process.env.GOAT_E2E_SKIP_BUILD === "1") {
      snapshotBuild(target);
      process.env.GOAT_E2E_APP_DIR = target;
      return target;
    }
    const started = Date.now();
    try {
      execFileSync("bash", ["scripts/build-web.sh"], { cwd: ROOT, stdio: "pipe", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
    } catch (error) {
      const failure = error as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(`npm run build failed:\n${failure.stdout?.toString() ?? ""}\n${failure.stderr?.toString() ?? ""}`);
    }
    console.log(`[e2e] npm run build took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    snapshotBuild(target);
    process.env.GOAT_E2E_APP_DIR = target;
    return target;
  } finally {
    release();
  }
}
