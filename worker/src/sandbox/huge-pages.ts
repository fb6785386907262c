import { readFileSync } from "node:fs";

/**
 * Transparent huge pages for the sandbox child's malloc heap.
 *
 * A sandbox child is a new process per evaluation, and every page it touches for the first time
 * is a page fault: ~7,000-8,000 per tiny evaluation (Node's start, onnxruntime's environment and
 * sessions, the input batches). On a virtual machine a fault is costly (15 µs per 4 KB page
 * measured on 2026-12-02's 2-core VM, against ~0.3 µs per 4 KB when the same memory comes in
 * 2 MB pages), so on such hosts the faults were a third of a child's CPU. glibc's
 * `glibc.malloc.hugetlb=1` tunable (glibc 2.35+; older glibc ignores it) makes malloc ask the
 * kernel for transparent huge pages (`madvise(MADV_HUGEPAGE)`) on its heap and on its large
 * mmapped blocks: onnxruntime's allocations and Node's large buffers (the input batches, the
 * outputs) come in 2 MB pages. It changes no result; it only needs the kernel's THP to be
 * `always` or `madvise` (/sys/kernel/mm/transparent_hugepage/enabled).
 *
 * The cost: a child's resident memory grows in 2 MB steps where its heap does, and where the host's
 * memory is fragmented and THP's defrag is `madvise` (the usual default) a fault may wait for the
 * kernel to compact memory. `SANDBOX_HUGE_PAGES=off` (worker setting) turns it off.
 * Measured with `npm run bench`, (b): docs/performance.md, "Page faults".
 */
export type HugePagesSetting = "auto" | "off";

export type TransparentHugePages = "always" | "madvise" | "never";

const THP_ENABLED = "/sys/kernel/mm/transparent_hugepage/enabled";

/** The selected mode in the kernel's THP file ("always [madvise] never"); undefined where it cannot be read or parsed. */
export function parseTransparentHugePages(text: string): TransparentHugePages | undefined {
  const selected = /\[(always|madvise|never)\]/.exec(text)?.[1];
  return selected as TransparentHugePages | undefined;
}

/** This host's THP mode; undefined where the kernel has none (not Linux, THP not built in). */
export function hostTransparentHugePages(read: () => string = () => readFileSync(THP_ENABLED, "utf8")): TransparentHugePages | undefined {
  try {
    return parseTransparentHugePages(read());
  } catch {
    return undefined;
  }
}

/** The malloc tunable a sandbox child starts with: huge pages where the setting allows them and the kernel gives them. */
export function childMallocEnv(setting: HugePagesSetting, thp: TransparentHugePages | undefined): Record<string, string> {
  if (setting === "off" || thp === undefined || thp === "never") return {};
  return { GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" };
}
