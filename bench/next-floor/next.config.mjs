// The framework floor (bench/next-floor.bench.ts): the smallest Next app that answers one constant
// JSON body from an App Router route handler and from a Pages Router API route, built like the
// platform (standalone output).
/** @type {import('next').NextConfig} */
const nextConfig = { output: "standalone", poweredByHeader: false };

export default nextConfig;
