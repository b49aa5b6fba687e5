# A chapkit service on the official Bun image. Build and run:
#   docker build -t chapkit-service . && docker run -p 8000:8000 chapkit-service
# or with PostgreSQL: docker compose up (see compose.yml and docs/deploy.md).
FROM oven/bun:1.4-slim

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, so a code change does not reinstall them.
COPY package.json package-lock.json* bun.lock* ./
RUN bun install --production --ignore-scripts

COPY . .

# Listen on every interface inside the container; settings come from the environment (docs/configuration.md).
ENV HOST=0.0.0.0 \
    PORT=8000 \
    LOG_FORMAT=json \
    CHAPKIT_SERVER_DRAIN_DELAY_MS=5000
EXPOSE 8000

USER bun
HEALTHCHECK --interval=10s --timeout=2s --start-period=10s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch('http://127.0.0.1:' + (process.env.PORT ?? 8000) + '/health/live'); process.exit(r.ok ? 0 : 1)"]

# SIGTERM drains: readiness answers 503 for CHAPKIT_SERVER_DRAIN_DELAY_MS, in-flight work finishes, then exit 0.
STOPSIGNAL SIGTERM
CMD ["bun", "run", "examples/quickstart.ts"]
