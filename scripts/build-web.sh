#!/usr/bin/env bash
# The web app's build (`npm run build`): Next's standalone output in .next/standalone, made whole
# (its static files and public/ copied in, as https://nextjs.org/docs/app/api-reference/config/next-config-js/output
# says to) and given the web server (web-server.ts -> web-server.mjs) that answers the anonymous
# leaderboard poll before Next. Run the result with `node .next/standalone/web-server.mjs`.
set -euo pipefail
cd "$(dirname "$0")/.."
npx next build
standalone=.next/standalone
rm -rf "$standalone/.next/static" "$standalone/public"
cp -a .next/static "$standalone/.next/static"
if [ -d public ]; then cp -a public "$standalone/public"; fi
# What next.config.mjs keeps out of the server but Next copied in with instrumentation.ts's trace.
node scripts/prune-standalone.mjs "$standalone"
# Bundles our own modules (lib/http/early-answers.ts); packages (next) stay imports, resolved in the standalone folder.
npx esbuild web-server.ts --bundle --platform=node --format=esm --target=node20 --packages=external \
  --outfile="$standalone/web-server.mjs" --log-level=warning
# The commit the build was made from, for `npm run bench:load`, which names the build it measured
# (BENCH_APP_DIR may be another checkout's).
node scripts/commit-id.mjs > "$standalone/BUILD_COMMIT"
