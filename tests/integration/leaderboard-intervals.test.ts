import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { GET as leaderboardRoute } from "@/app/api/tasks/[task]/leaderboard/route";
import { leaderboardForTask } from "@/lib/leaderboard/board";
import { forgetLeaderboards } from "@/lib/leaderboard/cache";
import { openApiDocument } from "@/lib/openapi/document";
import { openApiValidator, type OpenApiDocument } from "../support/openapi-validator";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";

// Each result's bootstrap intervals as the boards show them (lib/leaderboard/board.ts), with the leader's
// statistically tied tier, on real Postgres: the public board shows public intervals, the private
// one (after the reveal) private intervals, and nothing public carries a private one before it.

type Interval = [number, number] | null;
interface Seeded {
  team: string;
  publicScore: number;
  publicInterval: Interval;
  privateScore: number;
  privateInterval: Interval;
}

const validate = openApiValidator(openApiDocument() as unknown as OpenApiDocument);

/** A scored submission with a result stored the way the worker stores it, intervals included. */
async function seed(taskId: number, rows: Seeded[]): Promise<Map<string, number>> {
  const teams = new Map<string, number>();
  for (const row of rows) {
    const member = await participantWithTeam(uniqueName(row.team));
    teams.set(row.team, member.team.id);
    const { id } = await db.submission.create({
      data: { taskId, teamId: member.team.id, userId: member.user.id, fileName: "m.onnx", sha256: "ab".repeat(32), sizeBytes: 1, storageKey: uniqueName("k"), paramCount: 1, status: "RUNNING" },
    });
    await db.$transaction(async (tx) => {
      await tx.submission.update({ where: { id }, data: { status: "SCORED" } });
      await tx.result.create({
        data: {
          submissionId: id,
          publicMetrics: {},
          privateMetrics: {},
          publicScore: row.publicScore,
          privateScore: row.privateScore,
          publicIntervalLow: row.publicInterval?.[0] ?? null,
          publicIntervalHigh: row.publicInterval?.[1] ?? null,
          privateIntervalLow: row.privateInterval?.[0] ?? null,
          privateIntervalHigh: row.privateInterval?.[1] ?? null,
          latencyP50Ms: 1,
          latencyP95Ms: 1,
          modelBytes: 1,
          paramCount: 1,
          receipt: {},
        },
      });
    });
  }
  return teams;
}

async function newTask(direction: "MAXIMIZE" | "MINIMIZE") {
  return taskWithDataset({ inputs: randomRows(20, 4, 3), labels: int64Labels(Array.from({ length: 20 }, (_, i) => i % 3)), direction });
}

async function routeBoard(slug: string, board: "public" | "private") {
  const response = await leaderboardRoute(new Request(`http://x/api/tasks/${slug}/leaderboard?board=${board}`), { params: Promise.resolve({ task: slug }) });
  expect(response.status).toBe(200);
  const body = await response.json();
  validate("GET", "/api/tasks/{task}/leaderboard", 200, body);
  return { body, text: JSON.stringify(body) };
}

/** [seeded name, interval, in the leader's tier] per row of a board. */
const shape = (entries: { teamId: number; interval: { low: number; high: number } | null; statisticallyTied: boolean }[], names: Map<number, string>) =>
  entries.map((entry) => [names.get(entry.teamId), entry.interval ? [entry.interval.low, entry.interval.high] : null, entry.statisticallyTied]);

describe("a MAXIMIZE task's boards", () => {
  // Public: A leads; B and C overlap A's interval, D does not, E has no interval (scored before them).
  // Private: C leads and only A overlaps it.
  const rows: Seeded[] = [
    { team: "A", publicScore: 0.91, publicInterval: [0.89, 0.93], privateScore: 0.9, privateInterval: [0.873, 0.921] },
    { team: "B", publicScore: 0.9, publicInterval: [0.88, 0.92], privateScore: 0.85, privateInterval: [0.83, 0.868] },
    { team: "C", publicScore: 0.895, publicInterval: [0.85, 0.94], privateScore: 0.93, privateInterval: [0.911, 0.949] },
    { team: "D", publicScore: 0.86, publicInterval: [0.84, 0.8899], privateScore: 0.8, privateInterval: [0.78, 0.82] },
    { team: "E", publicScore: 0.85, publicInterval: null, privateScore: 0.84, privateInterval: null },
  ];
  let slug: string;
  let names: Map<number, string>;

  beforeAll(async () => {
    const task = await newTask("MAXIMIZE");
    slug = task.slug;
    const teams = await seed(task.id, rows);
    names = new Map([...teams].map(([name, id]) => [id, name]));
  });

  it("shows each team's public interval and groups the teams overlapping the leader's into its tier", async () => {
    const { body, text } = await routeBoard(slug, "public");
    expect(body.revealed).toBe(false);
    expect(body.statisticallyTiedTeams).toBe(3);
    expect(shape(body.entries, names)).toEqual([
      ["A", [0.89, 0.93], true],
      ["B", [0.88, 0.92], true],
      ["C", [0.85, 0.94], true],
      ["D", [0.84, 0.8899], false],
      ["E", null, false],
    ]);
    // Before the reveal no private interval is in any answer, also when the private board is asked for.
    const asked = await routeBoard(slug, "private");
    expect(asked.body.board).toBe("public");
    for (const answer of [text, asked.text]) for (const row of rows) if (row.privateInterval) expect(answer).not.toContain(String(row.privateInterval[1]));
  });

  it("shows private intervals and the private leader's tier once revealed", async () => {
    // As the organisers' reveal does (lib/admin/controls.ts), the process's cached boards are dropped.
    await db.task.update({ where: { slug }, data: { privateRevealedAt: new Date() } });
    forgetLeaderboards(slug);
    const { body } = await routeBoard(slug, "private");
    expect(body.board).toBe("private");
    expect(body.statisticallyTiedTeams).toBe(2);
    expect(shape(body.entries, names)).toEqual([
      ["C", [0.911, 0.949], true],
      ["A", [0.873, 0.921], true],
      ["B", [0.83, 0.868], false],
      ["E", null, false],
      ["D", [0.78, 0.82], false],
    ]);
    await db.task.update({ where: { slug }, data: { privateRevealedAt: null } });
  });
});

describe("a MINIMIZE task's board", () => {
  it.each<[string, Seeded[], [string, boolean][], number]>([
    [
      "the lowest error leads; teams overlapping it are tied",
      [
        { team: "low", publicScore: 0.1, publicInterval: [0.08, 0.12], privateScore: 0.1, privateInterval: [0.08, 0.12] },
        { team: "close", publicScore: 0.115, publicInterval: [0.11, 0.125], privateScore: 0.1, privateInterval: [0.08, 0.12] },
        { team: "far", publicScore: 0.2, publicInterval: [0.18, 0.22], privateScore: 0.1, privateInterval: [0.08, 0.12] },
      ],
      [["low", true], ["close", true], ["far", false]],
      2,
    ],
    [
      "a leader scored before intervals existed: no tier",
      [
        { team: "old", publicScore: 0.05, publicInterval: null, privateScore: 0.1, privateInterval: null },
        { team: "new", publicScore: 0.06, publicInterval: [0.04, 0.08], privateScore: 0.1, privateInterval: [0.08, 0.12] },
      ],
      [["old", false], ["new", false]],
      0,
    ],
  ])("%s", async (_name, rows, expected, tierSize) => {
    const task = await newTask("MINIMIZE");
    const teams = await seed(task.id, rows);
    const names = new Map([...teams].map(([name, id]) => [id, name]));
    const board = await leaderboardForTask(task.slug, "public");
    expect(shape(board.entries, names).map(([name, , tied]) => [name, tied])).toEqual(expected);
    expect(board.statisticallyTiedTeams).toBe(tierSize);
  });
});
