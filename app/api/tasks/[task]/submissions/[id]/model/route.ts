// GET /api/tasks/[task]/submissions/[id]/model - download the team's own submitted model (session or Bearer token; organisers any)
import { Readable } from "node:stream";
import { authenticateRequest } from "@/lib/auth/request-caller";
import { clientIp } from "@/lib/http/client-ip";
import { withErrors } from "@/lib/errors";
import { consumeLimit } from "@/lib/http/rate-limits";
import { submissionModelForCaller } from "@/lib/submissions/download";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (request: Request, context: { params: Promise<{ task: string; id: string }> }) => {
  await consumeLimit("pollsPerIp", clientIp(request));
  const { task, id } = await context.params;
  const caller = await authenticateRequest(request);
  const download = await submissionModelForCaller(caller, task, Number(id));
  // Streamed from storage, never read whole: models can be hundreds of MB.
  const body = Readable.toWeb(await download.open()) as ReadableStream<Uint8Array>;
  return new Response(body, {
    headers: {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(download.sizeBytes),
      "Content-Disposition": `attachment; filename="${download.downloadName}"`,
      "X-Content-SHA256": download.sha256,
      "Cache-Control": "private, no-store",
    },
  });
});
