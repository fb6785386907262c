// Security headers on every answer (pages, API, uploads). The Content-Security-Policy with its
// per-request nonce comes from proxy.ts; the upload routes, kept out of the proxy (it would cut
// their bodies at 10 MB), answer JSON only and get a fixed policy that allows nothing.
const everyAnswer = [
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
];
const uploadRoutes = ["/submit/:task", "/api/admin/tasks/:task/dataset", "/api/admin/tasks/:task/reference"];
const servedOverHttps = [{ type: "header", key: "x-forwarded-proto", value: "https" }];

/** @type {import('next').NextConfig} */
const nextConfig = {
  async headers() {
    return [
      { source: "/:path*", headers: everyAnswer },
      ...uploadRoutes.map((source) => ({ source, headers: [{ key: "Content-Security-Policy", value: "default-src 'none'; frame-ancestors 'none'" }] })),
      ...uploadRoutes.map((source) => ({ source, has: servedOverHttps, headers: [{ key: "Strict-Transport-Security", value: "max-age=31536000; includeSubDomains" }] })),
    ];
  },
  output: "standalone",
  // Upload route handlers stream their bodies with busboy; keep these native/Node-only packages out of the bundle.
  serverExternalPackages: ["bullmq", "ioredis", "pg", "@prisma/adapter-pg", "busboy", "@node-rs/argon2", "prom-client"],
  transpilePackages: ["@goat/contracts"],
  poweredByHeader: false,
  // Route handlers read files by runtime paths (DATA_DIR, STORAGE_DIR), which makes the file tracer
  // copy the whole project into .next/standalone; none of these run in the web server.
  // /api/docs serves Swagger UI's files from node_modules by a runtime path (lib/openapi/renderer.ts).
  outputFileTracingIncludes: {
    "/api/docs/[asset]": ["./node_modules/swagger-ui-dist/swagger-ui.css", "./node_modules/swagger-ui-dist/swagger-ui-bundle.js", "./node_modules/swagger-ui-dist/package.json"],
  },
  outputFileTracingExcludes: {
    "*": ["tests/**", "bench/**", "worker/**", "docs/**", "tools/**", "scripts/**", "test-results/**", "var/**", ".ci/**", "*.md", "Dockerfile", "docker-compose*.yml"],
  },
};

export default nextConfig;
