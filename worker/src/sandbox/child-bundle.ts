import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { onnxruntimeBindingsRoot, onnxruntimePackageDir } from "../onnx/execution-provider";

/**
 * How to start the sandbox child: `node <file> [execArgv]`.
 *
 * The child is TypeScript. Under `--import tsx` a child needs ~450 ms more to start than
 * plain Node (tsx's loader and esbuild service, measured: 0.6-1.0 s to `ready` instead of
 * ~0.2 s), which a spare hides only when evaluations are more than a second apart. So the
 * child is bundled once per worker, with esbuild (tsx's own dependency), into one CommonJS
 * file and started with plain Node.
 *
 * onnxruntime-node's JavaScript (and onnxruntime-common's) is in the bundle; only its native
 * binding stays a file, found from the bundle's place at start. Every child starts, so every child
 * paid for Node's ESM loader and for resolving and reading those packages' ~40 modules:
 * ~50 ms of CPU per child (a spare took 260-270 ms of CPU to be ready, 200-210 ms since,
 * measured alternately on 2 cores), which back-to-back evaluations on a small host pay in
 * full (`npm run bench`, (b)). The bundle is written under node_modules/.cache (the built
 * worker's, in worker/dist), so the child's own `require.resolve("onnxruntime-node/...")` (its
 * binding, the CUDA provider's lookup) works from there as from the sources. Where esbuild or that folder is missing, the child runs
 * under tsx and `fallback` says why.
 */
export interface ChildLaunch {
  entry: string;
  execArgv: string[];
  bundled: boolean;
  /** Why the child is not bundled, where bundling was tried and failed (the pool logs it). */
  fallback?: string;
}

type EsbuildModule = typeof import("esbuild");

const require = createRequire(import.meta.url);

/**
 * Defined by the built worker's bundle (scripts/build-worker.ts) as its child's file, relative to
 * the bundle; undeclared where the worker runs from its sources.
 */
declare const GOAT_BUILT_SANDBOX_CHILD: string | undefined;

/**
 * The child the pool starts by default: the built worker's child, bundled with it at build time
 * (no esbuild or tsx at start), else the sources, bundled at start by prepareChildLaunch.
 */
export function sandboxChildEntry(): string {
  return fileURLToPath(new URL(typeof GOAT_BUILT_SANDBOX_CHILD === "string" ? GOAT_BUILT_SANDBOX_CHILD : "./child.ts", import.meta.url));
}

export function prepareChildLaunch(entry: string): ChildLaunch {
  // JavaScript already (the built worker's child, scripts/build-worker.ts): started as it is.
  if (!/\.[cm]?ts$/.test(entry)) return { entry, execArgv: [], bundled: false };
  const tsx: ChildLaunch = { entry, execArgv: ["--import", tsxImportUrl()], bundled: false };
  if (process.env.GOAT_SANDBOX_TSX === "1") return tsx;
  try {
    const code = bundleSandboxChild(entry);
    const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
    const file = path.join(path.dirname(onnxruntimePackageDir()), ".cache", "mls-goat-sandbox", `child-${hash}.cjs`);
    if (!existsSync(file)) writeAtomically(file, code);
    return { entry: file, execArgv: [], bundled: true };
  } catch (e) {
    return { ...tsx, fallback: bundlingFailure(e) };
  }
}

/**
 * The child's sources as the code of one CommonJS file, onnxruntime's JavaScript inside and its
 * native binding found from the bundle's place (withNativeBindingFoundAtStart): what prepareChildLaunch keeps
 * under node_modules/.cache and what the built worker ships beside its own bundle
 * (scripts/build-worker.ts). Throws esbuild's error where the sources cannot be bundled.
 */
export function bundleSandboxChild(entry: string): string {
  const esbuild = require("esbuild") as EsbuildModule;
  const result = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    write: false,
    external: ["*.node"],
    // The sources are ES modules; in CommonJS `import.meta.url` is this file's URL.
    define: { "import.meta.url": "__goatImportMetaUrl" },
    banner: { js: `const __goatImportMetaUrl = require("node:url").pathToFileURL(__filename).href;\n${BINDINGS_BANNER}` },
    logLevel: "silent",
  });
  return withNativeBindingFoundAtStart(result.outputFiles[0].text);
}

/** Written then renamed into place: several workers (or builds) on one host may write it at once. */
export function writeAtomically(file: string, code: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, file);
}

/** esbuild's first error with its place ("Build failed with 1 error" alone says nothing), else the message. */
function bundlingFailure(e: unknown): string {
  const first = (e as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors?.[0];
  if (first) return first.location ? `${first.location.file}:${first.location.line}: ${first.text}` : first.text;
  return (e as Error).message.split("\n")[0];
}

/** The tsx loader, resolved from here so the child starts the same from any working directory. */
function tsxImportUrl(): string {
  const { pathToFileURL } = require("node:url") as typeof import("node:url");
  return pathToFileURL(require.resolve("tsx")).href;
}

/**
 * The bundle's first line: where onnxruntime-node's bindings are, as Node resolves the package from
 * the bundle's own place when the child first asks (the CUDA provider's lookup resolves it the same
 * way, onnxruntimeBindingDir), so a bundle works wherever a node_modules above it holds the package:
 * under node_modules/.cache, in worker/dist, in a checkout or image moved elsewhere.
 */
const BINDINGS_BANNER = `const __goatOnnxruntimeBindings = () => require("node:path").join(require("node:path").dirname(require.resolve("onnxruntime-node/package.json")), ${JSON.stringify(onnxruntimeBindingsRoot(""))});`;

/**
 * onnxruntime-node requires its native binding by a path relative to its own file
 * (`../bin/napi-v6/<platform>/<arch>/onnxruntime_binding.node`), which esbuild keeps relative; the
 * bundle lives elsewhere, so those paths are joined to the package's place found at start
 * (BINDINGS_BANNER). A native addon still required by a relative path after that (another layout
 * of the package) would fail in every child: refused.
 */
export function withNativeBindingFoundAtStart(code: string): string {
  const rewritten = code.replaceAll('require("../bin/napi-v6/', 'require(__goatOnnxruntimeBindings() + "/');
  const relative = /require\("\.\.?\/[^"]*\.node"\)/.exec(rewritten);
  if (relative) throw new Error(`the bundle would load a native addon by a relative path: ${relative[0]}`);
  return rewritten;
}
