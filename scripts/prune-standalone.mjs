// Removes from the standalone folder what next.config.mjs `outputFileTracingExcludes` keeps out of
// the web server: `node scripts/prune-standalone.mjs .next/standalone` (scripts/build-web.sh runs it).
//
// Next applies those excludes to each route's trace, but copies instrumentation.ts's trace as it is
// (next/dist/build/utils.js, copyTracedFiles), and that trace holds the whole project: the tests,
// the benchmarks, the worker, the docs and, in a checkout that ran the demo, var/ with its datasets
// and stored models. The web server reads none of them (its code is in .next/server's chunks).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

process.removeAllListeners("warning"); // path.matchesGlob is experimental in Node 20
const standalone = path.resolve(process.argv[2] ?? ".next/standalone");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const config = (await import(pathToFileURL(path.join(root, "next.config.mjs")).href)).default;
const patterns = config.outputFileTracingExcludes?.["*"] ?? [];
if (patterns.length === 0) throw new Error("next.config.mjs names no outputFileTracingExcludes for every route (\"*\")");
/** Never pruned: Next's own output, the packages, the static files, the servers. */
const KEPT = new Set(["node_modules", ".next", "public", "server.js", "web-server.mjs", "package.json"]);

let files = 0;
let bytes = 0;
function prune(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const relative = path.relative(standalone, full);
    if (dir === standalone && KEPT.has(entry.name)) continue;
    if (entry.isDirectory()) {
      prune(full);
      if (fs.readdirSync(full).length === 0) fs.rmdirSync(full);
    } else if (patterns.some((pattern) => path.matchesGlob(relative, pattern))) {
      bytes += fs.lstatSync(full).size;
      fs.rmSync(full);
      files++;
    }
  }
}
prune(standalone);
console.log(`[build] removed ${files} files (${(bytes / 1e6).toFixed(1)} MB) that next.config.mjs keeps out of the web server from ${path.relative(root, standalone) || "."}`);
