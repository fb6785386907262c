// GET /api/tasks/[task]/training-data - download the task's public training data (train.npz), streamed from DATA_DIR
import fs from "node:fs";
import { Readable } from "node:stream";
import { withErrors } from "@/lib/errors";
import { trainingDataForTask } from "@/lib/tasks/training-data";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (_request: Request, context: { params: Promise<{ task: string }> }) => {
  const { task } = await context.params;
  const download = await trainingDataForTask(task);
  // Streamed, never read whole: training sets can be large.
  const body = Readable.toWeb(fs.createReadStream(download.filePath)) as ReadableStream<Uint8Array>;
  return new Response(body, {
    headers: {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(download.sizeBytes),
      "Content-Disposition": `attachment; filename="${download.downloadName}"`,
      "Cache-Control": "public, max-age=300",
    },
  });
});
