// GET /submit/queue/status - queue depth, workers online, and the caller's team's queued submissions
import { jsonAnswer } from "@/lib/http/api-answer";
import { authenticateRequest } from "@/lib/auth/request-caller";
import { clientIp } from "@/lib/http/client-ip";
import { ApiError, withErrors } from "@/lib/errors";
import { queueCounts } from "@/lib/queue/evaluation-queue";
import { consumeLimit } from "@/lib/http/rate-limits";
import { queueStatusSchema } from "@/lib/schemas/submissions";
import { teamQueue } from "@/lib/submissions/status";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  const caller = await authenticateRequest(request);
  let counts;
  try {
    counts = await queueCounts();
  } catch (error) {
    throw new ApiError(503, "QUEUE_UNAVAILABLE", `The queue cannot be read right now: ${(error as Error).message}`);
  }
  return jsonAnswer(queueStatusSchema, {
    waiting: counts.waiting,
    running: counts.running,
    delayed: counts.delayed,
    workersOnline: counts.workersOnline,
    yourSubmissions: await teamQueue(caller.teamId),
  });
});
