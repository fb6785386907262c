import type { WorkerHealth } from "./worker-health";

/**
 * The memory a model could have on each live worker (its heartbeat's `modelMemoryRoomMb`, read
 * while it was idle: worker/src/sandbox/memory-cgroup.ts) against the tasks' evaluation memory
 * limits. A model that needs more than its worker's room is killed by the kernel there, a platform
 * fault (HOST_OUT_OF_MEMORY: retried, no quota), so the organisers are told where they set the
 * limit (the task editor, live as they type, and PATCH /api/admin/tasks/{task}) and on the
 * dashboard. No server-only import: the task form runs these in the browser. The workers' rooms
 * come from `liveWorkerRooms` (./worker-health.ts).
 */
export interface WorkerRoom {
  workerId: string;
  /** its share: a room bounded by the host's available memory, divided among the live workers that draw on it */
  roomMb: number;
  /** how many live workers share the host's memory with it (1: its own limit bounds its room) */
  sharedBy: number;
}

/** A task that allows its models more memory than a live worker has room for. */
export interface MemoryShortfall {
  task: string;
  evalMemoryMb: number;
  workerId: string;
  roomMb: number;
}

/** A worker's room for a model as its heartbeat reports it (contracts/src/worker-heartbeat.ts). */
export interface ReportedRoom {
  id: string;
  health: WorkerHealth;
  modelMemoryRoomMb: number | null;
  /** the host whose available memory bounds the room (null: the worker's own limit does) */
  modelMemoryRoomSharedHost: string | null;
}

/**
 * The workers that take jobs (not stopped, not lost) whose room is known, each with its share.
 * Workers without a memory limit of their own on one host (several `npm run worker`, or containers
 * without a limit) each report the host's whole available memory, which their models would draw on
 * at once: each is counted for its part of it, the reported room divided by the live workers that
 * report the same host. A worker in a container with its own limit (the compose files give each
 * one) keeps its own room.
 */
export function liveRooms(workers: ReportedRoom[]): WorkerRoom[] {
  const live = workers.filter((worker) => worker.health !== "stopped" && worker.health !== "lost" && worker.modelMemoryRoomMb !== null);
  const onHost = new Map<string, number>();
  for (const worker of live) if (worker.modelMemoryRoomSharedHost) onHost.set(worker.modelMemoryRoomSharedHost, (onHost.get(worker.modelMemoryRoomSharedHost) ?? 0) + 1);
  return live.map((worker) => {
    const sharedBy = worker.modelMemoryRoomSharedHost ? onHost.get(worker.modelMemoryRoomSharedHost)! : 1;
    return { workerId: worker.id, roomMb: Math.floor(worker.modelMemoryRoomMb! / sharedBy), sharedBy };
  });
}

/** Each task against each live worker whose room is smaller than the task's limit. */
export function memoryShortfalls(tasks: { slug: string; evalMemoryMb: number }[], rooms: WorkerRoom[]): MemoryShortfall[] {
  return tasks.flatMap((task) =>
    rooms.filter((room) => room.roomMb < task.evalMemoryMb).map((room) => ({ task: task.slug, evalMemoryMb: task.evalMemoryMb, workerId: room.workerId, roomMb: room.roomMb })),
  );
}

const mb = (value: number) => `${Math.round(value).toLocaleString("en")} MB`;

/**
 * What the organiser is told when a task's limit is larger than some live worker's room: how many,
 * the least room and where, and what it means for a team. Null when every live worker has room
 * (or none reports one).
 */
export function memoryLimitWarning(evalMemoryMb: number, rooms: WorkerRoom[]): string | null {
  const short = rooms.filter((room) => room.roomMb < evalMemoryMb).sort((a, b) => a.roomMb - b.roomMb);
  if (short.length === 0) return null;
  const least = short[0];
  const who = short.length === rooms.length ? `No live worker has room for ${mb(evalMemoryMb)}` : `${short.length} of ${rooms.length} live workers have less room than ${mb(evalMemoryMb)}`;
  return (
    `${who} for a model: the least is ${mb(least.roomMb)} on ${least.workerId}` +
    (least.sharedBy > 1 ? ` (its share of its host's memory, which ${least.sharedBy} workers draw on). ` : ". ") +
    "A model that needs more than its worker's room fails there as a platform fault (retried, no quota): give the workers more memory or lower the limit."
  );
}
