import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// What a build would fail on first, caught without an engine: a COPY of a path that the build
// context (or the build stage) lacks. The builds themselves run in `npm run test:docker`.

const ROOT = path.resolve(__dirname, "../..");
/** What the build stages produce themselves: not in the repository, made by `npm ci` / `next build` / `prisma generate` / the worker's build. */
const BUILD_OUTPUTS = [/^\.next(\/|$)/, /^node_modules(\/|$)/, /^(contracts\/)?prisma\/generated(\/|$)/, /^worker\/dist(\/|$)/];

interface Copy {
  line: number;
  from: string | null;
  sources: string[];
}

function copies(dockerfile: string): Copy[] {
  return readFileSync(path.join(ROOT, dockerfile), "utf8")
    .split("\n")
    .map((text, index) => ({ text: text.trim(), line: index + 1 }))
    .filter(({ text }) => /^COPY\s/i.test(text))
    .map(({ text, line }) => {
      const words = text.split(/\s+/).slice(1);
      const from = words.find((word) => word.startsWith("--from="))?.slice("--from=".length) ?? null;
      const paths = words.filter((word) => !word.startsWith("--"));
      return { line, from, sources: paths.slice(0, -1) };
    });
}

/** A stage is one of this Dockerfile's own `FROM ... AS name` stages (not an external image). */
function stages(dockerfile: string): Set<string> {
  const text = readFileSync(path.join(ROOT, dockerfile), "utf8");
  return new Set([...text.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((match) => match[1]));
}

describe.each(["Dockerfile", "worker/Dockerfile"])("%s", (dockerfile) => {
  const own = stages(dockerfile);

  it("copies from the build context only paths that exist in the repository", () => {
    const missing = copies(dockerfile)
      .filter((copy) => copy.from === null)
      .flatMap((copy) => copy.sources.filter((source) => source !== "." && !existsSync(path.join(ROOT, source))).map((source) => `line ${copy.line}: ${source}`));
    expect(missing).toEqual([]);
  });

  it("copies from its own build stages only repository paths or what those stages build", () => {
    const missing = copies(dockerfile)
      .filter((copy) => copy.from !== null && own.has(copy.from))
      .flatMap((copy) =>
        copy.sources
          // Only the stage's copy of the repository (/app); other paths come from its base image.
          .filter((source) => source.startsWith("/app"))
          .map((source) => source.replace(/^\/app\/?/, ""))
          .filter((source) => source !== "" && !BUILD_OUTPUTS.some((output) => output.test(source)) && !existsSync(path.join(ROOT, source)))
          .map((source) => `line ${copy.line}: ${source}`),
      );
    expect(missing).toEqual([]);
  });
});
