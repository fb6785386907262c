import fs from "node:fs";
import { buildWorker } from "../../support/built-worker";
import { buildAppOnce } from "./build-app";

/**
 * vitest globalSetup of the e2e project: one `npm run build` (and one worker build) per run, before any e2e file starts;
 * its copy's directory reaches the test files as GOAT_E2E_APP_DIR (they inherit this environment).
 */
export default async function setup() {
  buildWorker();
  const appDir = await buildAppOnce();
  return () => {
    if (!process.env.GOAT_KEEP_TEST_FILES) fs.rmSync(appDir, { recursive: true, force: true });
  };
}
