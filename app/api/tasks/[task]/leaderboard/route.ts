// GET /api/tasks/[task]/leaderboard - best public score per team, ranked (?board=private once revealed)
import { jsonAnswer } from "@/lib/api-answer";
import { clientIp } from "@/lib/client-ip";
import { withErrors } from "@/lib/errors";
import { leaderboardForTask } from "@/lib/leaderboard";
import { consumeLimit } from "@/lib/rate-limits";
import { leaderboardSchema } from "@/lib/schemas/leaderboard";
import { leaderboardQuerySchema } from "@/lib/schemas/platform";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string }> }) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  const { task } = await context.params;
  // Lenient on purpose: an unknown board is the public one.
  const board = leaderboardQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams)).data?.board ?? "public";
  return jsonAnswer(leaderboardSchema, await leaderboardForTask(task, board));
});
