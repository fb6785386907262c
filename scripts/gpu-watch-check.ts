// The GPU memory watch's check against a real NVIDIA driver: `npx tsx scripts/gpu-watch-check.ts`
// on a machine with an NVIDIA GPU. It needs no onnxruntime CUDA provider: any CUDA program holds the
// memory (python3 with PyTorch by default, GPU_HOLDER_PYTHON names another interpreter), so it runs on
// a GPU host before onnxruntime-node's CUDA binaries are installed, and on machines where they cannot
// be (no NuGet). What scripts/gpu-check.ts then checks with onnxruntime itself rests on these:
//   1. nvidia-smi's --query-gpu answer (the worker heartbeat's GPU figures) parses;
//   2. a CUDA process started by this one is in --query-compute-apps under its own PID with its
//      memory, and usedBytesOf counts it for its parent through /proc (the sandbox's case);
//   3. watchGpuMemory holds it to a limit: quiet while it is under, onExceeded once it grows past,
//      and how long that took.
// --record DIR writes nvidia-smi's raw answers (idle, then with two holders) for the parser's tests
// (tests/fixtures/nvidia-smi). Exit codes: 0 passed, 1 a check failed, 3 no NVIDIA GPU, 4 no holder.
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { usedBytesOf, watchGpuMemory } from "../worker/src/gpu/gpu-memory-watch";
import { COMPUTE_APPS_QUERY_ARGS, GPU_QUERY_ARGS, NvidiaSmi } from "../worker/src/gpu/nvidia-smi";

const MIB = 1024 * 1024;
const POLL_MS = 200;
const recordIndex = process.argv.indexOf("--record");
const recordDir = recordIndex > 0 ? process.argv[recordIndex + 1] : undefined;

// Holds GPU memory on request: "alloc <MiB>" on stdin answers "held <MiB total>" once allocated.
const HOLDER = `
import sys, torch
held = []
torch.cuda.init()
torch.zeros(1, device="cuda")
print("ready", flush=True)
for line in sys.stdin:
    mib = int(line.split()[1])
    held.append(torch.empty(mib * 1024 * 1024, dtype=torch.uint8, device="cuda"))
    torch.cuda.synchronize()
    print("held", sum(t.numel() for t in held) // 1048576, flush=True)
`;

interface Holder {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the holder's next line (its answer). */
  next(): Promise<string>;
}

function startHolder(): Holder {
  const child = spawn(process.env.GPU_HOLDER_PYTHON ?? "python3", ["-c", HOLDER], { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  createInterface({ input: child.stdout }).on("line", (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      if (lines.length) return resolve(lines.shift()!);
      waiting.push(resolve);
      child.once("exit", (code) => reject(new Error(`the holder exited (${code}): ${stderr.trim().split("\n").slice(-3).join(" | ")}`)));
    });
  return { child, next };
}

async function hold(holder: Holder, mib: number): Promise<void> {
  holder.child.stdin.write(`alloc ${mib}\n`);
  const answer = await holder.next();
  if (!answer.startsWith("held")) throw new Error(`the holder answered "${answer}"`);
}

const results: { check: string; ok: boolean }[] = [];
function record(check: string, ok: boolean, detail: string) {
  results.push({ check, ok });
  console.log(`[gpu-watch-check] ${ok ? "ok  " : "FAIL"} ${check}: ${detail}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function writeRaw(name: string) {
  if (!recordDir) return;
  mkdirSync(recordDir, { recursive: true });
  for (const [suffix, args] of [["gpus", GPU_QUERY_ARGS], ["apps", COMPUTE_APPS_QUERY_ARGS]] as const) {
    writeFileSync(path.join(recordDir, `${name}.${suffix}.csv`), execFileSync("nvidia-smi", [...args], { encoding: "utf8" }));
  }
}

async function main(): Promise<number> {
  const smi = new NvidiaSmi();
  const gpus = await smi.queryGpus();
  if (!gpus.available) {
    console.log(`[gpu-watch-check] no NVIDIA GPU on this machine (${gpus.reason}): nothing was checked.`);
    return 3;
  }
  const gpu = gpus.gpus[0];
  record(
    "nvidia-smi --query-gpu parses",
    gpus.gpus.every((g) => g.uuid.startsWith("GPU-") && (g.memoryTotalMiB ?? 0) > 0),
    gpus.gpus.map((g) => `${g.index}: ${g.name}, ${g.memoryUsedMiB}/${g.memoryTotalMiB} MiB, ${g.utilizationPercent}%, ${g.temperatureC} C, ${g.powerDrawW}/${g.powerLimitW} W, MIG ${g.migMode ?? "none"}`).join("; "),
  );
  writeRaw("idle");

  let holders: Holder[] = [];
  try {
    holders = [startHolder(), startHolder()];
    const ready = await Promise.all(holders.map((h) => h.next())).catch((e: Error) => e);
    if (ready instanceof Error) {
      console.log(`[gpu-watch-check] could not start a CUDA program to hold memory (${ready.message}); set GPU_HOLDER_PYTHON to a python3 with PyTorch.`);
      return 4;
    }
    const [a, b] = holders;
    await hold(a, 256);
    await hold(b, 1024);

    let apps = await smi.queryComputeApps();
    for (let i = 0; i < 25 && !(apps ?? []).some((app) => app.pid === a.child.pid); i++) {
      await sleep(POLL_MS);
      apps = await smi.queryComputeApps();
    }
    writeRaw("two-holders");
    const appA = apps?.find((app) => app.pid === a.child.pid);
    const appB = apps?.find((app) => app.pid === b.child.pid);
    record(
      "a CUDA process is in --query-compute-apps under its own PID, with its memory",
      !!appA && !!appB && (appA.usedMemoryMiB ?? 0) >= 256 && (appB.usedMemoryMiB ?? 0) >= 1024,
      `holder ${a.child.pid}: ${appA?.usedMemoryMiB ?? "absent"} MiB (256 allocated), holder ${b.child.pid}: ${appB?.usedMemoryMiB ?? "absent"} MiB (1024 allocated); listed: ${(apps ?? []).map((x) => x.pid).join(", ") || "none"}`,
    );
    const mine = usedBytesOf(process.pid, apps ?? []);
    const expected = ((appA?.usedMemoryMiB ?? 0) + (appB?.usedMemoryMiB ?? 0)) * MIB;
    record(
      "usedBytesOf counts both children for their parent (/proc)",
      !mine.unreported && mine.bytes === expected && expected > 0,
      `${mine.bytes / MIB} MiB for pid ${process.pid}`,
    );

    // The watch on holder a: a limit 512 MiB above its use stays quiet, then it grows past it.
    const base = appA?.usedMemoryMiB ?? 0;
    const limitBytes = (base + 512) * MIB;
    let exceededAt: number | undefined;
    let exceededBytes = 0;
    const readings: number[] = [];
    const stop = watchGpuMemory({
      pid: a.child.pid!,
      limitBytes,
      smi,
      intervalMs: POLL_MS,
      onReading: (bytes) => readings.push(bytes),
      onExceeded: (bytes) => {
        exceededAt = performance.now();
        exceededBytes = bytes;
      },
    });
    await sleep(1_500);
    const quiet = exceededAt === undefined;
    record(`the watch stays quiet under its limit (${base + 512} MiB)`, quiet && readings.length >= 3, `${readings.length} readings, last ${Math.round((readings.at(-1) ?? 0) / MIB)} MiB`);
    const grownAt = performance.now();
    await hold(a, 1024);
    const grown = performance.now();
    for (let i = 0; i < 50 && exceededAt === undefined; i++) await sleep(100);
    stop();
    record(
      "the watch reports a process that grows past its limit",
      exceededAt !== undefined && exceededBytes > limitBytes,
      exceededAt === undefined
        ? "not reported within 5 s"
        : `${Math.round(exceededBytes / MIB)} MiB over ${base + 512} MiB, ${Math.round(exceededAt - grown)} ms after the allocation returned (${Math.round(grown - grownAt)} ms to allocate), polling every ${POLL_MS} ms`,
    );
  } finally {
    for (const h of holders) h.child.kill("SIGKILL");
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\n[gpu-watch-check] ${gpu.name}: ${results.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[gpu-watch-check] error: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
