import { describe, expect, it } from "vitest";
import { loadWorkerEnv } from "../../worker/src/env";
import { childMallocEnv, hostTransparentHugePages, parseTransparentHugePages } from "../../worker/src/sandbox/huge-pages";

// Whether a sandbox child's malloc heap asks for transparent huge pages (worker/src/sandbox/huge-pages.ts):
// SANDBOX_HUGE_PAGES and the kernel's THP mode, read from /sys/kernel/mm/transparent_hugepage/enabled.
// The child's real heap in huge pages: tests/integration/sandbox.test.ts.
const load = (vars: Record<string, string>) => loadWorkerEnv(vars as unknown as NodeJS.ProcessEnv);

describe("SANDBOX_HUGE_PAGES", () => {
  it("is auto when unset; auto or off when set", () => {
    expect(load({}).SANDBOX_HUGE_PAGES).toBe("auto");
    expect(load({ SANDBOX_HUGE_PAGES: "off" }).SANDBOX_HUGE_PAGES).toBe("off");
  });

  it.each(["on", "yes", "1", ""])("refuses %j", (value) => {
    expect(() => load({ SANDBOX_HUGE_PAGES: value })).toThrow(/SANDBOX_HUGE_PAGES/);
  });
});

describe("the kernel's THP mode", () => {
  it.each<[text: string, mode: string | undefined]>([
    ["always [madvise] never\n", "madvise"],
    ["[always] madvise never\n", "always"],
    ["always madvise [never]\n", "never"],
    ["", undefined],
    ["always madvise never\n", undefined],
  ])("reads %j as %s", (text, mode) => {
    expect(parseTransparentHugePages(text)).toBe(mode);
    expect(hostTransparentHugePages(() => text)).toBe(mode);
  });

  it("is unknown where the file cannot be read (no THP in the kernel, not Linux)", () => {
    const missing = () => {
      throw Object.assign(new Error("ENOENT: no such file or directory"), { code: "ENOENT" });
    };
    expect(hostTransparentHugePages(missing)).toBeUndefined();
  });
});

describe("the child's malloc tunable", () => {
  it("asks for huge pages where the setting is auto and the kernel gives them (always, or to those who ask: madvise)", () => {
    expect(childMallocEnv("auto", "madvise")).toEqual({ GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" });
    expect(childMallocEnv("auto", "always")).toEqual({ GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" });
  });

  it("asks for nothing when off, where THP is never, or where the mode is unknown", () => {
    expect(childMallocEnv("off", "madvise")).toEqual({});
    expect(childMallocEnv("off", "always")).toEqual({});
    expect(childMallocEnv("auto", "never")).toEqual({});
    expect(childMallocEnv("auto", undefined)).toEqual({});
  });
});
