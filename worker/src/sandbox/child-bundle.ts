import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/**
 * How to start the sandbox child: `node <file> [execArgv]`.
 *
 * The child is TypeScript. Under `--import tsx` a child needs ~450 ms more to start than
 * plain Node (tsx's loader and esbuild service, measured: 0.6-1.0 s to `ready` instead of
 * ~0.2 s), which a spare hides only when evaluations are more than a second apart. So the
 * child is bundled once per worker, with esbuild (tsx's own dependency), into one plain .mjs
 * file and started with plain Node. onnxruntime-node stays external (a native addon); the
 * bundle is written under node_modules/.cache so Node resolves it from there like from
 * the sources. Where esbuild or that folder is missing, the child runs under tsx.
 */
export interface ChildLaunch {
  entry: string;
  execArgv: string[];
  bundled: boolean;
}

type EsbuildModule = typeof import("esbuild");

const require = createRequire(import.meta.url);

export function prepareChildLaunch(entry: string): ChildLaunch {
  if (!/\.[cm]?ts$/.test(entry)) return { entry, execArgv: [], bundled: false };
  const tsx: ChildLaunch = { entry, execArgv: ["--import", tsxImportUrl()], bundled: false };
  if (process.env.GOAT_SANDBOX_TSX === "1") return tsx;
  try {
    const esbuild = require("esbuild") as EsbuildModule;
    const result = esbuild.buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      external: ["onnxruntime-node", "onnxruntime-common"],
      logLevel: "silent",
      // Bundled CommonJS (zod's helpers, if any) may call require(); give ESM one.
      banner: { js: 'import { createRequire as __goatCreateRequire } from "node:module"; const require = __goatCreateRequire(import.meta.url);' },
    });
    const code = result.outputFiles[0].contents;
    const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
    const cacheDir = path.join(path.dirname(path.dirname(require.resolve("onnxruntime-node/package.json"))), ".cache", "mls-goat-sandbox");
    const file = path.join(cacheDir, `child-${hash}.mjs`);
    if (!existsSync(file)) {
      mkdirSync(cacheDir, { recursive: true });
      // Write then rename: several workers on one host may bundle at once.
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, file);
    }
    return { entry: file, execArgv: [], bundled: true };
  } catch {
    return tsx;
  }
}

/** The tsx loader, resolved from here so the child starts the same from any working directory. */
function tsxImportUrl(): string {
  const { pathToFileURL } = require("node:url") as typeof import("node:url");
  return pathToFileURL(require.resolve("tsx")).href;
}
