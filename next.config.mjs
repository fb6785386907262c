// Security headers on every answer (pages, API, uploads). The Content-Security-Policy with its
// per-request nonce comes from proxy.ts for pages (and next-auth's HTML under /api/auth/). Swagger UI
// (/api/docs) is static HTML whose scripts are files of this origin and carry no nonce: under the
// pages' 'strict-dynamic' policy a browser would refuse them, so it gets a fixed policy of its own
// that allows this origin's scripts and nothing inline. The JSON API and the upload routes are kept out of the proxy (a JSON answer
// runs no script, so it needs no nonce and the proxy's cost per request is saved on the hottest
// paths; a proxied upload would be cut at 10 MB) and get a fixed policy that allows nothing.
const everyAnswer = [
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
];
// Outside proxy.ts's matcher: every /api/ path but /api/auth/ and /api/docs, and the participants' upload.
const outsideProxy = ["/submit/:task", "/api/:path((?!auth(?:/|$)|docs(?:/|$)).*)"];
const apiDocs = ["/api/docs", "/api/docs/:asset"];
const apiDocsPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");
const servedOverHttps = [{ type: "header", key: "x-forwarded-proto", value: "https" }];

/** @type {import('next').NextConfig} */
const nextConfig = {
  async headers() {
    return [
      { source: "/:path*", headers: everyAnswer },
      ...outsideProxy.map((source) => ({ source, headers: [{ key: "Content-Security-Policy", value: "default-src 'none'; frame-ancestors 'none'" }] })),
      ...apiDocs.map((source) => ({ source, headers: [{ key: "Content-Security-Policy", value: apiDocsPolicy }] })),
      ...[...outsideProxy, ...apiDocs].map((source) => ({ source, has: servedOverHttps, headers: [{ key: "Strict-Transport-Security", value: "max-age=31536000; includeSubDomains" }] })),
    ];
  },
  output: "standalone",
  // Upload route handlers stream their bodies with busboy; keep these native/Node-only packages out of the bundle.
  serverExternalPackages: ["bullmq", "ioredis", "pg", "@prisma/adapter-pg", "busboy", "@node-rs/argon2", "prom-client"],
  transpilePackages: ["@goat/contracts"],
  poweredByHeader: false,
  // Route handlers read files by runtime paths (DATA_DIR, STORAGE_DIR), which makes the file tracer
  // copy the whole project into .next/standalone; none of these run in the web server. Next applies
  // these excludes to the routes' traces only: scripts/prune-standalone.mjs applies the "*" list to
  // the standalone folder after the build (instrumentation.ts's trace brings them in again).
  // /api/docs serves Swagger UI's files from node_modules by a runtime path (lib/openapi/renderer.ts).
  outputFileTracingIncludes: {
    "/api/docs/[asset]": ["./node_modules/swagger-ui-dist/swagger-ui.css", "./node_modules/swagger-ui-dist/swagger-ui-bundle.js", "./node_modules/swagger-ui-dist/package.json"],
  },
  outputFileTracingExcludes: {
    "*": ["tests/**", "bench/**", "worker/**", "docs/**", "tools/**", "scripts/**", "test-results/**", "var/**", ".ci/**", "*.md", "Dockerfile", "docker-compose*.yml"],
  },
};

export default nextConfig;
