import { describeShape, type TensorSpec } from "@goat/contracts/tensor-spec";

/** Display formats shared by the task and submission views (pure; runs on server and client). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** A result's peak memory over the sandbox's baseline, and its GPU memory where it ran on a GPU. */
export function formatPeakMemory(result: { peakMemoryBytes: number | null; peakGpuMemoryBytes: number | null }): string {
  if (result.peakMemoryBytes === null) return "not measured";
  const gpu = result.peakGpuMemoryBytes === null ? "" : `, GPU ${formatBytes(result.peakGpuMemoryBytes)}`;
  return `${formatBytes(result.peakMemoryBytes)}${gpu}`;
}

export function formatScore(score: number): string {
  return Number.isInteger(score) ? String(score) : score.toFixed(4);
}

export function formatSpec(spec: TensorSpec): string {
  return `${spec.name}: ${spec.dtype} ${describeShape(spec.shape)}`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return "–";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A queue ETA in words: seconds under a minute and a half, else minutes. */
export function formatEta(seconds: number): string {
  return seconds < 90 ? `${Math.max(1, seconds)} s` : `${Math.round(seconds / 60)} min`;
}
