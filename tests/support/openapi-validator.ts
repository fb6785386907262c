import { Ajv2020 } from "ajv/dist/2020.js";

/**
 * Validates an answer against the OpenAPI document's schema for (method, path template, status),
 * with ajv's JSON Schema 2020-12 dialect (the one OpenAPI 3.1 uses). Throws with ajv's errors, so a
 * test that gets an answer the document does not describe fails.
 */
export type OpenApiDocument = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: object }> }> }>> };

export function openApiValidator(document: OpenApiDocument) {
  // strict: false, because the document carries OpenAPI's own keys (openapi, paths, ...) around its schemas.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema(document as object, "openapi.json");
  return function validateAnswer(method: string, pathTemplate: string, status: number, body: unknown): void {
    const operation = document.paths[pathTemplate]?.[method.toLowerCase()];
    if (!operation) throw new Error(`the document has no ${method} ${pathTemplate}`);
    const schema = operation.responses[String(status)]?.content?.["application/json"]?.schema;
    if (!schema) throw new Error(`the document has no JSON answer ${status} for ${method} ${pathTemplate}`);
    const pointer = `openapi.json#/paths/${pathTemplate.replace(/~/g, "~0").replace(/\//g, "~1")}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
    const validate = ajv.getSchema(pointer);
    if (!validate) throw new Error(`ajv cannot resolve ${pointer}`);
    if (!validate(body)) {
      throw new Error(`${method} ${pathTemplate} ${status}: the answer does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
    }
  };
}
