// GET /api/floor-pages - the same constant answer from a Pages Router API route (Node's request and response, no Web Request/Response)
import type { NextApiRequest, NextApiResponse } from "next";
import { FLOOR_ANSWER } from "../../floor-answer";

const body = Buffer.from(FLOOR_ANSWER);

export default function handler(_request: NextApiRequest, response: NextApiResponse): void {
  response.setHeader("Content-Type", "application/json");
  response.setHeader("Cache-Control", "public, max-age=2");
  response.end(body);
}
