import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CHILD_UIDS, inUidRange, planIsolation, sandboxChildEnv, sandboxHiddenPaths } from "../../worker/src/sandbox/isolation";

const root = mkdtempSync(path.join(os.tmpdir(), "goat-plan-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the sandbox child's isolation plan", () => {
  it("keeps only onnxruntime's variables of the worker's environment", () => {
    const env = sandboxChildEnv({ NODE_ENV: "production", DATABASE_URL: "postgres://secret", NEXTAUTH_SECRET: "s", PATH: "/usr/bin", HOME: "/root", CUDA_VISIBLE_DEVICES: "0", LD_LIBRARY_PATH: "/opt/cuda" });
    expect(env).toEqual({ CUDA_VISIBLE_DEVICES: "0", LD_LIBRARY_PATH: "/opt/cuda" });
  });

  it("never hides a folder that holds what the child needs, and says so", () => {
    const data = path.join(root, "data");
    const models = path.join(root, "private");
    mkdirSync(data);
    mkdirSync(models);
    const plan = planIsolation({ hidePaths: [data, root, path.join(root, "missing")], keepPaths: [models] });
    expect(plan.warnings.some((w) => w.includes(`${root} holds files the sandbox child needs`))).toBe(true);
    if (plan.network === "namespace" && plan.hiddenPaths.length > 0) expect(plan.hiddenPaths).toEqual([data]);
  });

  it("wraps the child in setpriv, and its launcher in unshare, where the host allows, with absolute program paths", () => {
    const hidden = path.join(root, "hidden");
    mkdirSync(hidden);
    const plan = planIsolation({ hidePaths: [hidden] });
    const child = plan.wrap("/usr/bin/node", ["child.mjs"]);
    const launcher = plan.wrapLauncher("/usr/bin/node", ["-e", "launcher"]);
    for (const { command, args } of [child, launcher]) {
      expect(path.isAbsolute(command)).toBe(true);
      expect(args.slice(-2)).toEqual(args === child.args ? ["/usr/bin/node", "child.mjs"] : ["-e", "launcher"]);
    }
    if (plan.network === "host") return; // no namespaces on this host (warned)
    // One program in front of node per child: the namespaces are made once, by the launcher's wrappers.
    expect([child.command, ...child.args].filter((arg) => arg.startsWith("/"))).toEqual([child.command, "/usr/bin/node"]);
    expect(path.basename(child.command)).toBe("setpriv");
    const unshare = launcher.args.indexOf(launcher.args.find((arg) => path.basename(arg) === "unshare")!);
    expect(launcher.args.slice(unshare + 1, unshare + 3)).toEqual(plan.hiddenPaths.length > 0 ? ["--net", "--mount"] : ["--net", "--"]);
    if (plan.hiddenPaths.length > 0) expect(launcher.args).toContain(hidden);
  });

  it("gives each child a uid of its own when the worker is root (none where it is not)", () => {
    const plan = planIsolation({});
    const wrapped = Array.from({ length: 5 }, () => plan.wrap("/usr/bin/node", ["child.mjs"]));
    if (process.getuid?.() !== 0) {
      expect(plan.uids).toBeUndefined();
      expect(wrapped.map((w) => w.uid)).toEqual([undefined, undefined, undefined, undefined, undefined]);
      return;
    }
    expect(plan.uids).toEqual(CHILD_UIDS); // setpriv takes them here
    const uids = wrapped.map((w) => w.uid!);
    expect(new Set(uids).size).toBe(5);
    for (const [i, uid] of uids.entries()) {
      expect(inUidRange(CHILD_UIDS, uid)).toBe(true);
      expect(wrapped[i].args).toContain(`--reuid=${uid}`);
      expect(wrapped[i].args).toContain("--regid=65534"); // nobody's group
    }
    expect(inUidRange(CHILD_UIDS, CHILD_UIDS.first - 1)).toBe(false);
    expect(inUidRange(CHILD_UIDS, CHILD_UIDS.first + CHILD_UIDS.count)).toBe(false);
  });

  it("hides the dataset folder and where models lie: the storage folder, or S3's download folder", () => {
    expect(sandboxHiddenPaths({ DATA_DIR: "/d", STORAGE_BACKEND: "directory", STORAGE_DIR: "/s" })).toEqual(["/d", "/s"]);
    expect(sandboxHiddenPaths({ DATA_DIR: "/d", STORAGE_BACKEND: "s3", STORAGE_DIR: "/s", S3_DOWNLOAD_DIR: "/dl" })).toEqual(["/d", "/dl"]);
  });
});
