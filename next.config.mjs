/** @type {import('next').NextConfig} */
const nextConfig = {
  output: "standalone",
  // Upload route handlers stream their bodies with busboy; keep these native/Node-only packages out of the bundle.
  serverExternalPackages: ["bullmq", "ioredis", "pg", "@prisma/adapter-pg", "busboy"],
  transpilePackages: ["@goat/contracts"],
  poweredByHeader: false,
};

export default nextConfig;
