import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardSnapshot } from "@/lib/admin/dashboard";
import { createUser } from "@/lib/accounts/users";
import { db } from "@/lib/db";
import { quotaState } from "@/lib/quota/daily-quota";
import { updateTaskFromApi } from "@/lib/tasks/editor";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { buildMlp } from "@/tools/onnx/build-model";
import { buildAllocatingModel } from "@/tests/support/onnx/failing-models";
import { descendantPids } from "../../worker/src/process-tree-cpu";
import { findMemoryCgroup } from "../../worker/src/sandbox/memory-cgroup";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";
import { upload } from "./support/upload";
import { waitFor, waitForFinalStatus } from "./support/wait";
import { startWorker, type WorkerProcess } from "./support/worker-process";

// A worker in a container smaller than a task's memory limit: the kernel's OOM killer stops a model
// the task allows. That is the platform's fault (retried, no quota), not the team's; a model killed
// by the kernel where the container had room for its whole allowance went past its limit (the
// team's). A real memory cgroup (v1 here; v2 where the host delegates one) with a real worker in it.

const MB = 1048576;
// The worker, its launcher and two warm sandbox processes hold ~350-450 MB here: this leaves a model ~250-350 MB.
const CGROUP_LIMIT_MB = 700;

/** A child cgroup of this process's own, limited to `limitMb` (no swap), or undefined where this host does not let us make one. */
function limitedCgroup(limitMb: number): { dir: string; remove(): void } | undefined {
  const own = findMemoryCgroup();
  if (!own) return undefined;
  const dir = path.join(own.dir, uniqueName("goat-test"));
  try {
    fs.mkdirSync(dir);
    if (own.version === 1) {
      fs.writeFileSync(path.join(dir, "memory.limit_in_bytes"), String(limitMb * MB));
      if (fs.existsSync(path.join(dir, "memory.memsw.limit_in_bytes"))) fs.writeFileSync(path.join(dir, "memory.memsw.limit_in_bytes"), String(limitMb * MB));
    } else {
      fs.writeFileSync(path.join(dir, "memory.max"), String(limitMb * MB));
      fs.writeFileSync(path.join(dir, "memory.swap.max"), "0");
    }
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    remove() {
      try {
        fs.rmdirSync(dir); // a cgroup directory goes with rmdir once its processes are gone
      } catch {
        // its processes are still exiting: the host's clean-up of the parent takes it
      }
    },
  };
}

const cgroup = limitedCgroup(CGROUP_LIMIT_MB);
let worker: WorkerProcess;

describe.skipIf(!cgroup)(`a worker in a ${CGROUP_LIMIT_MB} MB memory cgroup`, () => {
  beforeAll(async () => {
    worker = await startWorker("small-container-worker", { HEARTBEAT_INTERVAL_MS: "500" }, 30_000, undefined, undefined, cgroup!.dir);
  });

  afterAll(async () => {
    await worker?.stop();
    cgroup?.remove();
    await evaluationQueue().close();
  });

  async function taskWithMemoryLimit(memoryMb: number) {
    const task = await taskWithDataset({
      inputs: randomRows(30, 784, 8),
      labels: int64Labels(Array(30).fill(3)),
      outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
      dailySubmissionLimit: 5,
      evalMemoryMb: memoryMb,
      evalTimeoutMs: 30_000,
    });
    return { task, caller: await participantWithTeam() };
  }

  it("offers the kernel its sandbox processes first when memory runs out (oom_score_adj 1000), never the worker", async () => {
    // Each child sets its own as it starts: a warm one has.
    // A process of the tree may end between the listing and the read (the worker's short-lived probes): it is skipped.
    const read = (pid: number, file: string) => {
      try {
        return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
      } catch {
        return undefined;
      }
    };
    const adjustments = () =>
      descendantPids(worker.child.pid!)
        .filter((pid) => read(pid, "cmdline")?.includes("sandbox-child"))
        .map((pid) => read(pid, "oom_score_adj")?.trim())
        .filter((value) => value !== undefined);
    const warm = await waitFor("the worker's warm sandbox processes to set theirs", async () => {
      const values = adjustments();
      return values.length > 0 && values.every((value) => value === "1000") ? values : null;
    }, 20_000);
    expect(warm.length).toBeGreaterThan(0);
    expect(fs.readFileSync(`/proc/${worker.child.pid}/oom_score_adj`, "utf8").trim()).toBe("0");
  });

  it("fails a model the kernel killed within the task's 2048 MB limit as the platform's fault, after its retries, at no quota; the worker goes on", async () => {
    const { task, caller } = await taskWithMemoryLimit(2048);
    const accepted = await upload(task.slug, caller.token, buildAllocatingModel({ bytes: 1024 * MB }));
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const final = await waitForFinalStatus(accepted.body.id, 120_000);
    expect(final, worker.output().slice(-4_000)).toMatchObject({ status: "FAILED", failureKind: "PLATFORM", attempts: 4 });
    expect(final.message).toMatch(/on our side.*does not count against your quota/);
    expect(await quotaState(db, caller.team.id, task)).toMatchObject({ used: 0, remaining: 5 });
    // The operators' log says what happened and what to change (the last attempt's record is written just after its FAILED status).
    const faults = await waitFor("the four attempts' faults in the worker's log", async () => {
      const logged = worker.logRecords().filter((record) => record.submissionId === accepted.body.id && record.err?.type === "PlatformFault");
      return logged.length === 4 ? logged : null;
    }, 10_000);
    expect(faults[0].err!.message).toMatch(/^the kernel's OOM killer stopped the evaluation process: this worker's container or host had \d+ MB for the model, less than the task's 2048 MB limit/);

    // The same worker scores the next model.
    const next = await upload(task.slug, caller.token, buildMlp({ sizes: [784, 8, 10], seed: 3 }));
    expect(await waitForFinalStatus(next.body.id, 60_000)).toMatchObject({ status: "SCORED", workerId: "small-container-worker" });
  });

  it("fails a model past the task's 128 MB limit as the team's MEMORY_LIMIT, whether the worker's watch or the kernel stopped it, without retry", async () => {
    const { task, caller } = await taskWithMemoryLimit(128);
    const accepted = await upload(task.slug, caller.token, buildAllocatingModel({ bytes: 1024 * MB }));
    const final = await waitForFinalStatus(accepted.body.id, 60_000);
    expect(final, worker.output().slice(-4_000)).toMatchObject({ status: "FAILED", failureKind: "PARTICIPANT", attempts: 1 });
    expect(final.message).toMatch(/more than 128 MB/);
  });

  it("reports its room for a model in its heartbeat; the dashboard flags the task that allows more, not the one that fits, and the admin API warns when a limit is raised past it", async () => {
    const fits = await taskWithMemoryLimit(128);
    const tooBig = await taskWithMemoryLimit(2048);
    const user = await createUser({ email: `${uniqueName("organiser")}@test.local`, name: "Organiser", password: "admin-password-1", role: "ADMIN" });
    const admin = { id: user.id, email: user.email, name: user.name, role: "ADMIN" as const, team: null };
    const view = await waitFor("the worker's room for a model on the dashboard", async () => {
      const snapshot = await dashboardSnapshot(admin);
      const mine = snapshot.workers.find((each) => each.id === "small-container-worker");
      return mine?.modelMemoryRoomMb != null && mine.currentSubmissionId === null ? { snapshot, roomMb: mine.modelMemoryRoomMb } : null;
    }, 15_000);
    // The cgroup's 700 MB less what the worker and its warm sandbox processes hold.
    expect(view.roomMb).toBeGreaterThan(50);
    expect(view.roomMb).toBeLessThan(CGROUP_LIMIT_MB);
    // Its own limit bounds its room, so it shares it with no other worker on this host.
    expect(view.snapshot.workers.find((each) => each.id === "small-container-worker")?.modelMemoryRoomSharedBy).toBe(1);
    const flagged = view.snapshot.memoryShortfalls.filter((shortfall) => shortfall.workerId === "small-container-worker");
    expect(flagged).toContainEqual({ task: tooBig.task.slug, evalMemoryMb: 2048, workerId: "small-container-worker", roomMb: view.roomMb });
    expect(flagged.map((shortfall) => shortfall.task)).not.toContain(fits.task.slug);
    // Where the organiser sets the limit, the admin API's answer says so, naming the least room of
    // the live workers: this one's (the others here have the host's memory).
    const raised = await updateTaskFromApi(admin, fits.task.slug, { evalMemoryMb: 2048 });
    expect(raised.warnings).toEqual([expect.stringMatching(/ 2,048 MB for a model: the least is [\d,]+ MB on small-container-worker\. /)]);
    expect((await updateTaskFromApi(admin, fits.task.slug, { evalMemoryMb: 128 })).warnings).toEqual([]);
  });
});
