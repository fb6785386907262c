// GET /api/docs - the API description (/api/openapi.json) rendered by Swagger UI, served from npm
import { DOCS_PAGE } from "@/lib/openapi/renderer";

export const dynamic = "force-static";

export function GET(): Response {
  return new Response(DOCS_PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
}
