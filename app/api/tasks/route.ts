// GET /api/tasks - every task's public summary: open first, then upcoming, then closed (no sign-in)
import { jsonAnswer } from "@/lib/http/api-answer";
import { clientIp } from "@/lib/http/client-ip";
import { withErrors } from "@/lib/errors";
import { consumeLimit } from "@/lib/http/rate-limits";
import { taskListSchema } from "@/lib/schemas/tasks";
import { taskCatalog } from "@/lib/tasks/catalog";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  return jsonAnswer(taskListSchema, { tasks: await taskCatalog() });
});
