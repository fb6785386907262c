import { describe, expect, it } from "vitest";
import { liveRooms, memoryLimitWarning, memoryShortfalls } from "@/lib/admin/memory-room";

// The workers' room for a model against the tasks' memory limits: the dashboard's alert, the task
// form's warning as the organiser types, and the admin API's answer all come from these.

const workers = [
  { id: "worker-1", health: "online" as const, modelMemoryRoomMb: 6144 },
  { id: "worker-2", health: "draining" as const, modelMemoryRoomMb: 5000 },
  { id: "worker-3", health: "paused" as const, modelMemoryRoomMb: 5900 },
  { id: "worker-4", health: "lost" as const, modelMemoryRoomMb: 100 },
  { id: "worker-5", health: "stopped" as const, modelMemoryRoomMb: 100 },
  { id: "worker-6", health: "online" as const, modelMemoryRoomMb: null },
];

describe("the workers' room for a model", () => {
  it("counts the workers that take jobs and report a room: not the lost, the stopped, nor those that report none", () => {
    expect(liveRooms(workers)).toEqual([
      { workerId: "worker-1", roomMb: 6144 },
      { workerId: "worker-2", roomMb: 5000 },
      { workerId: "worker-3", roomMb: 5900 },
    ]);
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
