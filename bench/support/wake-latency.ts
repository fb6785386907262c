// The machine's wake-up cost, without the platform: `npm run bench`'s (a) prints it under its
// breakdown. A round trip to a process that has sat idle (a Postgres backend, a sandbox child) takes
// longer than one back to back: the idle process's CPU has to be woken. Measured by hand on this
// project's 2-core Firecracker VM on 2026-12-03: a `SELECT 1` took 0.12-0.15 ms back to back and
// 0.65-0.69 ms after 80 ms of idleness, whether the caller slept or spun meanwhile. An evaluation
// pays it at each hand-over after a wait: the claim, the model to its sandbox child, the outputs
// back, the result write.
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { median } from "./report";

export interface WakeFigures {
  /** median ms of a round trip right after the previous one */
  backToBack: number;
  /** median ms of a round trip after the peer sat idle for the gap */
  afterGap: number;
}

/** `roundTrip` timed `runs` times back to back, then `runs` times each after `gapMs` of idleness. */
export async function wakeFigures(roundTrip: () => Promise<unknown>, gapMs: number, runs: number): Promise<WakeFigures> {
  const timed = async () => {
    const started = performance.now();
    await roundTrip();
    return performance.now() - started;
  };
  await timed(); // a first trip's own costs (a connection, a plan) are not the machine's
  const backToBack: number[] = [];
  for (let i = 0; i < runs; i++) backToBack.push(await timed());
  const afterGap: number[] = [];
  for (let i = 0; i < runs; i++) {
    await sleep(gapMs);
    afterGap.push(await timed());
  }
  return { backToBack: median(backToBack), afterGap: median(afterGap) };
}

/** A Node child that answers each IPC message with the same message, as a sandbox child's messages go. */
export function echoChild(): { ping(): Promise<void>; close(): void } {
  const child = spawn(process.execPath, ["-e", "process.on('message', (m) => process.send(m))"], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  let waiting: (() => void) | undefined;
  child.on("message", () => waiting?.());
  return {
    ping: () =>
      new Promise<void>((resolve) => {
        waiting = resolve;
        child.send({ type: "ping" });
      }),
    close: () => child.kill("SIGKILL"),
  };
}
