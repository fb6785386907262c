import { execFile } from "node:child_process";

/**
 * What nvidia-smi says about this host's GPUs and the processes on them.
 *
 * Two users: the sandbox pool, which holds each evaluation to its GPU memory limit
 * (onnxruntime-node 1.30 ignores `gpu_mem_limit`, see onnx/execution-provider.ts), and the
 * worker heartbeats that the admin dashboard shows (memory used/total, utilisation,
 * temperature, power).
 *
 * nvidia-smi rather than NVML bindings: it ships with every driver, needs no native addon,
 * and its CSV output (`--format=csv,noheader,nounits`) is stable across driver versions.
 * Absent or broken nvidia-smi (no GPU, no driver, a driver/library mismatch, a hung GPU)
 * is a normal state for a worker: every query answers "unavailable, because ..." instead
 * of throwing.
 */

/** Fields of `--query-gpu`, in the order `parseGpuQuery` reads them. */
export const GPU_QUERY_FIELDS = [
  "index",
  "uuid",
  "name",
  "memory.used",
  "memory.total",
  "utilization.gpu",
  "temperature.gpu",
  "power.draw",
  "power.limit",
  "mig.mode.current",
] as const;

/** Fields of `--query-compute-apps`, in the order `parseComputeApps` reads them. */
export const COMPUTE_APPS_QUERY_FIELDS = ["pid", "gpu_uuid", "used_memory"] as const;

export const GPU_QUERY_ARGS = [`--query-gpu=${GPU_QUERY_FIELDS.join(",")}`, "--format=csv,noheader,nounits"];
export const COMPUTE_APPS_QUERY_ARGS = [
  `--query-compute-apps=${COMPUTE_APPS_QUERY_FIELDS.join(",")}`,
  "--format=csv,noheader,nounits",
];

export interface GpuStatus {
  /** nvidia-smi's index (PCI bus order), not CUDA's (which `CUDA_VISIBLE_DEVICES` renumbers). */
  index: number;
  uuid: string;
  name: string;
  memoryUsedMiB: number | null;
  memoryTotalMiB: number | null;
  /** % of the last sample period a kernel ran; null under MIG (not reported per GPU). */
  utilizationPercent: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  /** null where the GPU has no MIG (anything before Ampere A100/A30, and the A40). */
  migMode: "Enabled" | "Disabled" | null;
}

export type GpuReading = { available: true; gpus: GpuStatus[] } | { available: false; reason: string };

export interface ComputeApp {
  pid: number;
  gpuUuid: string;
  /** null where the driver does not say ("[N/A]": MIG on some drivers, or no permission). */
  usedMemoryMiB: number | null;
}

/** What the GPU memory watch needs; `NvidiaSmi` in production, a fake in tests. */
export interface GpuProcessProbe {
  /** Processes holding a CUDA context, on every GPU; null when nvidia-smi cannot say. */
  queryComputeApps(): Promise<ComputeApp[] | null>;
  /** Why the last query came back null (for the log). */
  readonly lastFailure?: string;
}

/** Runs nvidia-smi with these arguments; resolves with stdout, rejects like `execFile`. */
export type NvidiaSmiRunner = (args: readonly string[]) => Promise<string>;

export interface NvidiaSmiOptions {
  /** "nvidia-smi" (found on PATH) by default. */
  binary?: string;
  /** A hung driver can block nvidia-smi for minutes; give up after this long. */
  timeoutMs?: number;
  /** Replaces execFile (tests). */
  run?: NvidiaSmiRunner;
}

const DEFAULT_TIMEOUT_MS = 5_000;
/** execFile's callback waits for stdout to close; a process stuck in the driver (D state)
 * survives SIGKILL, so a timer of our own makes sure the query returns anyway. */
const BACKSTOP_GRACE_MS = 500;

export class NvidiaSmi implements GpuProcessProbe {
  readonly binary: string;
  readonly timeoutMs: number;
  private readonly run: NvidiaSmiRunner;
  lastFailure: string | undefined;

  constructor(opts: NvidiaSmiOptions = {}) {
    this.binary = opts.binary ?? "nvidia-smi";
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.run = opts.run ?? execFileRunner(this.binary, this.timeoutMs);
  }

  async queryGpus(): Promise<GpuReading> {
    const out = await this.query(GPU_QUERY_ARGS);
    if (!out.ok) return { available: false, reason: out.reason };
    try {
      return { available: true, gpus: parseGpuQuery(out.stdout) };
    } catch (e) {
      return this.fail(`nvidia-smi answered something unexpected: ${(e as Error).message}`);
    }
  }

  async queryComputeApps(): Promise<ComputeApp[] | null> {
    const out = await this.query(COMPUTE_APPS_QUERY_ARGS);
    if (!out.ok) return null;
    try {
      return parseComputeApps(out.stdout);
    } catch (e) {
      this.fail(`nvidia-smi answered something unexpected: ${(e as Error).message}`);
      return null;
    }
  }

  private fail(reason: string): { available: false; reason: string } {
    this.lastFailure = reason;
    return { available: false, reason };
  }

  private async query(args: readonly string[]): Promise<{ ok: true; stdout: string } | { ok: false; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const backstop = new Promise<{ ok: false; reason: string }>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: this.timeoutReason() }), this.timeoutMs + BACKSTOP_GRACE_MS);
      timer.unref();
    });
    const answer = this.run(args).then(
      (stdout) => ({ ok: true as const, stdout }),
      (error: unknown) => ({ ok: false as const, reason: this.failureReason(error) }),
    );
    try {
      const out = await Promise.race([answer, backstop]);
      if (out.ok) this.lastFailure = undefined;
      else this.lastFailure = out.reason;
      return out;
    } finally {
      clearTimeout(timer);
    }
  }

  private timeoutReason(): string {
    return `${this.binary} did not answer within ${this.timeoutMs} ms`;
  }

  private failureReason(error: unknown): string {
    const e = error as Partial<NodeJS.ErrnoException> & { killed?: boolean; signal?: string | null; stdout?: unknown; stderr?: unknown };
    if (e?.code === "ENOENT") return `${this.binary} not found (no NVIDIA driver on this host?)`;
    if (e?.code === "EACCES") return `${this.binary} is not executable`;
    if (e?.killed) return this.timeoutReason();
    // nvidia-smi prints its own failures ("NVIDIA-SMI has failed because ...") on stdout.
    const said = firstLine(String(e?.stderr ?? "")) || firstLine(String(e?.stdout ?? ""));
    if (typeof e?.code === "number") return `${this.binary} exited with code ${e.code}${said ? `: ${said}` : ""}`;
    if (e?.signal) return `${this.binary} ended by ${e.signal}${said ? `: ${said}` : ""}`;
    return `${this.binary} failed: ${e instanceof Error ? e.message : String(error)}`;
  }
}

function execFileRunner(binary: string, timeoutMs: number): NvidiaSmiRunner {
  return (args) =>
    new Promise((resolve, reject) => {
      execFile(
        binary,
        [...args],
        { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 1024 * 1024, encoding: "utf8", windowsHide: true },
        (error, stdout, stderr) => {
          if (error) reject(Object.assign(error, { stdout, stderr }));
          else resolve(stdout);
        },
      );
    });
}

function firstLine(text: string): string {
  return text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? "";
}

// --- parsing ---------------------------------------------------------------------------------

/** Lines of a `noheader` CSV answer, each split into its fields (nvidia-smi separates with ", "). */
function csvRows(csv: string, fields: number, what: string): string[][] {
  const rows: string[][] = [];
  for (const raw of csv.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "") continue;
    const cells = line.split(",").map((c) => c.trim());
    if (cells.length !== fields) {
      throw new Error(`${what}: expected ${fields} fields, got ${cells.length} in "${line.slice(0, 200)}"`);
    }
    rows.push(cells);
  }
  return rows;
}

/** A number, or null for what nvidia-smi prints when it has none ("[N/A]", "[Not Supported]", "N/A", ...). */
function numberOrNull(cell: string): number | null {
  if (!/^-?\d+(\.\d+)?$/.test(cell)) return null;
  return Number(cell);
}

function integer(cell: string, what: string): number {
  if (!/^\d+$/.test(cell)) throw new Error(`${what} is not an integer: "${cell}"`);
  return Number(cell);
}

/** `nvidia-smi --query-gpu=<GPU_QUERY_FIELDS> --format=csv,noheader,nounits` -> one entry per GPU. */
export function parseGpuQuery(csv: string): GpuStatus[] {
  return csvRows(csv, GPU_QUERY_FIELDS.length, "--query-gpu").map((c) => ({
    index: integer(c[0], "GPU index"),
    uuid: c[1],
    name: c[2],
    memoryUsedMiB: numberOrNull(c[3]),
    memoryTotalMiB: numberOrNull(c[4]),
    utilizationPercent: numberOrNull(c[5]),
    temperatureC: numberOrNull(c[6]),
    powerDrawW: numberOrNull(c[7]),
    powerLimitW: numberOrNull(c[8]),
    migMode: c[9] === "Enabled" || c[9] === "Disabled" ? c[9] : null,
  }));
}

/**
 * `nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv,noheader,nounits`.
 * Empty output means no process holds a CUDA context. PIDs are those of nvidia-smi's PID
 * namespace: inside a container without `--pid=host` they may not be the worker's.
 */
export function parseComputeApps(csv: string): ComputeApp[] {
  // Some drivers print this instead of nothing.
  if (/^\s*No running processes found\s*$/i.test(csv)) return [];
  return csvRows(csv, COMPUTE_APPS_QUERY_FIELDS.length, "--query-compute-apps").map((c) => ({
    pid: integer(c[0], "pid"),
    gpuUuid: c[1],
    usedMemoryMiB: numberOrNull(c[2]),
  }));
}
