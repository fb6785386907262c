import "server-only";
import { z } from "zod";
import { boardSettingsRequestSchema, boardSettingsSchema } from "../schemas/board-settings";
import { apiErrorSchema } from "../schemas/errors";
import { finalSelectionRequestSchema, finalSelectionSchema, leaderboardPageSchema, leaderboardViewerQuerySchema, leaderboardViewerSchema } from "../schemas/leaderboard";
import { exportQuerySchema, healthSchema, leaderboardQuerySchema } from "../schemas/platform";
import {
  acceptedSubmissionSchema,
  announcementsSchema,
  queueStatusSchema,
  submissionLabelsAnswerSchema,
  submissionLabelsRequestSchema,
  submissionStatusSchema,
  teamSubmissionsQuerySchema,
  teamSubmissionsSchema,
} from "../schemas/submissions";
import { taskListSchema, taskUpdateAnswerSchema, taskUpdateRequestSchema } from "../schemas/tasks";

/**
 * The OpenAPI 3.1 document of every route (GET /api/openapi.json), generated from the zod schemas
 * the routes answer with (lib/http/api-answer.ts) and validate with, through zod 4's JSON Schema output
 * (https://zod.dev/json-schema). Nothing here restates a field: a changed schema changes the document.
 * tests/unit/openapi.test.ts checks that every app/** /route.ts has an entry and that answers
 * validate against it.
 */
type Auth = "public" | "participant" | "organiser" | "metrics";
type Body = { schema: z.ZodType } | { contentType: string; description: string };

interface Operation {
  method: "get" | "post" | "patch";
  path: string;
  summary: string;
  tag: "Submissions" | "Tasks" | "Leaderboard" | "Platform" | "Admin";
  auth: Auth;
  query?: z.ZodObject;
  requestBody?: { contentType: string; schema: Record<string, unknown>; description: string };
  /** status code to answer */
  answers: Record<number, Body>;
  /** error statuses this operation documents besides 401/403 of its auth */
  errors?: number[];
}

const modelUpload = {
  contentType: "multipart/form-data",
  description: "The ONNX model in the multipart field `file` (streamed; never held in memory).",
  schema: { type: "object", properties: { file: { type: "string", contentMediaType: "application/octet-stream" } }, required: ["file"] },
};
const eventStream = (description: string): Body => ({ contentType: "text/event-stream", description });
const looseObject: Body = { schema: z.looseObject({}) };

export const OPERATIONS: Operation[] = [
  { method: "post", path: "/submit/{task}", tag: "Submissions", auth: "participant", summary: "Upload a model for evaluation", requestBody: modelUpload, answers: { 202: { schema: acceptedSubmissionSchema } }, errors: [400, 403, 404, 413, 422, 429, 503] },
  { method: "get", path: "/submit/{task}/status/{id}", tag: "Submissions", auth: "participant", summary: "One submission of your team: status, queue position, scores, failure", answers: { 200: { schema: submissionStatusSchema } }, errors: [404] },
  { method: "get", path: "/submit/queue/status", tag: "Submissions", auth: "participant", summary: "Queue depth, workers online and your team's queued submissions", answers: { 200: { schema: queueStatusSchema } }, errors: [503] },
  { method: "get", path: "/api/submissions/{id}", tag: "Submissions", auth: "participant", summary: "One submission of your team by id alone", answers: { 200: { schema: submissionStatusSchema } }, errors: [404] },
  { method: "get", path: "/api/tasks/{task}/submissions", tag: "Submissions", auth: "participant", summary: "Your team's submissions for a task, newest first, 20 a page", query: teamSubmissionsQuerySchema, answers: { 200: { schema: teamSubmissionsSchema } }, errors: [404] },
  {
    method: "patch", path: "/api/tasks/{task}/submissions/{id}", tag: "Submissions", auth: "participant", summary: "Rename or re-describe one of your team's submissions",
    requestBody: { contentType: "application/json", description: "a field left out stays as it is", schema: z.toJSONSchema(submissionLabelsRequestSchema) as Record<string, unknown> },
    answers: { 200: { schema: submissionLabelsAnswerSchema } }, errors: [400, 404, 422],
  },
  { method: "get", path: "/api/tasks/{task}/submissions/{id}/model", tag: "Submissions", auth: "participant", summary: "Download your team's own submitted model (X-Content-SHA256 carries its hash)", answers: { 200: { contentType: "application/octet-stream", description: "the .onnx file as uploaded" } }, errors: [404] },
  { method: "get", path: "/api/tasks/{task}/announcements", tag: "Tasks", auth: "public", summary: "The organisers' announcements for the task and the event-wide ones, newest first", answers: { 200: { schema: announcementsSchema } }, errors: [404] },
  { method: "get", path: "/api/tasks/{task}/announcements/events", tag: "Tasks", auth: "public", summary: "Server-sent events: an announcement was posted or withdrawn", answers: { 200: eventStream("`event: announcement` with `{ id, change, at }`.") }, errors: [404] },
  {
    method: "get", path: "/api/tasks/{task}/submissions/events", tag: "Submissions", auth: "participant", summary: "Server-sent events: your team's submissions changed status",
    answers: { 200: eventStream('`event: submission` with `{ submissionId, status, at }` for your team\'s submissions; `event: queue` with `{ at }` when another team\'s left the queue.') }, errors: [404],
  },
  { method: "get", path: "/api/tasks", tag: "Tasks", auth: "public", summary: "Every task's public summary", answers: { 200: { schema: taskListSchema } } },
  { method: "get", path: "/api/tasks/{task}/training-data", tag: "Tasks", auth: "public", summary: "Download the task's public training data (.npz)", answers: { 200: { contentType: "application/octet-stream", description: "train.npz" } }, errors: [404] },
  { method: "get", path: "/api/tasks/{task}/leaderboard", tag: "Leaderboard", auth: "public", summary: "Best score per team, ranked, a page at a time (ETag / If-None-Match: 304)", query: leaderboardQuerySchema, answers: { 200: { schema: leaderboardPageSchema } }, errors: [404, 422, 429] },
  { method: "get", path: "/api/tasks/{task}/leaderboard/viewer", tag: "Leaderboard", auth: "public", summary: "The leaderboard page's own part for the browser's signed-in reader: who they are, their team's row, its best public score and its scored submissions (the page's HTML is the same for every reader)", query: leaderboardViewerQuerySchema, answers: { 200: { schema: leaderboardViewerSchema } }, errors: [404, 422, 429] },
  { method: "get", path: "/api/tasks/{task}/leaderboard/events", tag: "Leaderboard", auth: "public", summary: "Server-sent events: a submission of this task was scored, or the private board was revealed or hidden", answers: { 200: eventStream("`event: scored` with `{ task, at, public, private?, scoringVersion, rescoring }`: the scoring team's new rows (`private` once revealed), the task's scoring version and its re-score's progress (`{ done, total }` or null). While the public board is frozen, only a score that becomes the team's public row is sent; any other sends nothing. `event: revealed` / `event: hidden` with `{ taskSlug, revealed, at }` when an organiser reveals or hides the private board.") }, errors: [404] },
  { method: "get", path: "/api/tasks/{task}/finals", tag: "Leaderboard", auth: "participant", summary: "Your team's final submissions for the private leaderboard: the selection (or the default), K, and when selection closes", answers: { 200: { schema: finalSelectionSchema } }, errors: [404] },
  {
    method: "post", path: "/api/tasks/{task}/finals", tag: "Leaderboard", auth: "participant", summary: "Select your team's final submissions (replaces the selection; up to K scored submissions, until the task closes)",
    requestBody: { contentType: "application/json", description: "an empty list goes back to the default finals (your K best public submissions)", schema: z.toJSONSchema(finalSelectionRequestSchema) as Record<string, unknown> },
    answers: { 200: { schema: finalSelectionSchema } }, errors: [400, 404, 409, 422],
  },
  { method: "get", path: "/api/health", tag: "Platform", auth: "public", summary: "Liveness and readiness: Postgres and Redis reachable", answers: { 200: { schema: healthSchema }, 503: { schema: healthSchema } } },
  { method: "get", path: "/metrics", tag: "Platform", auth: "metrics", summary: "Prometheus metrics (404 while METRICS_TOKEN is unset)", answers: { 200: { contentType: "text/plain", description: "Prometheus text format 0.0.4" } }, errors: [404, 500] },
  { method: "get", path: "/api/openapi.json", tag: "Platform", auth: "public", summary: "This document", answers: { 200: looseObject } },
  { method: "get", path: "/api/docs", tag: "Platform", auth: "public", summary: "This document, rendered (Swagger UI)", answers: { 200: { contentType: "text/html", description: "a browsable page" } } },
  { method: "get", path: "/api/docs/{asset}", tag: "Platform", auth: "public", summary: "The renderer's script and style sheet", answers: { 200: { contentType: "application/octet-stream", description: "swagger-ui-dist's files" } }, errors: [404] },
  { method: "get", path: "/api/auth/{nextauth}", tag: "Platform", auth: "public", summary: "next-auth's browser sign-in endpoints (not for scripts: use a Bearer token)", answers: { 200: looseObject } },
  { method: "post", path: "/api/auth/{nextauth}", tag: "Platform", auth: "public", summary: "next-auth's browser sign-in endpoints (not for scripts: use a Bearer token)", answers: { 200: looseObject } },
  { method: "get", path: "/api/admin/dashboard", tag: "Admin", auth: "organiser", summary: "The admin dashboard's live snapshot (the page's own feed; its shape may change)", answers: { 200: looseObject } },
  {
    method: "patch", path: "/api/admin/tasks/{task}", tag: "Admin", auth: "organiser", summary: "Change a task's settings; a scoring change on a task with evaluated submissions needs confirmRescore (409 says what would change) and re-scores them",
    requestBody: { contentType: "application/json", description: "a field left out stays as it is", schema: z.toJSONSchema(taskUpdateRequestSchema) as Record<string, unknown> },
    answers: { 200: { schema: taskUpdateAnswerSchema } }, errors: [400, 404, 409, 422],
  },
  { method: "post", path: "/api/admin/tasks/{task}/dataset", tag: "Admin", auth: "organiser", summary: "Upload a task's hidden test set (multipart inputs, labels, optional train)", requestBody: { contentType: "multipart/form-data", description: "fields `inputs`, `labels`, optional `train`", schema: { type: "object" } }, answers: { 201: looseObject }, errors: [404, 422] },
  { method: "post", path: "/api/admin/tasks/{task}/reference", tag: "Admin", auth: "organiser", summary: "Upload an organisers' reference model, evaluated but never ranked", requestBody: modelUpload, answers: { 202: looseObject }, errors: [404, 422] },
  {
    method: "patch", path: "/api/admin/tasks/{task}/board-settings", tag: "Admin", auth: "organiser", summary: "Show or hide the reference model's row on the task's leaderboards",
    requestBody: { contentType: "application/json", description: "the reference row is never ranked (docs/ranking.md)", schema: z.toJSONSchema(boardSettingsRequestSchema) as Record<string, unknown> },
    answers: { 200: { schema: boardSettingsSchema } }, errors: [400, 404, 422],
  },
  { method: "get", path: "/api/admin/tasks/{task}/validation", tag: "Admin", auth: "organiser", summary: "The task's dataset version and its latest reference model's outcome", answers: { 200: looseObject }, errors: [404] },
  {
    method: "get", path: "/api/admin/tasks/{task}/export", tag: "Admin", auth: "organiser", summary: "Export the leaderboard, the private leaderboard or the submissions as CSV or JSON", query: exportQuerySchema,
    answers: { 200: { contentType: "text/csv", description: "CSV, or a JSON array of rows with format=json" } }, errors: [404, 422],
  },
];

const SECURITY: Record<Auth, Record<string, string[]>[] | undefined> = {
  public: undefined,
  participant: [{ bearerToken: [] }, { session: [] }],
  organiser: [{ session: [] }],
  metrics: [{ metricsToken: [] }],
};

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "The request is malformed",
  401: "No valid token or session",
  403: "Not allowed (no team, task closed or not open, not an organiser)",
  404: "No such task, submission or file (another team's submission is a 404 too)",
  409: "The request conflicts with the task's state (final submissions after the task closed)",
  413: "The model is larger than the task allows",
  422: "The model or the request does not pass the checks",
  429: "The team's daily quota for the task is used up",
  500: "Our fault",
  503: "Redis or Postgres cannot be reached",
};

function schemaRef(schema: z.ZodType, components: Record<string, unknown>): Record<string, unknown> {
  const id = z.globalRegistry.get(schema)?.id;
  if (id && components[id]) return { $ref: `#/components/schemas/${id}` };
  return stripDialect(z.toJSONSchema(schema, { unrepresentable: "any" }) as Record<string, unknown>);
}

function stripDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function pathParameters(path: string) {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: "path", required: true, schema: { type: "string" } }));
}

function queryParameters(query: z.ZodObject | undefined) {
  if (!query) return [];
  const json = z.toJSONSchema(query, { io: "input" }) as { properties: Record<string, Record<string, unknown>> };
  return Object.entries(json.properties).map(([name, schema]) => ({ name, in: "query", required: false, schema }));
}

export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  const generated = z.toJSONSchema(z.globalRegistry, { uri: (id) => `#/components/schemas/${id}`, unrepresentable: "any" }) as { schemas: Record<string, Record<string, unknown>> };
  const components: Record<string, unknown> = {};
  for (const [id, schema] of Object.entries(generated.schemas)) components[id] = stripDialect(schema);

  const errorAnswer = { "application/json": { schema: schemaRef(apiErrorSchema, components) } };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of OPERATIONS) {
    const responses: Record<string, unknown> = {};
    for (const [status, body] of Object.entries(operation.answers)) {
      responses[status] =
        "schema" in body
          ? { description: operation.summary, content: { "application/json": { schema: schemaRef(body.schema, components) } } }
          : { description: body.description, content: { [body.contentType]: {} } };
    }
    const errorStatuses = new Set([...(operation.errors ?? []), ...(operation.auth === "public" ? [] : [401]), ...(operation.auth === "organiser" ? [403] : [])]);
    for (const status of [...errorStatuses].sort()) {
      responses[String(status)] = { description: ERROR_DESCRIPTIONS[status] ?? "Error", content: errorAnswer };
    }
    paths[operation.path] ??= {};
    paths[operation.path][operation.method] = {
      summary: operation.summary,
      tags: [operation.tag],
      operationId: `${operation.method}${operation.path.replace(/[{}]/g, "").replace(/[^a-zA-Z0-9]+(.)?/g, (_, next: string | undefined) => (next ?? "").toUpperCase())}`,
      ...(SECURITY[operation.auth] ? { security: SECURITY[operation.auth] } : {}),
      parameters: [...pathParameters(operation.path), ...queryParameters(operation.query)],
      ...(operation.requestBody
        ? { requestBody: { required: true, description: operation.requestBody.description, content: { [operation.requestBody.contentType]: { schema: operation.requestBody.schema } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "MLS-GOAT API",
      version: "1",
      description:
        "Upload ONNX models, follow their evaluation and read the leaderboards. Errors are `{ \"error\": { \"code\", \"message\" } }`. Create an API token on the /tokens page and send `Authorization: Bearer TOKEN`.",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearerToken: { type: "http", scheme: "bearer", description: "an API token from the /tokens page" },
        session: { type: "apiKey", in: "cookie", name: "next-auth.session-token", description: "the browser's signed-in session" },
        metricsToken: { type: "http", scheme: "bearer", description: "METRICS_TOKEN" },
      },
    },
  };
}
