// GET /api/docs/[asset] - Swagger UI's script and style sheet (from swagger-ui-dist) and the page's start-up script
import { ApiError, withErrors } from "@/lib/errors";
import { docsAsset } from "@/lib/openapi/renderer";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (_request: Request, context: { params: Promise<{ asset: string }> }) => {
  const { asset } = await context.params;
  const file = await docsAsset(asset);
  if (!file) throw new ApiError(404, "NOT_FOUND", `There is no file "${asset}" here.`);
  return new Response(new Uint8Array(Buffer.from(file.body)), { headers: { "Content-Type": file.contentType, "Cache-Control": "public, max-age=3600" } });
});
