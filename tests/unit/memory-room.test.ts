import { describe, expect, it } from "vitest";
import { liveRooms, memoryLimitWarning, memoryShortfalls, type ReportedRoom } from "@/lib/admin/memory-room";

// The workers' room for a model against the tasks' memory limits: the dashboard's alert, the task
// form's warning as the organiser types, and the admin API's answer all come from these.

// Containers with a memory limit of their own each (the compose files'): no host shared.
const own = { modelMemoryRoomSharedHost: null };
const workers: ReportedRoom[] = [
  { id: "worker-1", health: "online", modelMemoryRoomMb: 6144, ...own },
  { id: "worker-2", health: "draining", modelMemoryRoomMb: 5000, ...own },
  { id: "worker-3", health: "paused", modelMemoryRoomMb: 5900, ...own },
  { id: "worker-4", health: "lost", modelMemoryRoomMb: 100, ...own },
  { id: "worker-5", health: "stopped", modelMemoryRoomMb: 100, ...own },
  { id: "worker-6", health: "online", modelMemoryRoomMb: null, ...own },
];

describe("the workers' room for a model", () => {
  it("counts the workers that take jobs and report a room: not the lost, the stopped, nor those that report none", () => {
    expect(liveRooms(workers)).toEqual([
      { workerId: "worker-1", roomMb: 6144, sharedBy: 1 },
      { workerId: "worker-2", roomMb: 5000, sharedBy: 1 },
      { workerId: "worker-3", roomMb: 5900, sharedBy: 1 },
    ]);
  });

  it("divides a host's available memory among the live workers without a limit of their own that draw on it", () => {
    // Three workers on host A without limits (each reads A's ~46 GB free), one on host B, one on A in
    // a container with its own limit, and a lost one on A (it runs no model).
    const rooms = liveRooms([
      { id: "a-1", health: "online", modelMemoryRoomMb: 46_000, modelMemoryRoomSharedHost: "boot-a" },
      { id: "a-2", health: "online", modelMemoryRoomMb: 45_900, modelMemoryRoomSharedHost: "boot-a" },
      { id: "a-3", health: "draining", modelMemoryRoomMb: 46_100, modelMemoryRoomSharedHost: "boot-a" },
      { id: "a-gone", health: "lost", modelMemoryRoomMb: 46_000, modelMemoryRoomSharedHost: "boot-a" },
      { id: "b-1", health: "online", modelMemoryRoomMb: 20_000, modelMemoryRoomSharedHost: "boot-b" },
      { id: "a-limited", health: "online", modelMemoryRoomMb: 6_000, modelMemoryRoomSharedHost: null },
    ]);
    expect(rooms).toEqual([
      { workerId: "a-1", roomMb: 15_333, sharedBy: 3 },
      { workerId: "a-2", roomMb: 15_300, sharedBy: 3 },
      { workerId: "a-3", roomMb: 15_366, sharedBy: 3 },
      { workerId: "b-1", roomMb: 20_000, sharedBy: 1 },
      { workerId: "a-limited", roomMb: 6_000, sharedBy: 1 },
    ]);
    expect(memoryLimitWarning(16_000, rooms.filter((room) => room.sharedBy === 3))).toBe(
      "No live worker has room for 16,000 MB for a model: the least is 15,300 MB on a-2 (its share of its host's memory, which 3 workers draw on). " +
        "A model that needs more than its worker's room fails there as a platform fault (retried, no quota): give the workers more memory or lower the limit.",
    );
  });

  it("flags each task against each worker with less room than its limit", () => {
    const rooms = liveRooms(workers);
    expect(memoryShortfalls([{ slug: "fits", evalMemoryMb: 2048 }, { slug: "big", evalMemoryMb: 6000 }], rooms)).toEqual([
      { task: "big", evalMemoryMb: 6000, workerId: "worker-2", roomMb: 5000 },
      { task: "big", evalMemoryMb: 6000, workerId: "worker-3", roomMb: 5900 },
    ]);
  });

  it("warns when some worker has less room than the limit, naming the least room and where, and not when every worker has room", () => {
    const rooms = liveRooms(workers);
    expect(memoryLimitWarning(5000, rooms)).toBeNull(); // equal room is room enough
    expect(memoryLimitWarning(6000, rooms)).toBe(
      "2 of 3 live workers have less room than 6,000 MB for a model: the least is 5,000 MB on worker-2. " +
        "A model that needs more than its worker's room fails there as a platform fault (retried, no quota): give the workers more memory or lower the limit.",
    );
    expect(memoryLimitWarning(65536, rooms)).toMatch(/^No live worker has room for 65,536 MB for a model: the least is 5,000 MB on worker-2\. /);
    // No worker reports a room (none online, or all too old to send one): nothing to compare with.
    expect(memoryLimitWarning(65536, [])).toBeNull();
  });
});
