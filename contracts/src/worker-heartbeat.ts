import { z } from "zod";

/**
 * What a worker's heartbeat stores in `workers.figures` and the dashboard reads back: the GPU's
 * figures from nvidia-smi where there is one, and the host's CPU and memory and the worker's own
 * CPU always (the only figures a GPU-less worker has). Fields are nullable because drivers leave some out ("[N/A]").
 */
export const gpuFiguresSchema = z.object({
  index: z.number(),
  uuid: z.string(),
  name: z.string(),
  memoryUsedMb: z.number().nullable(),
  memoryTotalMb: z.number().nullable(),
  utilizationPercent: z.number().nullable(),
  temperatureC: z.number().nullable(),
  powerDrawW: z.number().nullable(),
  powerLimitW: z.number().nullable(),
  migMode: z.enum(["Enabled", "Disabled"]).nullable(),
  /** processes holding a CUDA context on this GPU (null where nvidia-smi cannot say) */
  processes: z.array(z.object({ pid: z.number(), usedMemoryMb: z.number().nullable() })).nullable(),
});

export const cpuFiguresSchema = z.object({
  cores: z.number(),
  /** share of all the host's cores busy since the previous heartbeat, 0-100 (every process on the host) */
  usagePercent: z.number().nullable(),
  /**
   * the worker's own CPU since the previous heartbeat (its process and its sandbox children), as a
   * share of all the host's cores, 0-100; absent from workers older than this field
   */
  workerUsagePercent: z.number().nullable().optional(),
  loadAverage1m: z.number(),
  memoryUsedMb: z.number(),
  memoryTotalMb: z.number(),
  /** the worker process's own resident memory */
  processRssMb: z.number(),
  /**
   * the memory a model could have, read while the worker was last idle: its memory cgroup's limit
   * less what its processes hold (the worker, its launcher and warm sandbox processes), or the
   * host's available memory where that is less (worker/src/sandbox/memory-cgroup.ts); null where
   * neither can be read; absent from workers older than this field
   */
  modelMemoryRoomMb: z.number().nullable().optional(),
  /**
   * set when the host's available memory, not the worker's own limit, bounds that room: the host's
   * kernel boot id (the same in every container on it), so that the workers reporting the same one
   * are known to share it (lib/admin/memory-room.ts); null when the worker's own memory limit
   * bounds it (or the host cannot be identified); absent from workers older than this field
   */
  modelMemoryRoomSharedHost: z.string().nullable().optional(),
});

export const workerFiguresSchema = z.object({
  gpu: gpuFiguresSchema.nullable(),
  /** why there are no GPU figures (no driver, CPU worker, nvidia-smi failed) */
  gpuUnavailableReason: z.string().nullable(),
  cpu: cpuFiguresSchema,
});

export type GpuFigures = z.infer<typeof gpuFiguresSchema>;
export type CpuFigures = z.infer<typeof cpuFiguresSchema>;
export type WorkerFigures = z.infer<typeof workerFiguresSchema>;

/** A worker that misses this many heartbeats in a row is shown as lost and its job handed back. */
export const LOST_AFTER_HEARTBEATS = 3;
