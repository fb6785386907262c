// The commit that a build or a benchmark's figures come from: `git rev-parse --short HEAD`, with
// "+changes" when tracked files differ from it, or "unknown" without git (the Docker build's context
// has no .git). `node scripts/commit-id.mjs` prints it (scripts/build-web.sh writes it to the
// standalone folder's BUILD_COMMIT); bench/support/report.ts imports it for every benchmark's table.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The commit of the checkout at `cwd` (this process's folder by default). */
export function commitId(cwd = process.cwd()) {
  const git = (args) => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    const commit = git(["rev-parse", "--short", "HEAD"]);
    return git(["status", "--porcelain", "--untracked-files=no"]) ? `${commit}+changes` : commit;
  } catch {
    return "unknown";
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) console.log(commitId());
