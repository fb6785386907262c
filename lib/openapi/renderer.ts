import "server-only";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

/**
 * The browsable API page (/api/docs): Swagger UI from the swagger-ui-dist npm package, served by
 * our own route from node_modules (no CDN: the page works on an offline event network). Only the
 * files listed here are served. next.config.mjs's outputFileTracingIncludes copies them into the
 * standalone build, since they are read by a runtime path.
 */
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

const require = createRequire(import.meta.url);

function distDirectory(): string {
  try {
    return path.dirname(require.resolve("swagger-ui-dist/package.json"));
  } catch {
    return path.join(process.cwd(), "node_modules", "swagger-ui-dist");
  }
}

/** Starts Swagger UI on our document; a file of its own, so the page needs no inline script. */
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true });\n`;

export async function docsAsset(name: string): Promise<{ body: string | Buffer; contentType: string } | null> {
  if (name === "init.js") return { body: INIT_SCRIPT, contentType: "text/javascript; charset=utf-8" };
  const contentType = ASSETS[name];
  if (!contentType) return null;
  return { body: await fs.readFile(path.join(distDirectory(), name)), contentType };
}

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>MLS-GOAT API</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script src="/api/docs/init.js"></script>
</body>
</html>
`;
