import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { commitId } from "../../scripts/commit-id.mjs";

// scripts/commit-id.mjs: what BUILD_COMMIT (scripts/build-web.sh) and every benchmark's table name.
let dir: string | undefined;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: dir, encoding: "utf8" }).trim();

it("names the checkout's short commit, +changes while a tracked file differs from it (not for an untracked one), unknown outside git", () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "goat-commit-id-"));
  expect(commitId(dir)).toBe("unknown");
  git("init", "-q");
  fs.writeFileSync(path.join(dir, "a.txt"), "one");
  git("add", "a.txt");
  git("commit", "-qm", "one");
  const short = git("rev-parse", "--short", "HEAD");
  expect(commitId(dir)).toBe(short);
  fs.writeFileSync(path.join(dir, "new.txt"), "untracked");
  expect(commitId(dir)).toBe(short);
  fs.writeFileSync(path.join(dir, "a.txt"), "two");
  expect(commitId(dir)).toBe(`${short}+changes`);
  // The command line prints the same for the folder it runs in.
  expect(execFileSync("node", [path.resolve(__dirname, "../../scripts/commit-id.mjs")], { cwd: dir, encoding: "utf8" }).trim()).toBe(`${short}+changes`);
});
