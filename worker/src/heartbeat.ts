import os from "node:os";
import { z } from "zod";
import type { CpuFigures, GpuFigures, WorkerFigures } from "@goat/contracts/worker-heartbeat";
import type { Db } from "./db";
import { NvidiaSmi, type GpuStatus } from "./gpu/nvidia-smi";
import { processTreeCpuSeconds } from "./process-tree-cpu";
import { hostBootId, modelRoom, readMemoryRoom } from "./sandbox/memory-cgroup";

/**
 * The worker's heartbeat: every HEARTBEAT_INTERVAL_MS it upserts its `workers` row (id, host,
 * execution provider, the job in hand, its latest GPU or CPU figures), appends a compact
 * `worker_samples` row for the dashboard's charts, prunes old samples, and reads back whether an
 * organiser asked it to drain. It runs in the parent process, whose event loop stays free while a
 * sandbox child evaluates, so a long evaluation never delays a heartbeat.
 *
 * Its settings are parsed here rather than in env.ts so this feature stays self-contained.
 */
const heartbeatEnvSchema = z.object({
  HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(200).default(5_000),
  /** the host name shown on the dashboard (in a container os.hostname() is the container id) */
  WORKER_HOST: z.string().min(1).default(os.hostname()),
  /** path of nvidia-smi; "nvidia-smi" on PATH by default */
  NVIDIA_SMI_PATH: z.string().min(1).default("nvidia-smi"),
  /** how long samples are kept for the charts */
  WORKER_SAMPLE_RETENTION_MINUTES: z.coerce.number().int().min(1).default(360),
});
export type HeartbeatEnv = z.infer<typeof heartbeatEnvSchema>;

export function loadHeartbeatEnv(source: NodeJS.ProcessEnv = process.env): HeartbeatEnv {
  return heartbeatEnvSchema.parse(source);
}

// --- figures -----------------------------------------------------------------------------------

type CpuTimes = { idle: number; total: number };

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

const MB = 1024 * 1024;
const round1 = (value: number) => Math.round(value * 10) / 10;

/** Where the sampler reads the worker's own CPU seconds and the time (tests give their own). */
export interface WorkerCpuSource {
  cpuSeconds(): number;
  nowMs(): number;
}

const processTree: WorkerCpuSource = { cpuSeconds: () => processTreeCpuSeconds(), nowMs: () => performance.now() };

/**
 * CPU and memory figures: the host's, and the worker's own CPU (its process and its sandbox
 * children, from process-tree-cpu.ts) as a share of all the host's cores, so the two read on the
 * same 0-100 scale. Usage is measured between two calls.
 */
export class CpuSampler {
  private previous: CpuTimes = cpuTimes();
  private previousWorker: { seconds: number; atMs: number };

  constructor(private readonly worker: WorkerCpuSource = processTree) {
    this.previousWorker = { seconds: worker.cpuSeconds(), atMs: worker.nowMs() };
  }

  /** The worker's CPU seconds since the previous reading over the wall time passed, per core, in percent. */
  private workerUsagePercent(cores: number): number | null {
    const seconds = this.worker.cpuSeconds();
    const atMs = this.worker.nowMs();
    const elapsedS = (atMs - this.previousWorker.atMs) / 1000;
    const used = seconds - this.previousWorker.seconds;
    this.previousWorker = { seconds, atMs };
    if (elapsedS <= 0 || cores <= 0) return null;
    return round1(Math.min(100, Math.max(0, (used / (elapsedS * cores)) * 100)));
  }

  read(): CpuFigures {
    const now = cpuTimes();
    const total = now.total - this.previous.total;
    const idle = now.idle - this.previous.idle;
    this.previous = now;
    const cores = os.cpus().length;
    return {
      cores,
      usagePercent: total > 0 ? round1(Math.min(100, Math.max(0, (1 - idle / total) * 100))) : null,
      workerUsagePercent: this.workerUsagePercent(cores),
      loadAverage1m: round1(os.loadavg()[0]),
      memoryUsedMb: Math.round((os.totalmem() - os.freemem()) / MB),
      memoryTotalMb: Math.round(os.totalmem() / MB),
      processRssMb: Math.round(process.memoryUsage.rss() / MB),
    };
  }
}

/**
 * nvidia-smi numbers GPUs in PCI bus order; CUDA_VISIBLE_DEVICES (an index or a UUID) picks the
 * worker's GPU in that numbering, and CUDA's own device id counts within the visible ones.
 */
export function pickWorkerGpu(gpus: GpuStatus[], cudaDeviceId: number, visibleDevices: string | undefined): GpuStatus | undefined {
  const visible = visibleDevices?.split(",").map((each) => each.trim()).filter(Boolean);
  const wanted = visible?.[cudaDeviceId];
  if (wanted !== undefined) {
    return gpus.find((gpu) => gpu.uuid === wanted || gpu.uuid.startsWith(wanted) || String(gpu.index) === wanted);
  }
  return gpus.find((gpu) => gpu.index === cudaDeviceId) ?? gpus[0];
}

export interface FigureSourceOptions {
  executionProvider: "auto" | "cuda" | "cpu";
  cudaDeviceId: number;
  smi?: NvidiaSmi;
  cpu?: CpuSampler;
  visibleDevices?: string;
}

/** Reads the worker's figures: the GPU's where nvidia-smi answers (and the worker may use it), the host's CPU always. */
export async function readWorkerFigures(opts: FigureSourceOptions): Promise<WorkerFigures> {
  const cpu = (opts.cpu ?? new CpuSampler()).read();
  if (opts.executionProvider === "cpu") return { gpu: null, gpuUnavailableReason: "this worker runs on the CPU (EXECUTION_PROVIDER=cpu)", cpu };
  const smi = opts.smi ?? new NvidiaSmi();
  const reading = await smi.queryGpus();
  if (!reading.available) return { gpu: null, gpuUnavailableReason: reading.reason, cpu };
  const gpu = pickWorkerGpu(reading.gpus, opts.cudaDeviceId, opts.visibleDevices);
  if (!gpu) return { gpu: null, gpuUnavailableReason: `nvidia-smi lists no GPU for CUDA device ${opts.cudaDeviceId}`, cpu };
  const apps = await smi.queryComputeApps();
  const processes = apps?.filter((app) => app.gpuUuid === gpu.uuid).map((app) => ({ pid: app.pid, usedMemoryMb: app.usedMemoryMiB })) ?? null;
  const figures: GpuFigures = {
    index: gpu.index,
    uuid: gpu.uuid,
    name: gpu.name,
    memoryUsedMb: gpu.memoryUsedMiB,
    memoryTotalMb: gpu.memoryTotalMiB,
    utilizationPercent: gpu.utilizationPercent,
    temperatureC: gpu.temperatureC,
    powerDrawW: gpu.powerDrawW,
    powerLimitW: gpu.powerLimitW,
    migMode: gpu.migMode,
    processes,
  };
  return { gpu: figures, gpuUnavailableReason: null, cpu };
}

// --- the loop ----------------------------------------------------------------------------------

export interface HeartbeatOptions {
  db: Db;
  workerId: string;
  executionProvider: "auto" | "cuda" | "cpu";
  cudaDeviceId: number;
  gpuMemLimitMb?: number;
  env?: HeartbeatEnv;
  smi?: NvidiaSmi;
  /** the submission being evaluated now, if any */
  currentSubmission: () => number | null;
  /** called once when an organiser asks this worker to drain: finish the job in hand, take no more */
  onDrainRequested: () => void;
  log?: (message: string) => void;
  /** the figures of each beat, for the worker's /metrics */
  onFigures?: (figures: WorkerFigures) => void;
}

export interface Heartbeat {
  /** one beat now (tests, and the first beat at start-up) */
  beat(): Promise<void>;
  /** stops the loop and records the worker as STOPPED */
  stop(): Promise<void>;
}

const PRUNE_EVERY_BEATS = 60;

export function startHeartbeat(opts: HeartbeatOptions): Heartbeat {
  const env = opts.env ?? loadHeartbeatEnv();
  const smi = opts.smi ?? new NvidiaSmi({ binary: env.NVIDIA_SMI_PATH });
  const cpu = new CpuSampler();
  const log = opts.log ?? ((message: string) => console.log(`[worker ${opts.workerId}] ${message}`));
  let beats = 0;
  let draining = false;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  // Read while no evaluation runs (a model's own memory would shrink it), and kept between.
  let modelMemoryRoomMb: number | null = null;
  let modelMemoryRoomSharedHost: string | null = null;
  const bootId = hostBootId() ?? null;

  const beatOnce = async () => {
    const figures = await readWorkerFigures({
      executionProvider: opts.executionProvider,
      cudaDeviceId: opts.cudaDeviceId,
      smi,
      cpu,
      visibleDevices: process.env.CUDA_VISIBLE_DEVICES,
    });
    if (opts.currentSubmission() === null) {
      const room = modelRoom(readMemoryRoom());
      modelMemoryRoomMb = room?.mb ?? null;
      modelMemoryRoomSharedHost = room?.boundBy === "host" ? bootId : null;
    }
    figures.cpu.modelMemoryRoomMb = modelMemoryRoomMb;
    figures.cpu.modelMemoryRoomSharedHost = modelMemoryRoomSharedHost;
    opts.onFigures?.(figures);
    if (stopped) return;
    const now = new Date();
    const fields = {
      host: env.WORKER_HOST,
      executionProvider: opts.executionProvider,
      heartbeatIntervalMs: env.HEARTBEAT_INTERVAL_MS,
      currentSubmissionId: opts.currentSubmission(),
      gpuMemLimitMb: opts.gpuMemLimitMb ?? null,
      figures: figures as unknown as object,
      lastHeartbeatAt: now,
      lostAt: null,
    };
    const row = await opts.db.worker.upsert({
      where: { id: opts.workerId },
      // A restarted worker with the same id starts afresh: a drain request was for the old process.
      create: { id: opts.workerId, ...fields, state: "ONLINE", startedAt: now },
      update: { ...fields, ...(beats === 0 ? { state: "ONLINE", startedAt: now, drainRequestedAt: null } : {}) },
      select: { drainRequestedAt: true },
    });
    await opts.db.workerSample.create({
      data: {
        workerId: opts.workerId,
        at: now,
        gpuMemUsedMb: figures.gpu?.memoryUsedMb ?? null,
        gpuMemTotalMb: figures.gpu?.memoryTotalMb ?? null,
        gpuUtilPercent: figures.gpu?.utilizationPercent ?? null,
        // The chart shows the worker's own CPU, not the host's (other workers, the web app, anything else).
        cpuPercent: figures.cpu.workerUsagePercent ?? null,
        memUsedMb: figures.cpu.memoryUsedMb,
      },
    });
    if (beats % PRUNE_EVERY_BEATS === 0) {
      await opts.db.workerSample.deleteMany({ where: { at: { lt: new Date(now.getTime() - env.WORKER_SAMPLE_RETENTION_MINUTES * 60_000) } } });
    }
    beats++;
    if (row.drainRequestedAt && !draining) {
      draining = true;
      await opts.db.worker.update({ where: { id: opts.workerId }, data: { state: "DRAINING" } });
      log("an organiser asked this worker to drain: finishing the current job, then taking no more");
      opts.onDrainRequested();
    }
  };

  const beat = () => {
    // One beat at a time: a slow nvidia-smi must not pile up overlapping beats.
    inFlight = inFlight.then(beatOnce).catch((error: Error) => log(`heartbeat failed: ${error.message}`));
    return inFlight;
  };

  const timer = setInterval(() => void beat(), env.HEARTBEAT_INTERVAL_MS);
  timer.unref();
  void beat();

  return {
    beat,
    async stop() {
      if (stopped) return;
      clearInterval(timer);
      await inFlight;
      stopped = true;
      await opts.db.worker
        .update({ where: { id: opts.workerId }, data: { state: "STOPPED", currentSubmissionId: null, lastHeartbeatAt: new Date() } })
        .catch((error: Error) => log(`could not record the stop: ${error.message}`));
    },
  };
}
