import "server-only";
import { Worker } from "node:worker_threads";
import { INSPECTION_THREAD_ROLE, OnnxFormatError, type InspectionReply, type OnnxModelInfo } from "@goat/contracts/onnx/inspect-model";
import { usableCores } from "@goat/contracts/usable-cores";

/**
 * Inspects uploaded models on a pool of worker threads, one per core, so that a model with
 * millions of nodes (seconds of parsing) never blocks the web server's event loop: a 48 MB one
 * held /api/health for 3.4 s when it was parsed on the request thread. Each thread reads the
 * file in bounded memory (inspectOnnxFile) and has its own heap cap, so neither many uploads at
 * once nor a hostile file can grow the web process without bound (bench/intake.bench.ts).
 */

/** A thread's heap cap: the walk keeps a few MB of file cache and the names it reports. */
const THREAD_HEAP_MB = 256;

export class ModelTooComplexError extends Error {
  constructor() {
    super("The model's structure is larger than the intake can inspect (more nodes or names than fit its memory limit).");
    this.name = "ModelTooComplexError";
  }
}

interface Job {
  id: number;
  path: string;
  resolve(info: OnnxModelInfo): void;
  reject(error: Error): void;
}

class InspectionPool {
  // One thread per core the web process can keep busy (a container's CPU quota counted).
  private readonly size = usableCores();
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly waiting: Job[] = [];
  private nextId = 1;

  inspect(path: string): Promise<OnnxModelInfo> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ id: this.nextId++, path, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const worker = this.idle.pop() ?? (this.busy.size < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const job = this.waiting.shift()!;
      this.busy.set(worker, job);
      worker.ref();
      worker.postMessage({ id: job.id, path: job.path });
    }
  }

  private spawn(): Worker {
    const worker = startInspectionThread();
    worker.on("message", (reply: InspectionReply) => {
      const job = this.busy.get(worker);
      if (!job || job.id !== reply.id) return;
      this.busy.delete(worker);
      worker.unref(); // an idle thread must not keep the process alive
      this.idle.push(worker);
      if ("info" in reply) job.resolve(reply.info);
      else if ("formatError" in reply) job.reject(new OnnxFormatError(reply.formatError.code, reply.formatError.message));
      else job.reject(new Error(`model inspection failed: ${reply.failure}`));
      this.dispatch();
    });
    const gone = (error: Error) => {
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      if (job) job.reject((error as NodeJS.ErrnoException).code === "ERR_WORKER_OUT_OF_MEMORY" ? new ModelTooComplexError() : error);
      this.dispatch();
    };
    worker.on("error", gone);
    worker.on("exit", (code) => gone(new Error(`model inspection thread exited with code ${code}`)));
    return worker;
  }
}

/**
 * The thread runs the inspector module itself (plain JavaScript, no imports but Node's), so it
 * starts the same from the sources (vitest, tsx) and from Next's build, which bundles or copies
 * the `new Worker(new URL(...))` entry.
 */
function startInspectionThread(): Worker {
  return new Worker(new URL("../../contracts/src/onnx/inspect-model.mjs", import.meta.url), {
    workerData: { role: INSPECTION_THREAD_ROLE },
    resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB },
  });
}

const globalForPool = globalThis as unknown as { goatInspectionPool?: InspectionPool };

/** Reads the signature and summary of an uploaded model off the request thread. */
export function inspectModelFile(path: string): Promise<OnnxModelInfo> {
  globalForPool.goatInspectionPool ??= new InspectionPool();
  return globalForPool.goatInspectionPool.inspect(path);
}
