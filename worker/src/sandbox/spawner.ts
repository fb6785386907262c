import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { encodeMessage, MessageDecoder } from "./ipc-framing";

/**
 * Sandbox children are started by a small launcher process of the worker's, never by the worker
 * itself, so that the worker never forks.
 *
 * A fork copies the forking process's page tables and write-protects every page it has written;
 * each page it writes afterwards takes a fault (copy-on-write, even once the child has exec'd).
 * The worker (~100-150 MB, its heap busy with the evaluation's outputs, metrics and queue traffic)
 * forked once per evaluation: on this project's 2-core AMD VM, where a page fault costs ~15 us,
 * that was ~30 ms of the worker's ~75 ms of CPU per tiny evaluation (the fork ~7, ~1,100 faults
 * after it), and the fork blocked its event loop. The launcher is a bare Node process of ~40 MB
 * with a small heap that does nothing else: its forks cost a few ms (`npm run bench`, (b);
 * docs/performance.md, "The launcher").
 *
 * The launcher spawns each child (the isolation wrappers, then node) with a socketpair as its fd 3,
 * and hands the other end to the worker through its own IPC channel (SCM_RIGHTS), closing its copy;
 * the child uses it as its ordinary Node IPC channel (NODE_CHANNEL_FD), the worker reads and writes
 * it with Node's framing (ipc-framing.ts). So messages go straight between the worker and the
 * child, as with a spawn of the worker's own. The child's stderr comes the same way. The launcher
 * reports each child's pid and its exit, and kills a child when asked: it holds the ChildProcess,
 * so a kill never reaches a pid reused after the child was reaped.
 *
 * The launcher dies with the worker (its IPC channel closes; and the kernel's parent-death signal
 * where setpriv has it), and the children with the launcher (theirs, or their watchdog thread).
 * A launcher that dies while the worker lives takes its children with it: each is reported as
 * exited with `lostWithLauncher` (a platform fault, not the model's), and the next spawn starts a
 * new launcher.
 */

export interface SpawnedExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The launcher died, and its children with it: not the child's doing. */
  lostWithLauncher?: boolean;
}

/**
 * The launcher's program, run with `node -e`: plain JavaScript in a string, not a function's source
 * text, which transpilers rewrite (helpers such as esbuild's `__name` that `node -e` lacks).
 * Requests and reports: LauncherRequest, LauncherReport.
 */
export const LAUNCHER_SOURCE = `"use strict";
const { spawn } = require("node:child_process");
const children = new Map();
function send(message, handle) {
  if (process.connected) process.send(message, handle);
}
// The worker is gone: so are we (and our children, by their parent-death signal or watchdog).
process.on("disconnect", () => process.exit(0));
process.on("message", (m) => {
  if (m.type === "kill") {
    const child = children.get(m.id);
    if (child) child.kill("SIGKILL");
    return;
  }
  let child;
  try {
    child = spawn(m.command, m.args, { cwd: m.cwd, env: m.env, stdio: ["ignore", "ignore", "pipe", "pipe"] });
  } catch (e) {
    send({ type: "failed", id: m.id, message: String(e && e.message) });
    return;
  }
  child.on("error", (e) => {
    // No process (ENOENT, EACCES, ...): no exit event follows.
    if (child.pid !== undefined) return;
    children.delete(m.id);
    send({ type: "failed", id: m.id, message: e.message });
  });
  child.on("exit", (code, signal) => {
    children.delete(m.id);
    send({ type: "exit", id: m.id, code, signal });
  });
  if (child.pid === undefined) return;
  children.set(m.id, child);
  // Each handle is closed here once sent: only the worker and the child hold them.
  send({ type: "spawned", id: m.id, pid: child.pid }, child.stdio[3]);
  send({ type: "stderr", id: m.id }, child.stderr);
});
`;

type LauncherRequest =
  | { type: "spawn"; id: number; command: string; args: string[]; cwd: string; env: Record<string, string> }
  | { type: "kill"; id: number };

type LauncherReport =
  | { type: "spawned"; id: number; pid: number }
  | { type: "stderr"; id: number }
  | { type: "exit"; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { type: "failed"; id: number; message: string };

/**
 * One child started by the launcher: the part of a ChildProcess that SandboxProcess uses. Events:
 * `message` (a message from the child), `exit` (SpawnedExit), `error` (it could not be started; an
 * `exit` follows). Messages sent before the launcher has handed over the channel are queued.
 */
export class SpawnedChild extends EventEmitter {
  /** Known once the launcher has started it (before it can send anything). */
  pid: number | undefined;
  readonly stderr = new EventEmitter();
  exitInfo: SpawnedExit | undefined;
  private channel: Socket | undefined;
  private stderrStream: Socket | undefined;
  private queued: { frame: Buffer; callback?: (error?: Error | null) => void }[] = [];
  private readonly decoder = new MessageDecoder();
  private referenced = true;

  constructor(
    private readonly spawner: ChildSpawner,
    readonly id: number,
  ) {
    super();
  }

  /** Open: the channel is not closed and the child has not exited. */
  get connected(): boolean {
    return this.exitInfo === undefined && !(this.channel?.destroyed ?? false);
  }

  send(message: unknown, callback?: (error?: Error | null) => void): void {
    const frame = encodeMessage(message);
    if (this.channel) this.channel.write(frame, callback);
    else this.queued.push({ frame, callback });
  }

  /** SIGKILL, through the launcher (which reaped it, if it is gone, and then does nothing). */
  kill(): void {
    if (this.exitInfo === undefined) this.spawner.kill(this.id);
  }

  /** Whether this child keeps the worker's event loop alive (a waiting spare must not). */
  ref(): void {
    this.referenced = true;
    this.channel?.ref();
    this.stderrStream?.ref();
    this.spawner.childReferenced();
  }

  unref(): void {
    this.referenced = false;
    this.channel?.unref();
    this.stderrStream?.unref();
  }

  /** @internal the launcher's reports */
  attachChannel(socket: Socket, pid: number): void {
    this.pid = pid;
    this.channel = socket;
    if (!this.referenced) socket.unref();
    socket.on("data", (chunk: Buffer) => {
      let messages: unknown[];
      try {
        messages = this.decoder.push(chunk);
      } catch {
        // Not Node's framing: a broken child. Its exit is reported as usual.
        this.kill();
        return;
      }
      for (const message of messages) this.emit("message", message);
    });
    socket.on("error", () => undefined); // the exit says what happened
    for (const { frame, callback } of this.queued) socket.write(frame, callback);
    this.queued = [];
    if (this.exitInfo) socket.destroy();
  }

  /** @internal */
  attachStderr(socket: Socket): void {
    this.stderrStream = socket;
    if (!this.referenced) socket.unref();
    socket.on("data", (chunk: Buffer) => this.stderr.emit("data", chunk));
    socket.on("error", () => undefined);
    if (this.exitInfo) socket.destroy();
  }

  /** @internal */
  exited(info: SpawnedExit): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    // What the child wrote before it died is still read: the socket ends by itself. A child's
    // channel that its process no longer holds is closed here (the launcher lost, or a spawn failed).
    if (info.lostWithLauncher || this.pid === undefined) this.channel?.destroy();
    for (const { callback } of this.queued) callback?.(new Error("the sandbox process is gone"));
    this.queued = [];
    this.emit("exit", info);
  }
}

/** Starts sandbox children through one launcher process (started at the first spawn, again after it died). */
export class ChildSpawner {
  private launcher: ChildProcess | undefined;
  private readonly children = new Map<number, SpawnedChild>();
  private nextId = 1;

  constructor(
    /** Wraps `node -e <launcher>` (the parent-death signal, where the host has it: isolation.ts). */
    private readonly wrap: (node: string, args: string[]) => { command: string; args: string[] } = (node, args) => ({ command: node, args }),
    /** The launcher's environment: nothing of the worker's secrets. */
    private readonly env: Record<string, string> = {},
  ) {}

  /** Starts `command args` with an IPC channel to this process, as spawn(..., { stdio: [..., "ipc"], serialization: "advanced" }) would. */
  spawn(command: string, args: readonly string[], options: { cwd: string; env: Record<string, string> }): SpawnedChild {
    const launcher = this.running();
    const child = new SpawnedChild(this, this.nextId++);
    this.children.set(child.id, child);
    const env = { ...options.env, NODE_CHANNEL_FD: "3", NODE_CHANNEL_SERIALIZATION_MODE: "advanced" };
    this.request(launcher, { type: "spawn", id: child.id, command, args: [...args], cwd: options.cwd, env });
    return child;
  }

  /** The launcher's pid, while it runs (tests). */
  get launcherPid(): number | undefined {
    return this.launcher?.pid;
  }

  /** Kills the launcher (its children die with it) and waits for its exit. Spawning again starts a new one. */
  close(): Promise<void> {
    const launcher = this.launcher;
    if (!launcher) return Promise.resolve();
    return new Promise((resolve) => {
      launcher.once("exit", () => resolve());
      launcher.kill("SIGKILL");
    });
  }

  /** @internal */
  kill(id: number): void {
    if (this.launcher) this.request(this.launcher, { type: "kill", id });
  }

  /** @internal a child that is waited for keeps the launcher's reports coming */
  childReferenced(): void {
    this.launcher?.ref();
    this.launcher?.channel?.ref();
  }

  private request(launcher: ChildProcess, request: LauncherRequest): void {
    if (launcher.connected) launcher.send(request, () => undefined);
  }

  private running(): ChildProcess {
    if (this.launcher) return this.launcher;
    const { command, args } = this.wrap(process.execPath, ["--max-semi-space-size=1", "-e", LAUNCHER_SOURCE]);
    // Next.js types make NODE_ENV required; the launcher needs no variable at all.
    const launcher = spawn(command, args, { stdio: ["ignore", "ignore", "inherit", "ipc"], env: this.env as NodeJS.ProcessEnv });
    this.launcher = launcher;
    launcher.on("message", (report: LauncherReport, handle?: Socket) => this.report(report, handle));
    launcher.on("error", () => undefined); // no process, or a send to a dead one: the exit follows
    launcher.on("exit", () => {
      if (this.launcher === launcher) this.launcher = undefined;
      const lost = [...this.children.values()];
      this.children.clear();
      for (const child of lost) child.exited({ code: null, signal: "SIGKILL", lostWithLauncher: true });
    });
    // Children that wait (spares) must not keep the worker alive, nor must the launcher.
    launcher.unref();
    launcher.channel?.unref();
    return launcher;
  }

  private report(report: LauncherReport, handle: Socket | undefined): void {
    const child = this.children.get(report.id);
    if (!child) {
      handle?.destroy();
      return;
    }
    if (report.type === "spawned" && handle) child.attachChannel(handle, report.pid);
    else if (report.type === "stderr" && handle) child.attachStderr(handle);
    else if (report.type === "exit") {
      this.children.delete(report.id);
      child.exited({ code: report.code, signal: report.signal });
    } else if (report.type === "failed") {
      this.children.delete(report.id);
      child.emit("error", new Error(report.message));
      child.exited({ code: null, signal: null });
    } else handle?.destroy();
  }
}
