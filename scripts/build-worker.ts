// The worker's build (`npm run worker:build`; `npm run worker` and worker/Dockerfile run it): the
// worker as plain JavaScript, started with `node worker/dist/main.mjs`, no tsx.
//
// - worker/dist/main.mjs: worker/src/main.ts and the code of ours it imports (@goat/contracts, the
//   generated Prisma client) in one ES module; packages stay imports, resolved from node_modules.
// - worker/dist/sandbox-child.cjs: the sandbox child, bundled as the worker bundles it at start
//   when it runs from its sources (worker/src/sandbox/child-bundle.ts); onnxruntime-node's native
//   binding is found from the bundle's place when the child starts, so worker/dist may move with
//   the node_modules above it.
//
// Under tsx, each worker held ~40 MB more and took ~0.6 s more to start (tsx's loader compiling
// every module, and esbuild's service for the child's bundle); docs/performance.md.
import { readFileSync } from "node:fs";
import path from "node:path";
import { build, type Plugin } from "esbuild";
import { bundleSandboxChild, writeAtomically } from "../worker/src/sandbox/child-bundle";

const ROOT = path.resolve(import.meta.dirname, "..");
const OUT = path.join(ROOT, "worker", "dist");
const CHILD_FILE = "sandbox-child.cjs";

/** Bare imports stay imports (packages from node_modules), except our own workspace package, bundled from its TypeScript. */
const packagesExternal: Plugin = {
  name: "packages-external",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path === "@goat/contracts" || args.path.startsWith("@goat/contracts/") ? undefined : { path: args.path, external: true },
    );
  },
};

const started = performance.now();
writeAtomically(path.join(OUT, CHILD_FILE), bundleSandboxChild(path.join(ROOT, "worker/src/sandbox/child.ts")));
const result = await build({
  entryPoints: [path.join(ROOT, "worker/src/main.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  write: false,
  plugins: [packagesExternal],
  // child-bundle.ts's sandboxChildEntry(): the child built above, beside this file.
  define: { GOAT_BUILT_SANDBOX_CHILD: JSON.stringify(`./${CHILD_FILE}`) },
  logLevel: "warning",
});
writeAtomically(path.join(OUT, "main.mjs"), result.outputFiles[0].text);
const size = (file: string) => `${(readFileSync(path.join(OUT, file)).length / 1024).toFixed(0)} KB`;
console.log(`worker built in ${Math.round(performance.now() - started)} ms: worker/dist/main.mjs (${size("main.mjs")}), worker/dist/${CHILD_FILE} (${size(CHILD_FILE)})`);
