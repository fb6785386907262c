import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";

// scripts/prune-standalone.mjs (run by scripts/build-web.sh): Next copies instrumentation.ts's trace,
// which holds the whole project, into the standalone folder without next.config.mjs's excludes.
const ROOT = path.resolve(__dirname, "../..");
let dir: string | undefined;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function write(relative: string) {
  const file = path.join(dir!, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, relative);
}

it("removes what next.config.mjs keeps out of every route (tests, benchmarks, the worker, docs, var/ with its datasets) and keeps the server, its packages and the app's code", () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "goat-standalone-"));
  const removed = ["tests/security/a.test.ts", "bench/load.bench.ts", "worker/src/main.ts", "docs/leaderboard.md", "var/data/task2/labels.npy", "var/storage/models/1.onnx", "tools/admin.ts", "scripts/demo.sh", "README.md", "Dockerfile", "docker-compose.workers.yml", ".ci/run"];
  const kept = ["server.js", "web-server.mjs", "package.json", ".next/server/app/page.js", "node_modules/pkg/README.md", "node_modules/pkg/tests/a.js", "public/favicon.svg", "lib/db.ts", "contracts/prisma/generated/client.js", "docs.json"];
  for (const file of [...removed, ...kept]) write(file);
  const output = execFileSync("node", [path.join(ROOT, "scripts/prune-standalone.mjs"), dir], { encoding: "utf8" });
  expect(output).toContain(`removed ${removed.length} files`);
  for (const file of removed) expect(fs.existsSync(path.join(dir, file)), file).toBe(false);
  for (const file of kept) expect(fs.existsSync(path.join(dir, file)), file).toBe(true);
  // Emptied folders go too.
  for (const folder of ["tests", "bench", "worker", "var", "docs", ".ci"]) expect(fs.existsSync(path.join(dir, folder)), folder).toBe(false);
});
