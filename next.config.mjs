/** @type {import('next').NextConfig} */
const nextConfig = {
  output: "standalone",
  // Upload route handlers stream their bodies with busboy; keep these native/Node-only packages out of the bundle.
  serverExternalPackages: ["bullmq", "ioredis", "pg", "@prisma/adapter-pg", "busboy", "prom-client"],
  transpilePackages: ["@goat/contracts"],
  poweredByHeader: false,
  // Route handlers read files by runtime paths (DATA_DIR, STORAGE_DIR), which makes the file tracer
  // copy the whole project into .next/standalone; none of these run in the web server.
  outputFileTracingExcludes: {
    "*": ["tests/**", "bench/**", "worker/**", "docs/**", "tools/**", "scripts/**", "test-results/**", "var/**", ".ci/**", "*.md", "Dockerfile", "docker-compose*.yml"],
  },
};

export default nextConfig;
