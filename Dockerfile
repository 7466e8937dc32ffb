# syntax=docker/dockerfile:1
#
# Solar Tasks images, one target per service:
#   docker build --target api    -t solar-tasks-api .
#   docker build --target worker -t solar-tasks-worker .
# (docker compose builds both; see docker-compose.yml.)
#
# build:   the whole workspace, built by turbo, then `pnpm deploy --prod` of each
#          service: its dist/ plus production dependencies only, workspace
#          packages copied in (not linked), no sources, tests or dev tools.
# runtime: Debian slim Node.js, tini as PID 1 (so SIGTERM reaches Node and
#          zombies are reaped), non-root user, read-only app directory.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
ENV CI=true \
    TURBO_TELEMETRY_DISABLED=1 \
    PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH
# pnpm pinned like the root package.json's packageManager (corepack is not used: see TOOLCHAIN notes).
RUN npm install --global pnpm@12.4.2 && npm cache clean --force
WORKDIR /repo
# Dependencies first, from the lockfile only, so source edits reuse this layer.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --prefer-offline \
 && pnpm exec turbo run build --filter=@solar-tasks/api --filter=@solar-tasks/worker \
 && pnpm --filter @solar-tasks/api deploy --prod --prefer-offline /out/api \
 && pnpm --filter @solar-tasks/worker deploy --prod --prefer-offline /out/worker

FROM ${NODE_IMAGE} AS runtime
# Set by CI: docker build --build-arg VERSION=… --build-arg REVISION=$(git rev-parse HEAD)
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.vendor="Solar CRM" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.documentation="docs/operations.md in the repository"
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini=0.19.* \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data \
 && chown node:node /data
ENV NODE_ENV=production \
    DATA_DIR=/data
WORKDIR /app
ENTRYPOINT ["/usr/bin/tini", "--"]

FROM runtime AS api
LABEL org.opencontainers.image.title="solar-tasks-api" \
      org.opencontainers.image.description="Solar Tasks ingest API (Fastify): enqueue, status, OpenAPI docs"
COPY --from=build /out/api /app
USER node
ENV PORT=3000
EXPOSE 3000
# Ready means Redis answers too: /readyz is 503 while it does not.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# --max-semi-space-size: see services/api/src/node-options.ts (API_NODE_OPTIONS).
CMD ["node", "--enable-source-maps", "--max-semi-space-size=64", "dist/main.js"]

FROM runtime AS worker
LABEL org.opencontainers.image.title="solar-tasks-worker" \
      org.opencontainers.image.description="Solar Tasks worker (BullMQ): runs queued tasks"
COPY --from=build /out/worker /app
# The operator CLI on PATH (docs/cli.md): `docker exec <container> tasks stats`.
RUN printf '#!/bin/sh\nexec node --enable-source-maps /app/dist/cli.js "$@"\n' > /usr/local/bin/tasks \
 && chmod 755 /usr/local/bin/tasks
USER node
ENV WORKER_HEARTBEAT_FILE=/tmp/solar-worker.heartbeat
# Alive while its heartbeat file is fresh (rewritten every 5 s, removed on shutdown).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "dist/healthcheck.js", "/tmp/solar-worker.heartbeat", "30"]
# SIGTERM: stop taking tasks, finish or hand back running ones within
# WORKER_SHUTDOWN_GRACE (25 s), exit 0. Give the container a longer stop timeout.
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/main.js"]
