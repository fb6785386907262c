#!/usr/bin/env node
// The `goat` command. In the repository (src/ present) it runs the TypeScript sources through tsx,
// so `npx goat` works right after `npm ci` with no build step; the published package ships only
// the compiled dist/ (see "files" and "prepack" in package.json) and runs that.
import { existsSync } from "node:fs";

const sources = new URL("../src/main.ts", import.meta.url);
if (existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(sources.href);
} else {
  await import(new URL("../dist/main.js", import.meta.url).href);
}
