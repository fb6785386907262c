import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

/**
 * Raw onnxruntime-node, measured in a process of its own (raw-onnxruntime-process.ts) that holds the
 * test inputs and does nothing between runs: what a team's model costs without the platform. In the
 * benchmark's own process the session's creation took ~25 ms of a 784-512-512-10 MLP's ~130 against
 * 2.5-16 in a plain process (2026-12-01): its heap was the platform's, and the ratio favoured it.
 */
export interface RawRun {
  ms: number;
  sessionMs: number;
  inferenceMs: number;
}

export type RawOnnxruntimeRequest = { type: "model"; name: string; bytes: Uint8Array } | { type: "run"; name: string; batch: number };
export type RawOnnxruntimeMessage = { type: "ready" } | { type: "loaded"; name: string } | { type: "ran"; run: RawRun } | { type: "failed"; message: string };

const ENTRY = path.join(import.meta.dirname, "raw-onnxruntime-process.ts");

export class RawOnnxruntimeProcess {
  private readonly child: ChildProcess;
  private waiting: ((message: RawOnnxruntimeMessage) => void) | undefined;
  private readonly ready: Promise<void>;

  /**
   * Starts the process on the inputs' .npy file (float32, rows x features). `cpu` pins it to that
   * CPU (`taskset -c`, util-linux, as the integration tests confine a worker:
   * tests/integration/support/worker-process.ts), for (f)'s one core against two.
   */
  constructor(inputsPath: string, cpu?: number) {
    const command = [...(cpu !== undefined ? ["taskset", "-c", String(cpu)] : []), process.execPath, "--import", "tsx", ENTRY, inputsPath];
    this.child = spawn(command[0], command.slice(1), { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "advanced" });
    this.ready = this.next().then((message) => {
      if (message.type === "failed") throw new Error(message.message);
    });
    this.child.on("message", (message: RawOnnxruntimeMessage) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.(message);
    });
    this.child.on("exit", (code, signal) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.({ type: "failed", message: `raw onnxruntime process ended (${signal ?? `exit code ${code}`})` });
    });
  }

  /** Hands the process a model's bytes, by name (before the runs: the copy is not measured). */
  async load(name: string, bytes: Uint8Array): Promise<void> {
    await this.ready;
    await this.request({ type: "model", name, bytes });
  }

  /** One session created and the whole inputs run through it in batches of `batch` rows. */
  async run(name: string, batch: number): Promise<RawRun> {
    await this.ready;
    const answer = await this.request({ type: "run", name, batch });
    if (answer.type !== "ran") throw new Error(`raw onnxruntime: unexpected answer ${answer.type}`);
    return answer.run;
  }

  close(): void {
    this.child.kill();
  }

  private async request(request: RawOnnxruntimeRequest): Promise<RawOnnxruntimeMessage> {
    const answer = this.next();
    this.child.send(request);
    const message = await answer;
    if (message.type === "failed") throw new Error(message.message);
    return message;
  }

  private next(): Promise<RawOnnxruntimeMessage> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }
}
