import os from "node:os";
import { commitId } from "../../scripts/commit-id.mjs";

/** What every benchmark prints: min / median / max of repeated runs, the date, the commit and the machine. */
export function sortedValues(values: number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

export function median(values: number[]): number {
  const sorted = sortedValues(values);
  return sorted[Math.floor(sorted.length / 2)];
}

export function spread(values: number[], digits = 1): { min: string; median: string; max: string } {
  const sorted = sortedValues(values);
  return { min: sorted[0].toFixed(digits), median: median(sorted).toFixed(digits), max: sorted[sorted.length - 1].toFixed(digits) };
}

/** The checkout's commit, "+changes" when tracked files differ from it (scripts/commit-id.mjs). */
export function currentCommit(): string {
  return commitId();
}

/** One line naming the moment, the code and the machine the figures belong to. */
export function benchContext(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  return `date ${new Date().toISOString()}  commit ${currentCommit()}  node ${process.version}  ${os.availableParallelism()} cores (${cpu})  load average ${os.loadavg()[0].toFixed(1)}`;
}

/** A Markdown table, columns padded so that it reads in a terminal too. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
