import fs from "node:fs";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "@/lib/openapi/document";
import { openApiValidator, type OpenApiDocument } from "../support/openapi-validator";

// The API description is generated, so these guard the generator: every route file is in it with
// the methods it exports, every schema compiles, and a wrong answer is caught. Real answers are
// validated against it where tests get them (tests/e2e/cli.test.ts).
const ROOT = path.resolve(__dirname, "../..");

function routeFiles(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return routeFiles(full);
    return entry.name === "route.ts" ? [full] : [];
  });
}

/** app/submit/[task]/status/[id]/route.ts -> /submit/{task}/status/{id}; [...nextauth] -> {nextauth} */
function pathTemplate(file: string): string {
  const relative = path.relative(path.join(ROOT, "app"), path.dirname(file)).split(path.sep);
  return "/" + relative.map((segment) => segment.replace(/^\[(?:\.\.\.)?(\w+)\]$/, "{$1}")).join("/");
}

function exportedMethods(file: string): string[] {
  const source = fs.readFileSync(file, "utf8");
  return [...source.matchAll(/export (?:const|async function|function) (GET|POST|PUT|PATCH|DELETE)\b/g), ...source.matchAll(/export const \{ ?(GET|POST)/g)]
    .map((match) => match[1].toLowerCase())
    .concat(/export \{ handler as GET, handler as POST \}/.test(source) ? ["get", "post"] : [])
    .sort();
}

const document = openApiDocument() as unknown as OpenApiDocument & { openapi: string; components: { schemas: Record<string, object> } };

describe("the OpenAPI document", () => {
  it("describes every route file with exactly the methods it exports, and nothing that is not a route", () => {
    const files = routeFiles(path.join(ROOT, "app"));
    expect(files.length).toBeGreaterThan(15);
    const routes = Object.fromEntries(files.map((file) => [pathTemplate(file), exportedMethods(file)]));
    for (const [template, methods] of Object.entries(routes)) {
      expect(methods.length, `${template} exports no handler this test recognises`).toBeGreaterThan(0);
      expect(Object.keys(document.paths[template] ?? {}).sort(), `methods of ${template}`).toEqual(methods);
    }
    expect(Object.keys(document.paths).sort()).toEqual(Object.keys(routes).sort());
  });

  it("is OpenAPI 3.1 and every component schema compiles as JSON Schema 2020-12", () => {
    expect(document.openapi).toBe("3.1.0");
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema(document as object, "openapi.json");
    for (const id of Object.keys(document.components.schemas)) {
      expect(ajv.getSchema(`openapi.json#/components/schemas/${id}`), id).toBeTypeOf("function");
    }
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(["SubmissionStatus", "Leaderboard", "TaskList", "AcceptedSubmission", "Error"]));
  });

  it("refuses an answer that is not what the document says (a missing field, an unknown one, a wrong type)", () => {
    const validate = openApiValidator(document);
    const board = { task: "t", metric: "accuracy", direction: "MAXIMIZE", board: "public", revealed: false, frozenFrom: null, statisticallyTiedTeams: 0, formula: null, scoringVersion: 1, rescoring: null, entries: [], page: 1, pageSize: 100, totalEntries: 0, totalPages: 1, search: "", ownEntry: null };
    expect(() => validate("GET", "/api/tasks/{task}/leaderboard", 200, board)).not.toThrow();
    const { revealed: _revealed, ...missing } = board;
    expect(() => validate("GET", "/api/tasks/{task}/leaderboard", 200, missing)).toThrow(/revealed/);
    expect(() => validate("GET", "/api/tasks/{task}/leaderboard", 200, { ...board, storageKey: "x" })).toThrow(/additional/);
    expect(() => validate("GET", "/api/tasks/{task}/leaderboard", 200, { ...board, entries: [{ rank: "1" }] })).toThrow();
    expect(() => validate("GET", "/submit/{task}/status/{id}", 404, { error: { code: "NOT_FOUND", message: "no" } })).not.toThrow();
  });
});
