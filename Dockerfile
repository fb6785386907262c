# syntax=docker/dockerfile:1
# The web app (target `web`: Next.js standalone output, non-root) and the organisers' tools
# (target `tools`: Prisma migrations and the admin CLI; docker-compose.yml's `migrate` service).
# Build: `docker compose build` (docs/deployment.md).

ARG NODE_IMAGE=node:20.20-bookworm-slim

FROM ${NODE_IMAGE} AS base
# npm 11 settles dependency install scripts with package.json "allowScripts" (all false here: the
# web app needs none, and none of their downloads is wanted; see docs/architecture.md). npm 10 would run them.
RUN npm install --global npm@11.19.1 && npm cache clean --force
WORKDIR /app

FROM base AS deps
COPY package.json package-lock.json ./
COPY contracts/package.json contracts/
COPY worker/package.json worker/
COPY cli/package.json cli/
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY . .
RUN mkdir -p public && scripts/prisma generate && bash scripts/build-web.sh

# Migrations and the admin CLI need the full dependency tree (Prisma CLI, tsx), not the standalone server.
FROM base AS tools
ENV NODE_ENV=production
RUN groupadd --system --gid 10001 goat && useradd --system --uid 10001 --gid goat --home-dir /app goat \
 && mkdir -p /srv/goat/models /srv/goat/data && chown -R goat:goat /srv/goat
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/package.json /app/prisma.config.ts /app/tsconfig.json ./
COPY --from=build /app/scripts ./scripts
COPY --from=build /app/tools ./tools
COPY --from=build /app/lib ./lib
COPY --from=build /app/contracts ./contracts
USER goat
CMD ["scripts/prisma", "migrate", "deploy"]

FROM ${NODE_IMAGE} AS web
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=8000 HOSTNAME=0.0.0.0
WORKDIR /app
RUN groupadd --system --gid 10001 goat && useradd --system --uid 10001 --gid goat --home-dir /app goat \
 && mkdir -p /srv/goat/models/.spool /srv/goat/data && chown -R goat:goat /srv/goat
# The standalone folder holds the traced server, its static files and public/ (scripts/build-web.sh,
# https://nextjs.org/docs/app/api-reference/config/next-config-js/output#automatically-copying-traced-files)
# and our web server, web-server.mjs, which runs Next with the early answers in front.
COPY --from=build --chown=goat:goat /app/.next/standalone ./
USER goat
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "web-server.mjs"]
