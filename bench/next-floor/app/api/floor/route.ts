// GET /api/floor - the constant answer from an App Router route handler (the platform's API is made of these)
import { FLOOR_ANSWER } from "../../../floor-answer";

export const dynamic = "force-dynamic";

export function GET(): Response {
  return new Response(FLOOR_ANSWER, { headers: { "Content-Type": "application/json", "Cache-Control": "public, max-age=2" } });
}
