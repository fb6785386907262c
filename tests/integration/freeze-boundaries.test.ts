import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { hiddenByFreeze, leaderboardForTask, publicCutoff } from "@/lib/leaderboard/board";
import { participantWithTeam, rankingTask, scoredSubmission } from "./support/fixtures";

// The freeze's boundaries (docs/ranking.md "The freeze"), table-driven: whether a submission made
// at a given moment is on the public board, as Postgres keeps it, and whether the app calls it
// "after the freeze" (the chart, the submission views): the two must always agree.

const CLOSE = Date.UTC(2026, 10, 25, 18, 0);
const MINUTE = 60_000;

interface BoundaryCase {
  name: string;
  closesAt: number | null;
  freezeMinutes: number;
  revealed: boolean;
  /** when the submission was made, in ms from CLOSE */
  madeAt: number;
  onPublicBoard: boolean;
}

const CASES: BoundaryCase[] = [
  { name: "a millisecond before the freeze point: counts", closesAt: CLOSE, freezeMinutes: 60, revealed: false, madeAt: -60 * MINUTE - 1, onPublicBoard: true },
  { name: "exactly at the freeze point: hidden", closesAt: CLOSE, freezeMinutes: 60, revealed: false, madeAt: -60 * MINUTE, onPublicBoard: false },
  { name: "during the freeze: hidden", closesAt: CLOSE, freezeMinutes: 60, revealed: false, madeAt: -MINUTE, onPublicBoard: false },
  { name: "after the close, not revealed: hidden", closesAt: CLOSE, freezeMinutes: 60, revealed: false, madeAt: MINUTE, onPublicBoard: false },
  { name: "during the freeze, revealed: counts", closesAt: CLOSE, freezeMinutes: 60, revealed: true, madeAt: -MINUTE, onPublicBoard: true },
  { name: "exactly at the close, revealed: hidden (made after the close)", closesAt: CLOSE, freezeMinutes: 60, revealed: true, madeAt: 0, onPublicBoard: false },
  { name: "no freeze: a submission just before the close counts", closesAt: CLOSE, freezeMinutes: 0, revealed: false, madeAt: -1, onPublicBoard: true },
  { name: "no close date: a freeze setting means nothing", closesAt: null, freezeMinutes: 60, revealed: false, madeAt: 0, onPublicBoard: true },
  { name: "no close date, revealed: counts", closesAt: null, freezeMinutes: 60, revealed: true, madeAt: 0, onPublicBoard: true },
];

describe("the freeze's boundaries", () => {
  it.each(CASES)("$name", async ({ closesAt, freezeMinutes, revealed, madeAt, onPublicBoard }) => {
    const task = await rankingTask();
    const member = await participantWithTeam();
    const createdAt = new Date(CLOSE + madeAt);
    const id = await scoredSubmission({ taskId: task.id, teamId: member.team.id, userId: member.user.id, publicScore: 0.5, privateScore: 0.5, createdAt });
    const rules = { closesAt: closesAt === null ? null : new Date(closesAt), publicFreezeMinutes: freezeMinutes, privateRevealedAt: revealed ? new Date() : null };
    await db.task.update({ where: { id: task.id }, data: rules });

    const board = await leaderboardForTask(task.slug, "public");
    expect(board.entries.map((entry) => entry.submissionId)).toEqual(onPublicBoard ? [id] : []);
    expect(hiddenByFreeze(rules, createdAt)).toBe(!onPublicBoard);
    expect(board.frozenFrom).toBe(!revealed && closesAt !== null && freezeMinutes > 0 ? new Date(closesAt - freezeMinutes * MINUTE).toISOString() : null);
    expect(publicCutoff(rules)?.getTime() ?? null).toBe(revealed ? closesAt : closesAt !== null && freezeMinutes > 0 ? closesAt - freezeMinutes * MINUTE : null);
  });
});
