/**
 * A stand-in for the sandbox child (worker/src/sandbox/child.ts), started by the real
 * SandboxPool through the same spawn path (isolation wrappers, environment, user): it speaks the
 * child's protocol, but on `evaluate` it tries what a model that escaped onnxruntime would try,
 * and reports each outcome in the result's `warnings`. Its "model" file is a JSON list of what
 * to try (it reads it from its private copy, as the real child reads its model).
 */
import { closeSync, openSync, readFileSync, readdirSync } from "node:fs";
import net from "node:net";
import { allProcessTimes, childrenByParent, parseProcStat } from "../../../worker/src/process-tree-cpu";
import type { ChildMessage, ParentMessage } from "../../../worker/src/sandbox/protocol";

export interface ProbeTargets {
  /** Files whose reading must fail. */
  files: string[];
  /** Folders whose listing must fail. */
  folders: string[];
  /** A TCP port on 127.0.0.1 that the test listens on. */
  port: number;
}

export interface ProbeOutcome {
  targets: ProbeTargets;
  reads: Record<string, string>;
  listings: Record<string, string>;
  connect: string;
  envKeys: string[];
  /** GLIBC_TUNABLES, the one variable the pool sets itself (worker/src/sandbox/huge-pages.ts) */
  mallocTunables: string | null;
  uid: number;
  gid: number;
  noNewPrivs: string;
  /** Our parent (the children's launcher: worker/src/sandbox/spawner.ts) and its parent (the worker). */
  ancestors: number[];
  modelPath: string;
  /** The worker's other children (the spares), by pid: their uid and what reading their /proc files gave. */
  siblings: Record<string, { uid: number; environ: string; mem: string }>;
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

function attempt(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

function connect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve("TIMEOUT");
    }, 3000);
    socket.on("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve("ok");
    });
    socket.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(e.code ?? e.message);
    });
  });
}

/**
 * The other children of our parent (the pool's spares, waiting for the next team's model): their
 * environment and memory, which a child that escaped onnxruntime would read or write to tamper with
 * the next evaluation. /proc/<pid>/stat and status are readable to all; environ and mem are not.
 */
function siblings(): ProbeOutcome["siblings"] {
  const found: ProbeOutcome["siblings"] = {};
  for (const pid of childrenByParent(allProcessTimes() ?? []).get(process.ppid) ?? []) {
    if (pid === process.pid) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, "utf8");
    } catch {
      continue; // ended meanwhile
    }
    found[pid] = {
      uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1),
      environ: attempt(() => readFileSync(`/proc/${pid}/environ`)),
      mem: attempt(() => closeSync(openSync(`/proc/${pid}/mem`, "r+"))),
    };
  }
  return found;
}

/** A process's parent, from /proc/<pid>/stat (readable to all); -1 if unreadable. */
function parentOf(pid: number): number {
  return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"))?.ppid ?? -1;
}

async function probe(modelPath: string): Promise<ProbeOutcome> {
  const targets = JSON.parse(readFileSync(modelPath, "utf8")) as ProbeTargets;
  const reads: Record<string, string> = {};
  const ancestors = [process.ppid, parentOf(process.ppid)];
  for (const file of [...targets.files, ...ancestors.map((pid) => `/proc/${pid}/environ`)]) reads[file] = attempt(() => readFileSync(file));
  const listings: Record<string, string> = {};
  for (const folder of targets.folders) listings[folder] = attempt(() => readdirSync(folder));
  const status = readFileSync("/proc/self/status", "utf8");
  return {
    targets,
    reads,
    listings,
    connect: await connect(targets.port),
    envKeys: Object.keys(process.env).sort(),
    mallocTunables: process.env.GLIBC_TUNABLES ?? null,
    uid: process.getuid?.() ?? -1,
    gid: process.getgid?.() ?? -1,
    noNewPrivs: /NoNewPrivs:\s*(\d)/.exec(status)?.[1] ?? "?",
    ancestors,
    modelPath,
    siblings: siblings(),
  };
}

process.on("message", (m: ParentMessage) => {
  if (m.type === "prepare") send({ type: "prepared", inputsKey: m.inputsKey });
  if (m.type === "evaluate") {
    probe(m.request.modelPath).then(
      (outcome) =>
        send({
          type: "result",
          result: {
            rows: 0,
            outputNames: [],
            batchLatenciesMs: [],
            sessionMs: 0,
            inferenceMs: 0,
            provider: "cpu",
            device: "cpu",
            maxRssBytes: { atStart: 0, atEnd: 0 },
            onnxruntimeVersion: "probe",
            warnings: [JSON.stringify(outcome)],
            inputsPreloaded: false,
          },
        }),
      (e: Error) => send({ type: "error", error: { kind: "platform", code: "PROBE_FAILED", message: e.stack ?? e.message } }),
    );
  }
});

send({ type: "ready", onnxruntimeVersion: "probe", warmupMs: 0 });
