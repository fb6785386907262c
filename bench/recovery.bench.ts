// Recovery times, measured: `npm run bench:recovery`. Runs the chaos suite (tests/chaos/: kill -9,
// three kills under one name, Redis restarted empty and flushed, a Postgres outage, against private
// Postgres and Redis with two workers and 30 submissions in flight) BENCH_REPS times (default 3)
// and prints issue 13's table with min / median / max of each fault's recovery, the date and the
// commit. Every run also asserts that nothing was lost or scored twice.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { currentCommit } from "./support/report";

const REPS = Number(process.env.BENCH_REPS ?? 3);
const GOALS: [prefix: string, goal: string][] = [
  ["kill -9 of a worker", "<= 15 s"],
  ["the same submission's worker killed 3 times", "<= 45 s"],
  ["Redis restarted empty", "<= 10 s after Redis is back"],
  ["Redis flushed", "<= 10 s"],
  ["Postgres down", "<= 15 s after Postgres is back"],
];

// CHAOS_REPORT names the report to add to; with BENCH_REPS=0 the table is that of the runs already in it
// (`npm test` summarises its own chaos run so: scripts/test.sh).
const report = process.env.CHAOS_REPORT || path.join(fs.mkdtempSync(path.join(os.tmpdir(), "goat-recovery-")), "recovery.jsonl");
for (let rep = 1; rep <= REPS; rep++) {
  console.error(`[bench:recovery] run ${rep} of ${REPS} (about 3-4 minutes each)`);
  const run = spawnSync("npx", ["vitest", "run", "--project", "chaos"], { env: { ...process.env, CHAOS_REPORT: report }, stdio: ["ignore", "ignore", "inherit"] });
  if (run.status !== 0) {
    console.error(`[bench:recovery] the chaos suite failed in run ${rep}: rerun it with \`npx vitest run --project chaos\` to see why`);
    process.exit(1);
  }
}

const byFault = new Map<string, number[]>();
const lines = fs.existsSync(report) ? fs.readFileSync(report, "utf8").split("\n").filter(Boolean) : [];
if (lines.length === 0) {
  console.error(`[bench:recovery] no recovery measured in ${report}`);
  process.exit(1);
}
for (const line of lines) {
  const { fault, seconds } = JSON.parse(line) as { fault: string; seconds: number };
  byFault.set(fault, [...(byFault.get(fault) ?? []), seconds]);
}
const runs = Math.max(...[...byFault.values()].map((values) => values.length));
const fmt = (value: number) => value.toFixed(1);
console.log(`Recovery, measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, commit ${currentCommit()}, ${runs} run${runs === 1 ? "" : "s"}, ${os.cpus().length} cores`);
console.log("");
console.log("| fault | min | median | max | goal |");
console.log("| --- | --- | --- | --- | --- |");
for (const [fault, values] of byFault) {
  const sorted = [...values].sort((a, b) => a - b);
  const goal = GOALS.find(([prefix]) => fault.startsWith(prefix))?.[1] ?? "";
  console.log(`| ${fault} | ${fmt(sorted[0])} s | ${fmt(sorted[Math.floor(sorted.length / 2)])} s | ${fmt(sorted[sorted.length - 1])} s | ${goal} |`);
}
