// GET /api/openapi.json - the OpenAPI 3.1 description of every route, generated from the routes' zod schemas
import { openApiDocument } from "@/lib/openapi/document";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  return Response.json(openApiDocument(), { headers: { "Cache-Control": "public, max-age=60" } });
}
