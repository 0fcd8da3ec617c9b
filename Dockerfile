# syntax=docker/dockerfile:1
# waiter serve: MCP over Streamable HTTP and the webhook listener on port 8790.
#   docker build -t waiter .
#   docker run -p 127.0.0.1:8790:8790 -v waiter-data:/data --env-file waiter.env --stop-timeout 20 --log-driver local waiter
# (a stop lets what is in flight finish, 10 s at most: Docker's own 10 s would cut it short;
# plain HTTP on the host's loopback, for a reverse proxy there to put HTTPS in front; a log of
# 100 MB at most, where Docker's default driver keeps every line).
# Off loopback waiter starts only with authentication configured (WAITER_HTTP_TOKENS or
# WAITER_HTTP_OAUTH): see docs/serve.md.

FROM node:24-bookworm-slim AS build
# better-sqlite3 compiles its native addon where no prebuilt one matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /waiter
COPY package.json package-lock.json ./
# Without scripts: `prepare` builds, and the sources come in below.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json rolldown.config.ts ./
COPY src src
COPY tools tools
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# WAITER_LISTEN is serve's address, WAITER_WEBHOOKS_LISTEN the one `waiter listen` binds.
ENV NODE_ENV=production \
    WAITER_LISTEN=0.0.0.0:8790 \
    WAITER_WEBHOOKS_LISTEN=0.0.0.0:8790 \
    WAITER_DATA_DIR=/data
WORKDIR /waiter
COPY --from=build /waiter/package.json ./
COPY --from=build /waiter/node_modules node_modules
COPY --from=build /waiter/dist dist
RUN mkdir /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 8790
# It asks the port serve's (or listen's) address names, the environment's rather than the image's.
# Every second in its first 10 s, so that compose's service_healthy sees it up within a second or
# two (Docker Engine 25 or later; an older engine checks first 30 s after the start). The syntax
# line above has an older engine's builder take --start-interval, which its own refuses.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --start-interval=1s \
  CMD ["node", "-e", "const urls = [process.env.WAITER_LISTEN, process.env.WAITER_WEBHOOKS_LISTEN].map((a) => /^(.*):(\\d+)$/.exec(a ?? '')).filter(Boolean).map(([, host, port]) => `http://${/^(0\\.0\\.0\\.0|\\[::\\]|::)?$/.test(host) ? '127.0.0.1' : host}:${port}/healthz`); Promise.any(urls.map((url) => fetch(url).then((r) => r.ok || Promise.reject()))).then(() => process.exit(0), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve"]
