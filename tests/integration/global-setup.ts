import { buildWorker } from "../support/built-worker";
import { createIsolatedEnvironment } from "../support/isolated-environment";

/**
 * One fresh Postgres database, one Redis key prefix and fresh storage/data directories per test run
 * (tests/support/isolated-environment.ts), so runs never collide with each other or with the demo's
 * data. GOAT_KEEP_TEST_FILES=1 keeps the run's files for a post-mortem. The worker is built once
 * (tests/support/built-worker.ts): the tests start it as production does.
 */
export default async function setup() {
  buildWorker();
  const environment = await createIsolatedEnvironment("test", { EVALUATION_BACKOFF_MS: "200" });
  process.env.GOAT_TEST_ROOT = environment.root;
  return () => environment.dispose({ keepFiles: Boolean(process.env.GOAT_KEEP_TEST_FILES) });
}
