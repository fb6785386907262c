// GET /api/tasks - every task's public summary: open first, then upcoming, then closed (no sign-in)
import { jsonAnswer } from "@/lib/api-answer";
import { clientIp } from "@/lib/client-ip";
import { withErrors } from "@/lib/errors";
import { consumeLimit } from "@/lib/rate-limits";
import { taskListSchema } from "@/lib/schemas/tasks";
import { taskCatalog } from "@/lib/task-catalog";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  return jsonAnswer(taskListSchema, { tasks: await taskCatalog() });
});
